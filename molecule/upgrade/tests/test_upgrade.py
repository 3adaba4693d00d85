"""Faults healed by a re-run, and upgrades that keep data (issue 8, sections 4 and 5).

Runs on the converged ``onprem-upgrade`` host, in file order (each step builds on the one before):

1. ``test_data_written``: 1000 rows with pgvector embeddings in ``appdb.items`` and 100 Redis keys (AOF and RDB on);
   the table's row count and checksum (md5 of every row in id order) are the baseline every later step compares.
2. ``test_tuning_change_changes_only_what_it_governs``: site.yml with one PostgreSQL tuning variable changed changes
   exactly the drop-in and the restart; the setting is in effect, the data are intact.
3. ``test_redis_config_change_keeps_keys``: site.yml with ``redis_maxmemory`` changed rewrites redis.conf and restarts
   Redis (persistence on): every key survives.
4. ``test_converge_killed_while_postgresql_is_configured``: ansible-playbook is SIGKILLed right after the drop-in was
   written, before its restart handler ran; the re-run completes, applies the pending setting and a third run
   changes nothing.
5. ``test_postgresql_restarted_while_extensions_are_created``: the vector extension of ``scratchdb`` is dropped and
   PostgreSQL is restarted over and over while site.yml creates it again (that run is stopped once it is past the
   extension step); the re-run completes.
6. ``test_minor_version_upgrade``: only where the archive offers two versions of postgresql-17; otherwise recorded
   as skipped by name in make test's summary (``molecule:upgrade:minor-version``).

Every program here is the real one (PostgreSQL, Redis, apt, ansible-playbook). Secrets never reach a command
line: psql runs as the ``postgres`` user over the local socket (peer), redis-cli gets the generated password of
``app`` from a file staged once for the module (conftest's ``client`` fixture, removed at the end).

The site.yml runs share one jsonfile fact cache, new for each session (``gathering=smart``): the first run's
Preflight play gathers the host's facts with the real ``setup`` module, every later play and run reuses them
(the host's facts do not change here; the converge and idempotence steps gather as a user's run does). Cost:
about 2 min on an idle 2-core host.
"""

import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import onprem_verify

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", pathlib.Path(__file__).resolve().parents[3]))
HOST = "onprem-upgrade"
ROWS = 1000
KEYS = 100
UNIT = "postgresql@17-main.service"

# The rows and the checksum: deterministic vectors, md5 over every row in id order.
CHECKSUM_SQL = "SELECT count(*) || ' ' || md5(string_agg(id || ':' || embedding::text, ',' ORDER BY id)) FROM items"

_baseline = {}
# The jsonfile fact cache of this session's site.yml runs (set by the fixture facts_cache).
_facts = {}


@pytest.fixture(scope="module")
def host():
    """The converged host (testinfra)."""
    return onprem_verify.get_host(HOST)


@pytest.fixture(scope="module", autouse=True)
def facts_cache(tmp_path_factory):
    """A new, empty fact cache directory for this module's ansible-playbook runs (see ``_env``)."""
    _facts["dir"] = tmp_path_factory.mktemp("facts")
    yield _facts["dir"]
    _facts.clear()


def psql(host, sql, db="appdb"):
    """Run ``sql`` as the ``postgres`` superuser over the local socket (peer auth, no password); return stdout."""
    return host.check_output("runuser -u postgres -- psql -d %s -v ON_ERROR_STOP=1 -Atc %s", db, sql)


def redis(client, *words):
    """Run ``redis-cli`` on the host against 127.0.0.1 as ACL user ``app`` (password from a staged file).

    :param client: the ``client`` fixture (``onprem_verify.Client`` of the host): the password is copied once.
    """
    res = client.run("redis-cli -h 127.0.0.1 -p 6379 --no-auth-warning --user app" + " %s" * len(words), *words,
                     env_files={"REDISCLI_AUTH": client.secret(HOST, "redis", "app")})
    assert res.rc == 0 and not res.stdout.startswith(("ERR", "NOPERM", "WRONGPASS")), res.stdout + res.stderr
    return res.stdout


def redis_values(client):
    """Return the values (list of str) of keys app:k1..app:k100."""
    return redis(client, "MGET", *["app:k%d" % i for i in range(1, KEYS + 1)]).split()


