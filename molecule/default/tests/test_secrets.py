"""No secret where it should not be (issue 8, section 3), after converge, idempotence and verify at ``-vvv``.

molecule.yml runs every playbook of the scenario at ``-vvv`` with ``ANSIBLE_LOG_PATH`` set to
``<ephemeral dir>/ansible.log``: the log records all Ansible output (every task result, every command's
``cmd``/``argv``, every ``EXEC`` line). The secrets are every value in the control node's credentials
directory (passwords, tokens, each line of a private key: ``onprem_verify.generated_secrets()``) and every
password the inventory supplies (``onprem_verify.supplied_secrets()``; the scenario supplies two).

Searched, for every secret: the Ansible log; every file under each host's /var/log, /tmp, /var/tmp and
/root/.ansible; each host's journal (``journalctl -o export``: every field, ``_CMDLINE`` included); the
bundle directory when the scenario has one (molecule/default has none: reported as such); and on the control
node everything the run could have written outside the credentials directory: the whole Molecule ephemeral
directory and ~/.ansible, and the files modified since the log's first line under /tmp, /var/tmp, /var/log
and the project directory (.git aside). Excluded, and checked to hold the supplied values (proof that the
search finds what it looks for): the inventory Molecule writes from molecule.yml, where the user supplies them.
Every command line the verifier ran (molecule/conftest.py records them) is in the ephemeral directory, so the
verify steps are covered too; the command lines are also checked on their own, with their count.

The figures (files, bytes, secrets, hits) are printed and written to ``<ephemeral dir>/secret-scan.json``.
It runs last in the scenario's tests (file order), after the client tests of test_default.py. Cost: ~10 s.
"""

import base64
import datetime
import gzip
import io
import json
import os
import pathlib
import re
import stat
import tarfile

import pytest

import onprem_verify

EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."))
PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."))
# The paths of each host searched besides its journal.
HOST_PATHS = ["var/log", "tmp", "var/tmp", "root/.ansible"]
# One entry of the Ansible log (ansible.utils.display's file handler):
# "<date> <time>,<ms> p=<pid> u=<user> n=<name> <level>| <msg>" (ansible-core 2.19; older: " | ").
LOG_ENTRY = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ p=\d+ u=\S+ n=\S+ ?\w*\| ?", re.MULTILINE)
# A command the connection plugin runs, as -vvv logs it: "<host> EXEC <command line>" (ssh, local) or
# "<host> RUN [b'/usr/bin/podman', b'exec', ...]" (containers.podman.podman).
CONNECTION_COMMAND = re.compile(rb"^<[^>]+> (?:EXEC|RUN) (.*)$")
# Keys of a task result (and of its invocation) that hold a command line.
COMMAND_KEYS = {"cmd", "argv", "_raw_params", "command"}
HTPASSWD = "/etc/onprem-registry/htpasswd"
# Where the roles install private keys (Debian's own /etc/ssl/private snakeoil key, 0640 group ssl-cert, aside).
KEY_DIRS = ["/etc/postgresql", "/etc/redis", "/etc/onprem-registry", "/etc/rancher"]


@pytest.fixture(scope="module")
def log_path():
    """The Ansible log of the scenario (``pathlib.Path``): ``ANSIBLE_LOG_PATH`` as Molecule passed it to the
    verifier (molecule/conftest.py moves it to SCENARIO_ANSIBLE_LOG), else <ephemeral dir>/ansible.log."""
    path = pathlib.Path(os.environ.get("SCENARIO_ANSIBLE_LOG") or EPHEMERAL / "ansible.log")
    assert path.is_file() and path.stat().st_size > 0, "no Ansible log at %s: molecule.yml sets ANSIBLE_LOG_PATH" % path
    return path


@pytest.fixture(scope="module")
def secrets():
    """Every generated and every supplied secret, ``{label: bytes}``; both kinds must be present."""
    generated = onprem_verify.generated_secrets()
    supplied = onprem_verify.supplied_secrets()
    assert generated, "no generated secret in %s" % onprem_verify.credentials_dir()
    assert len(supplied) >= 2, "molecule.yml supplies two passwords, found %s" % sorted(supplied)
    return dict(generated, **supplied)