def site(*args, env=None):
    """Run site.yml on the scenario inventory; return ``(returncode, output, changed task names)``.

    The changed names are those of tasks and handlers whose result line for the host is ``changed:`` (default
    stdout callback, https://docs.ansible.com/ansible/latest/collections/ansible/builtin/default_callback.html).
    """
    cmd = ["ansible-playbook", "-i", str(onprem_verify.inventory_dir()), str(PROJECT / "site.yml"), *args]
    res = subprocess.run(cmd, env=_env(env), check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=900)
    return res.returncode, res.stdout, changed_tasks(res.stdout)


def _env(extra=None):
    """The environment of an ansible-playbook run: no colour; facts from this session's jsonfile cache, gathered
    by the first run that finds it empty (``gathering=smart`` skips a play's ``setup`` for a host in the cache)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_FORCE_COLOR", "PY_COLORS")}
    env["ANSIBLE_NOCOLOR"] = "true"
    env.update(ANSIBLE_GATHERING="smart", ANSIBLE_CACHE_PLUGIN="jsonfile",
               ANSIBLE_CACHE_PLUGIN_CONNECTION=str(_facts["dir"]))
    env.update(extra or {})
    return env


def changed_tasks(output):
    """Return the sorted names of the tasks and handlers reported ``changed`` in default-callback ``output``."""
    names, current = set(), None
    for line in output.splitlines():
        m = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.*)\] \*+$", line)
        if m:
            current = m.group(1)
        elif line.startswith("changed: ") and current:
            names.add(current.split(" : ", 1)[-1])
    return sorted(names)


def assert_data_intact(host, client):
    """The table's count and checksum and every Redis key equal the baseline."""
    assert psql(host, CHECKSUM_SQL) == _baseline["pg"]
    assert redis_values(client) == _baseline["redis"]


def test_data_written(host, client):
    """Rows with vectors and Redis keys exist and the baseline is taken (the later tests compare with it)."""
    psql(host, "CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, embedding vector(3)); "
               "INSERT INTO items SELECT i, format('[%%s,%%s,%%s]', i, i * 2, i %% 7)::vector "
               "FROM generate_series(1, %d) i ON CONFLICT DO NOTHING" % ROWS)
    redis(client, "MSET", *[w for i in range(1, KEYS + 1) for w in ("app:k%d" % i, "v%d" % i)])
    _baseline["pg"] = psql(host, CHECKSUM_SQL)
    _baseline["redis"] = redis_values(client)
    assert _baseline["pg"].startswith("%d " % ROWS)
    assert _baseline["redis"] == ["v%d" % i for i in range(1, KEYS + 1)]
    # The nearest neighbour of [1,2,1] is row 1: the vectors are real pgvector values.
    assert psql(host, "SELECT id FROM items ORDER BY embedding <-> '[1,2,1]' LIMIT 1") == "1"


def test_tuning_change_changes_only_what_it_governs(host, client):
    """postgresql_work_mem changed: exactly the drop-in and the restart change; the setting is in effect."""
    rc, out, changed = site("-e", "postgresql_work_mem=12MB")
    assert rc == 0, out[-6000:]
    assert changed == ["Configure | postgresql.conf drop-in", "Restart postgresql"], out[-6000:]
    assert psql(host, "SHOW work_mem") == "12MB"
    assert_data_intact(host, client)


def test_redis_config_change_keeps_keys(host, client):
    """redis_maxmemory changed with persistence on: redis.conf and the restart change; every key survives."""
    rc, out, changed = site("-e", "postgresql_work_mem=12MB", "-e", "redis_maxmemory=96mb")
    assert rc == 0, out[-6000:]
    assert any("redis.conf" in name for name in changed) and any("Restart redis" in name for name in changed), changed
    assert [n for n in changed if "redis" not in n.lower()] == [], changed
    # (CONFIG GET is an admin command the ACL user may not run: the file and the restart tell.)
    assert host.check_output("grep '^maxmemory ' /etc/redis/redis.conf").split()[1] in ("96mb", str(96 * 1024 * 1024))
    assert_data_intact(host, client)