def _run_start(log):
    """Epoch seconds of the log's first entry: the start of the scenario's first Ansible run."""
    with open(log, "rb") as f:
        match = LOG_ENTRY.search(f.read(4096))
    assert match, "%s does not start with an Ansible log entry" % log
    return datetime.datetime.strptime(match.group(1).decode(), "%Y-%m-%d %H:%M:%S").timestamp() - 1


def _inventory_inputs():
    """molecule.yml and the files Molecule writes from it: the user's input, supplied secrets in it."""
    inventory = onprem_verify.inventory_dir()
    scenario = pathlib.Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "."))
    return [scenario / "molecule.yml", EPHEMERAL / "molecule.yml", inventory / "ansible_inventory.yml",
            inventory / "group_vars", inventory / "host_vars"]


def _root_prefix(host):
    """``sudo -n `` when the host is reached as another user than root, else nothing."""
    return "" if host.check_output("id -u").strip() == "0" else "sudo -n "


def _host_bytes(host, command):
    """Run ``command`` (its output gzip-compressed and base64-encoded on the host) and return the output bytes."""
    out = host.run("bash -o pipefail -c %s", "{ %s; } | gzip -1 | base64 -w0" % command)
    assert out.rc == 0, "%s failed on %s: %s" % (command, host.backend.hostname, out.stderr)
    return gzip.decompress(base64.b64decode(out.stdout))


def _scan_host(scan, name):
    """Search host ``name``'s files under HOST_PATHS and its journal; return the journal's _CMDLINE values."""
    host = onprem_verify.get_host(name)
    sudo = _root_prefix(host)
    # tar exits 1 when a file changed while read (the journal is being written): its content is still archived.
    archive = _host_bytes(host, "cd / && { %star --ignore-failed-read -cf - $(ls -d %s 2>/dev/null); [ $? -le 1 ]; }"
                          % (sudo, " ".join(HOST_PATHS)))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar:
            if member.isfile():
                scan.data("%s:/%s" % (name, member.name), tar.extractfile(member).read())
    journal = _host_bytes(host, "%sjournalctl --no-pager -o export" % sudo)
    scan.data("%s:journal" % name, journal)
    return [line[len(b"_CMDLINE="):] for line in journal.splitlines() if line.startswith(b"_CMDLINE=")]


def _log_commands(log):
    """Every command line in the Ansible log: the ``cmd``/``argv``/``_raw_params`` values of each task result
    (printed as JSON after ``=>`` at -vvv) and every command of the connection plugin; as a list of bytes."""
    data = log.read_bytes()
    starts = [m.start() for m in LOG_ENTRY.finditer(data)] + [len(data)]
    commands = []

    def walk(obj):
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key in COMMAND_KEYS and value:
                    commands.append((" ".join(map(str, value)) if isinstance(value, list) else str(value)).encode())
                else:
                    walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    for begin, end in zip(starts, starts[1:]):
        entry = LOG_ENTRY.sub(b"", data[begin:end], count=1)
        head = entry.split(b"\n", 1)[0]
        connection = CONNECTION_COMMAND.search(head)
        if connection:
            commands.append(connection.group(1))
        elif b"=> {" in head:
            try:
                walk(json.loads(entry[entry.index(b"=> {") + 3:]))
            except ValueError:
                continue
    return commands