def test_converge_killed_while_postgresql_is_configured(host, client):
    """SIGKILL of ansible-playbook after the drop-in changed, before its restart handler: the re-run heals it.

    Without the role's pending-settings check the re-run would see an unchanged drop-in, never restart, and
    leave the server on the old work_mem.
    """
    cmd = ["ansible-playbook", "-i", str(onprem_verify.inventory_dir()), str(PROJECT / "site.yml"),
           "-e", "postgresql_work_mem=20MB", "-e", "redis_maxmemory=96mb"]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    seen, killed, lines = False, False, []
    for line in proc.stdout:
        lines.append(line)
        if "postgresql.conf drop-in]" in line:
            seen = True
        elif seen and line.startswith("changed: "):
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    proc.wait(timeout=60)
    assert killed, "the drop-in task never reported changed:\n" + "".join(lines)[-4000:]
    assert psql(host, "SHOW work_mem") == "12MB", "the killed run got as far as the restart"

    rc, out, changed = site("-e", "postgresql_work_mem=20MB", "-e", "redis_maxmemory=96mb")
    assert rc == 0, out[-6000:]
    assert "Configure | postgresql.conf drop-in" not in changed, changed  # already written by the killed run
    assert "Restart postgresql" in changed, changed
    assert psql(host, "SHOW work_mem") == "20MB"
    rc, out, changed = site("-e", "postgresql_work_mem=20MB", "-e", "redis_maxmemory=96mb")
    assert rc == 0 and changed == [], out[-6000:]
    assert_data_intact(host, client)


def test_postgresql_restarted_while_extensions_are_created(host, client):
    """PostgreSQL restarted again and again while site.yml creates scratchdb's extension: the re-run completes."""
    psql(host, "DROP EXTENSION IF EXISTS vector", db="scratchdb")
    stop = threading.Event()
    restarts = []

    def restart_loop():
        while not stop.is_set():
            restarts.append(host.run("systemctl restart %s", UNIT).rc)
            time.sleep(0.5)

    cmd = ["ansible-playbook", "-i", str(onprem_verify.inventory_dir()), str(PROJECT / "site.yml"),
           "-e", "postgresql_work_mem=20MB", "-e", "redis_maxmemory=96mb"]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    thread = None
    for line in proc.stdout:
        if "Databases | databases]" in line and thread is None:
            thread = threading.Thread(target=restart_loop)
            thread.start()
        elif thread is not None and re.match(r"^TASK \[(?!.*Databases \| extensions)", line):
            break
    stop.set()
    if thread:
        thread.join()
    # Past the extension step the run has nothing left to prove (the re-run below does all of it again): stopped.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.stdout.read()
    proc.wait(timeout=300)
    assert thread is not None and restarts, "no restart happened during the extension step"
    host.run("systemctl start %s", UNIT)

    rc, out, _changed = site("-e", "postgresql_work_mem=20MB", "-e", "redis_maxmemory=96mb")
    assert rc == 0, out[-6000:]
    assert psql(host, "SELECT extname FROM pg_extension WHERE extname = 'vector'", db="scratchdb") == "vector"
    assert_data_intact(host, client)


def test_minor_version_upgrade(host, client):
    """A newer minor version of postgresql-17 from the archive keeps the data (only where two are offered)."""
    policy = host.check_output("apt-cache policy postgresql-17")
    versions = re.findall(r"^\s+(?:\*\*\* )?(\S+) \d+$", policy.split("Version table:", 1)[-1], re.MULTILINE)
    if len(versions) < 2:
        reason = ("not provided: a second postgresql-17 version in the archive (offered: %s)"
                  % (", ".join(versions) or "none"))
        subprocess.run([sys.executable, str(PROJECT / "scripts" / "test-summary.py"), "skip",
                        "molecule:upgrade:minor-version", reason], check=True)
        pytest.skip(reason)
    older, newer = versions[-1], versions[0]
    for version in (older, newer):  # what an operator does: apt moves the minor version, the cluster stays
        host.check_output("DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-downgrades "
                          "postgresql-17=%s postgresql-client-17=%s", version, version)
    rc, out, _changed = site("-e", "postgresql_work_mem=20MB", "-e", "redis_maxmemory=96mb")
    assert rc == 0, out[-6000:]
    assert newer.split("-")[0] in psql(host, "SELECT version()")
    assert_data_intact(host, client)