def test_no_secret_anywhere(secrets, log_path, capsys):
    """Every generated and supplied secret: zero hits in the log, the hosts, the bundle and the control node."""
    scan = onprem_verify.SecretScan(secrets)
    creds = onprem_verify.credentials_dir()
    inputs = _inventory_inputs()
    start = _run_start(log_path)
    scan.file(log_path)
    cmdlines = []
    for name in onprem_verify.host_names("all"):
        cmdlines += _scan_host(scan, name)
    bundle = onprem_verify.bundle_dir()
    if bundle.is_dir():
        scan.tree(bundle)
    scan.tree(EPHEMERAL, exclude=[creds, log_path] + inputs)
    scan.tree(pathlib.Path.home() / ".ansible", exclude=[EPHEMERAL])
    for root in ("/tmp", "/var/tmp", "/var/log"):
        scan.tree(root, exclude=[EPHEMERAL], newer_than=start)
    # .cache holds scripts/sanity.sh's copy of the source tree (molecule.yml among it), not written by the run.
    scan.tree(PROJECT, exclude=[PROJECT / ".git", PROJECT / ".cache", EPHEMERAL] + inputs, newer_than=start)
    figures = dict(scan.figures(), bundle=str(bundle) if bundle.is_dir() else "none in this scenario",
                   journal_cmdlines=len(cmdlines))
    (EPHEMERAL / "secret-scan.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print("\nsecret scan: %(files)d files, %(bytes)d bytes, %(secrets)d secrets, %(hits)d hits (bundle: %(bundle)s)" % figures)
    assert scan.files > 100 and cmdlines, figures
    assert not scan.hits, "secrets found (file, secret): %s" % scan.hits


def test_supplied_secrets_are_where_the_user_put_them(secrets):
    """The scan's control: each supplied value is found in the inventory files it was excluded from."""
    scan = onprem_verify.SecretScan({k: v for k, v in secrets.items() if k.startswith("supplied ")})
    for path in _inventory_inputs():
        if path.is_dir():
            scan.tree(path)
        else:
            scan.file(path)
    assert {hit[1] for hit in scan.hits} == set(scan.secrets), scan.hits


def test_no_secret_on_a_command_line(secrets, log_path, capsys):
    """Command lines alone: the log's cmd/argv/EXEC lines, the hosts' journal _CMDLINE fields and every command
    the verifier ran (psql and redis-cli with passwords among them) hold no secret."""
    log_commands = _log_commands(log_path)
    verify_commands = onprem_verify.verify_commands_log().read_bytes().splitlines()
    scan = onprem_verify.SecretScan(secrets)
    for n, line in enumerate(log_commands):
        scan.data("%s command %d" % (log_path, n), line)
    for n, line in enumerate(verify_commands):
        scan.data("verify command %d" % n, line)
    with capsys.disabled():
        print("\ncommand lines: %d in the Ansible log, %d run by the verifier, %d hits"
              % (len(log_commands), len(verify_commands), len(scan.hits)))
    assert any(b"ss -Hltn" in c for c in log_commands), "no preflight command in the parsed log: the parser missed them"
    assert any(b"psql" in c for c in verify_commands) and any(b"redis-cli" in c for c in verify_commands), \
        "the verifier's client commands were not recorded"
    assert not scan.hits, "secrets on command lines: %s" % scan.hits


def _mode(path):
    return stat.S_IMODE(path.lstat().st_mode)


def test_credentials_modes():
    """The credentials directory and every directory in it 0700; private keys and secret files 0600."""
    base = onprem_verify.credentials_dir()
    wrong = []
    for path in [base] + sorted(base.rglob("*")):
        data = path.read_bytes() if path.is_file() else b""
        if path.is_dir():
            want = 0o700
        elif b"PRIVATE KEY-----" in data or b"-----BEGIN" not in data:
            want = 0o600
        else:
            continue  # certificates and CSRs are public
        if _mode(path) != want:
            wrong.append("%s is %04o, expected %04o" % (path, _mode(path), want))
    assert not wrong, wrong


@pytest.mark.parametrize("name", onprem_verify.host_names("all"))
def test_host_private_keys_and_htpasswd_modes(name):
    """On each host: every PEM private key the roles install (KEY_DIRS) 0600 (0400 allowed), the registry's htpasswd 0640 or
    stricter where the host has one (molecule/default has no registry: the air-gap scenario checks 0640)."""
    host = onprem_verify.get_host(name)
    sudo = _root_prefix(host)
    keys = host.check_output(sudo + "grep -rlZ -e %s $(ls -d " + " ".join(KEY_DIRS) + " 2>/dev/null) | xargs -0r "
                             + sudo + "stat -c %s", "PRIVATE KEY-----", "%a %n")
    rows = [line.split(" ", 1) for line in keys.splitlines()]
    assert rows, "no private key under /etc on %s (PostgreSQL and Redis TLS keys expected)" % name
    assert all(int(row[0], 8) & 0o177 == 0 for row in rows), rows
    htpasswd = host.run(sudo + "stat -c %s %s", "%a", HTPASSWD)
    if htpasswd.rc == 0:
        assert int(htpasswd.stdout, 8) & 0o137 == 0, "%s is %s" % (HTPASSWD, htpasswd.stdout)
