"""Shared helpers of the Molecule testinfra verifiers (``molecule/<scenario>/tests/test_*.py``).

Molecule's testinfra verifier runs ``pytest --connection=ansible --ansible-inventory=<inventory dir>``
in the scenario directory with the ``MOLECULE_*`` environment (``MOLECULE_INVENTORY_FILE`` among it);
``molecule/pytest.ini`` puts this directory on ``sys.path`` so that every scenario imports this module.

The one place that knows:

- which inventory hosts a test module runs on (``hosts()``, for ``testinfra_hosts``), and how to reach
  them: the scenario hosts, which Ansible reaches over SSH through scripts/ssh-proxy.sh
  (``.config/molecule/config.yml``), through testinfra's ssh backend with the same ssh_config and a
  ControlPersist master (one ssh session per command); hosts of a podman connection through its podman
  backend (``podman exec``); any other connection through testinfra's ansible backend;
- where the control node keeps generated credentials and the site CA (``credential_path()``,
  ``credential()``, ``site_ca()``), the same defaults as ``lookup('onprem.stack.stack_dir', ...)``;
- how a client host gets the site CA and a credential (``Client.put()``: an ``ansible.builtin.copy``
  from the control node, so no secret is ever on a command line, in a command string or in a
  test's output) and runs a command that uses them (``Client.run()``); a password the test itself
  holds (a supplied or a wrong one) goes the same way (``Client.put_value()``);
- which secret values a scenario has (``generated_secrets()``, ``supplied_secrets()``) and how to look for
  them in bytes (``SecretScan``), for the secret scans; every command line the verifier ran is recorded
  (``verify_commands_log()``, by molecule/conftest.py) so that the scan covers the verify steps too.
"""

import functools
import os
import pathlib
import posixpath
import re
import shlex
import subprocess
import tempfile

import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

# Ansible connection plugins whose hosts are containers on this machine: reached with `podman exec`
# (testinfra's ansible backend would start one `ansible` process per command for them).
PODMAN_CONNECTIONS = ("podman", "containers.podman.podman")

# The ssh_config of `scripts/podman-ssh.sh molecule`, as the scenario inventory passes it (``-F <path>`` in
# ansible_ssh_common_args): hosts reached with it are podman containers behind scripts/ssh-proxy.sh.
MOLECULE_SSH_CONFIG = re.compile(r"(?:^|\s)-F\s*(\S*/\.cache/molecule-ssh/ssh_config)(?:\s|$)")

# Directory on a client host holding what Client.put() copies there (site CA, credentials), mode 0700.
CLIENT_DIR = "/root/onprem-verify"

# Host state the roles promise, as (path, user, group, mode) rows for test_file_owner_and_mode tests of every
# scenario that installs the service (values from roles/<role>/tasks/*.yml).
POSTGRESQL_CONF = "/etc/postgresql/17/main"
POSTGRESQL_PACKAGES = ["postgresql-17", "postgresql-17-pgvector", "postgresql-client-17", "python3-psycopg2"]
POSTGRESQL_UNITS = ["postgresql@17-main.service", "onprem-postgresql-backup.timer"]
POSTGRESQL_FILES = [
    (POSTGRESQL_CONF + "/tls", "postgres", "postgres", "0750"),
    (POSTGRESQL_CONF + "/tls/server.crt", "postgres", "postgres", "0644"),
    (POSTGRESQL_CONF + "/tls/server.key", "postgres", "postgres", "0600"),
    (POSTGRESQL_CONF + "/conf.d/50-onprem.conf", "postgres", "postgres", "0644"),
    (POSTGRESQL_CONF + "/pg_hba.conf", "postgres", "postgres", "0640"),
    (POSTGRESQL_CONF + "/pg_ident.conf", "postgres", "postgres", "0640"),
    ("/usr/local/sbin/onprem-postgresql-backup", "root", "root", "0755"),
    ("/etc/systemd/system/onprem-postgresql-backup.service", "root", "root", "0644"),
    ("/etc/systemd/system/onprem-postgresql-backup.timer", "root", "root", "0644"),
    ("/var/backups/postgresql", "postgres", "postgres", "0700"),
]
REDIS_PACKAGES = ["redis-server", "redis-tools"]
REGISTRY_PACKAGES = ["docker-registry", "apache2-utils", "skopeo"]
REDIS_FILES = [
    ("/etc/redis/redis.conf", "redis", "redis", "0640"),
    ("/etc/redis/users.acl", "redis", "redis", "0600"),
    ("/etc/redis/users.acl.next", "redis", "redis", "0600"),
    ("/usr/local/sbin/onprem-redis-check", "root", "root", "0755"),
]


def inventory_dir():
    """Return the Molecule scenario's inventory directory (``pathlib.Path``).

    It is the directory of ``MOLECULE_INVENTORY_FILE``, the one Molecule passes to testinfra as
    ``--ansible-inventory`` and Ansible's ``inventory_dir`` of every host.

    :raises RuntimeError: when ``MOLECULE_INVENTORY_FILE`` is not set (tests run outside Molecule).
    """
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        raise RuntimeError("MOLECULE_INVENTORY_FILE is not set: run these tests with `molecule verify -s <scenario>` "
                           "(or `molecule test`), which sets it to the scenario's inventory")
    return pathlib.Path(path).parent


def _runner():
    """Return testinfra's ``AnsibleRunner`` for the scenario inventory (cached by testinfra per path)."""
    return AnsibleRunner.get_runner(str(inventory_dir()))


def hostvars(name):
    """Return the inventory variables of host ``name`` (dict), as ``ansible-inventory --list`` gives them.

    Values are not templated: a value holding ``{{`` is returned as written.

    :raises KeyError: when the inventory has no host ``name``.
    """
    all_vars = _runner().inventory["_meta"]["hostvars"]
    if name not in all_vars:
        raise KeyError("no host %r in the inventory %s (hosts: %s)" % (name, inventory_dir(), ", ".join(sorted(all_vars))))
    return all_vars[name]


def host_names(pattern):
    """Return the sorted inventory host names (list of str) in group ``pattern`` or matching it (fnmatch).

    :raises RuntimeError: when no host matches, naming the pattern and the inventory.
    """
    names = _runner().get_hosts(pattern)
    if not names:
        raise RuntimeError("no host of the inventory %s matches %r" % (inventory_dir(), pattern))
    return names


def _spec(name):
    """Return the testinfra host spec (str) for inventory host ``name``."""
    variables = hostvars(name)
    if variables.get("ansible_connection") in PODMAN_CONNECTIONS:
        return "podman://%s" % variables.get("ansible_host", name)
    proxied = MOLECULE_SSH_CONFIG.search(str(variables.get("ansible_ssh_common_args", "")))
    if variables.get("ansible_connection") == "ssh" and proxied:
        return "ssh://%s?ssh_config=%s&controlpersist=300" % (variables.get("ansible_host", name), proxied.group(1))
    return "ansible://%s?ansible_inventory=%s" % (name, inventory_dir())


def hosts(pattern):
    """Return testinfra host specs (list of str) for the hosts ``pattern`` names: a module's ``testinfra_hosts``.

    :raises RuntimeError: when no host matches.
    """
    return [_spec(name) for name in host_names(pattern)]


@functools.lru_cache(maxsize=None)
def get_host(name):
    """Return the ``testinfra.host.Host`` of inventory host ``name``, for a test that acts on a second host."""
    return testinfra.get_host(_spec(name))


def inventory_name(host):
    """Return the inventory name (str) of the testinfra ``host`` (one made by ``hosts()`` or ``get_host()``).

    :raises KeyError: when no inventory host is reached under that name.
    """
    reached = host.backend.hostname
    for name in _runner().get_hosts("all"):
        if name == reached or hostvars(name).get("ansible_host") == reached:
            return name
    raise KeyError("testinfra host %r is not a host of the inventory %s" % (reached, inventory_dir()))


def _variable(name, default=None):
    """Return the collection-wide variable ``name`` as the inventory sets it for every host, else ``default``.

    :raises RuntimeError: when hosts disagree or the value is a Jinja template (it cannot be resolved here).
    """
    values = {str(hostvars(h)[name]) for h in _runner().get_hosts("all") if hostvars(h).get(name)}
    if not values:
        return default
    if len(values) > 1 or "{{" in next(iter(values)):
        raise RuntimeError("%s in %s must be one plain path for these tests, found %s" % (name, inventory_dir(), sorted(values)))
    return values.pop()


def credentials_dir():
    """Return the control node's credentials directory (``pathlib.Path``).

    ``stack_credentials_dir`` when the inventory sets it, else ``<inventory dir>/.credentials``: the default of
    ``lookup('onprem.stack.stack_dir', 'credentials')``.
    """
    return pathlib.Path(_variable("stack_credentials_dir") or inventory_dir() / ".credentials")


def bundle_dir():
    """Return the control node's air-gap bundle directory (``pathlib.Path``): ``stack_bundle_dir`` or ``<inventory dir>/bundle``."""
    return pathlib.Path(_variable("stack_bundle_dir") or inventory_dir() / "bundle")


def site_ca():
    """Return the path (``pathlib.Path``) of the site CA certificate on the control node: ``<pki_dir>/ca.crt``.

    ``pki_dir`` defaults to ``<credentials>/pki`` (role onprem.stack.pki).
    """
    return pathlib.Path(_variable("pki_dir") or credentials_dir() / "pki") / "ca.crt"


def credential_path(scope, service, name):
    """Return the path (``pathlib.Path``) of one generated credential on the control node.

    The collection's layout is ``<credentials>/<scope>/<service>/<name>``: ``scope`` is the inventory host name
    of a per-host secret or ``site`` for a site-wide one, ``service`` the role's service (``postgresql``,
    ``redis``, ``registry``), ``name`` the user.

    :param scope: inventory host name or ``site`` (str).
    :param service: ``postgresql``, ``redis``, ``registry``, ... (str).
    :param name: user name (str).
    """
    base = credentials_dir()
    return base / scope / service / name


def credential(scope, service, name):
    """Return a generated credential (str, trailing newline removed) read from the control node.

    See ``credential_path()`` for the arguments. Never put the value in an assertion message, a log or a
    command line: give it to a client host with ``Client.put()``.

    :raises FileNotFoundError: naming the file (not its content) when the role has not generated it.
    """
    path = credential_path(scope, service, name)
    if not path.is_file():
        raise FileNotFoundError("credential %s/%s/%s not found at %s on the control node" % (scope, service, name, path))
    return path.read_text(encoding="utf-8").rstrip("\n")


def verify_commands_log():
    """Return the file (``pathlib.Path``) where molecule/conftest.py records every verifier command line:
    ``$MOLECULE_EPHEMERAL_DIRECTORY/verify-commands.log``; None outside Molecule."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    return pathlib.Path(ephemeral) / "verify-commands.log" if ephemeral else None


# Inventory keys whose string values are secrets the user supplies (postgresql_users[].password, a vaulted
# k3s token, ...): a key named, or ending in _, one of these words.
SECRET_KEY = re.compile(r"(^|_)(password|passphrase|secret|token)$")
# Shortest secret looked for: shorter strings would match by chance (the credential lookup's minimum is 8).
MIN_SECRET_LENGTH = 8


def generated_secrets():
    """Return the secrets on the control node's credentials directory as ``{label: value}`` (str -> bytes).

    A password or token file gives its content (trailing newline removed), label ``generated <relative path>``;
    a PEM private key gives each line of its base64 body (label ``generated <path> line <n>``), so that any part
    of a key is found, except the lines that also occur in its public key or a certificate (public data).
    Certificates and CSRs (``-----BEGIN`` without ``PRIVATE KEY``) are public and skipped.

    :raises AssertionError: naming the file when a secret file is shorter than ``MIN_SECRET_LENGTH``.
    """
    base = credentials_dir()
    found = {}
    files = sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink())
    public = b"".join(p.read_bytes() for p in files if b"-----BEGIN" in p.read_bytes()
                      and b"PRIVATE KEY-----" not in p.read_bytes())
    for path in files:
        rel = path.relative_to(base)
        data = path.read_bytes()
        if b"PRIVATE KEY-----" in data:
            known = public + _public_pem(data)
            for n, line in enumerate(data.splitlines(), 1):
                line = line.strip()
                # A key's last lines encode its public half (an EC key's public point), printed by design.
                if len(line) >= 16 and not line.startswith(b"-----") and line not in known:
                    found["generated %s line %d" % (rel, n)] = line
        elif b"-----BEGIN" not in data:
            value = data.rstrip(b"\n")
            assert len(value) >= MIN_SECRET_LENGTH, "secret file %s holds %d characters" % (path, len(value))
            found["generated %s" % rel] = value
    return found


def _public_pem(private_pem):
    """Return the PEM public key (bytes) of the unencrypted PEM private key ``private_pem`` (bytes), b"" when it
    cannot be loaded (then every line of the key is looked for)."""
    try:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(private_pem, password=None)
        return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ImportError, ValueError, TypeError):
        return b""


def supplied_secrets():
    """Return the secrets the inventory supplies as ``{label: value}`` (str -> bytes): every string under a key
    ``SECRET_KEY`` matches, anywhere in any host's variables (label ``supplied <host>:<path>``), deduplicated by
    value. Templated values (``{{``) cannot be resolved here and are skipped.
    """
    found = {}

    def walk(label, obj, key=""):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk("%s.%s" % (label, k), v, str(k))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                walk("%s[%d]" % (label, i), v, key)
        elif isinstance(obj, str) and SECRET_KEY.search(key) and "{{" not in obj and len(obj) >= MIN_SECRET_LENGTH:
            value = obj.encode("utf-8")
            if value not in found.values():
                found["supplied " + label] = value

    for name in host_names("all"):
        for var, value in sorted(hostvars(name).items()):
            walk("%s:%s" % (name, var), value, var)
    return found


class SecretScan:
    """Search bytes for secret values and count what was searched; hits name the secret by label, never by value.

    :param secrets: ``{label: value}`` (str -> bytes), from ``generated_secrets()`` and ``supplied_secrets()``.
    """

    CHUNK = 16 << 20

    def __init__(self, secrets):
        """Start with no file scanned."""
        self.secrets = dict(secrets)
        self.files = 0
        self.bytes = 0
        self.hits = []  # (where, label)
        self._overlap = max([len(v) for v in self.secrets.values()] + [1]) - 1

    def data(self, where, data):
        """Search ``data`` (bytes) labelled ``where`` (str: a path, ``host:/var/log/...``); count it as one file.

        :returns: the labels of the secrets found in it (list of str).
        """
        self.files += 1
        self.bytes += len(data)
        labels = [label for label, value in self.secrets.items() if value in data]
        self.hits += [(where, label) for label in labels]
        return labels

    def file(self, path):
        """Search the control-node file ``path`` in chunks (any size); a file that vanished or cannot be read is
        not counted. :returns: the labels found (list of str)."""
        labels = set()
        try:
            with open(path, "rb") as f:
                tail = b""
                size = 0
                while True:
                    chunk = f.read(self.CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    window = tail + chunk
                    labels.update(label for label, value in self.secrets.items() if value in window)
                    tail = window[-self._overlap:] if self._overlap else b""
        except OSError:
            return []
        self.files += 1
        self.bytes += size
        self.hits += [(str(path), label) for label in sorted(labels)]
        return sorted(labels)

    def tree(self, root, exclude=(), newer_than=None):
        """Search every regular file under the control-node directory ``root`` (symlinks not followed).

        :param exclude: paths (``pathlib.Path``) whose files are skipped, with everything under them.
        :param newer_than: when given (epoch seconds), only files modified at or after it.
        """
        root = pathlib.Path(root)
        excluded = [pathlib.Path(e) for e in exclude]
        for dirpath, dirnames, filenames in os.walk(root):
            here = pathlib.Path(dirpath)
            dirnames[:] = [d for d in dirnames if here / d not in excluded]
            for name in filenames:
                path = here / name
                if path in excluded:
                    continue
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not stat_is_regular(st.st_mode) or (newer_than is not None and st.st_mtime < newer_than):
                    continue
                self.file(path)

    def figures(self):
        """Return the scan's figures (dict): files, bytes, secrets, hits."""
        return {"files": self.files, "bytes": self.bytes, "secrets": len(self.secrets), "hits": len(self.hits)}


def stat_is_regular(mode):
    """Return True when ``mode`` (``st_mode``) is a regular file's."""
    return (mode & 0o170000) == 0o100000


def ipv4(host):
    """Return the first global IPv4 address (str) of the testinfra ``host`` (``ip -4 -o addr show scope global``).

    Works without a default route (hosts on an ``--internal`` podman network have none).

    :raises AssertionError: when the host has no global IPv4 address.
    """
    out = host.check_output("ip -4 -o addr show scope global")
    # One line per address, `ip -o` format: "<index>: <ifname>    inet <addr>/<prefix> brd ... scope global ..."
    addresses = [line.split()[3].split("/")[0] for line in out.splitlines() if " inet " in line]
    assert addresses, "%s has no global IPv4 address: %r" % (host.backend.hostname, out)
    return addresses[0]


def owner_mode(host, path):
    """Return ``(user, group, mode)`` of ``path`` on the testinfra ``host``, mode as 4 octal digits (``"0640"``).

    :returns: a tuple of str, or None when the path does not exist.
    """
    f = host.file(path)
    if not f.exists:
        return None
    return (f.user, f.group, "%04o" % f.mode)


def ansible_playbook(playbook, *args):
    """Run ``ansible-playbook -i <scenario inventory> <playbook> <args>`` on the control node.

    The environment is the verifier's (Molecule passes the provisioner's, ``ANSIBLE_COLLECTIONS_PATH`` among it).

    :param playbook: path of the playbook (str); relative paths are taken from ``MOLECULE_SCENARIO_DIRECTORY``.
    :returns: ``subprocess.CompletedProcess`` with ``returncode`` and text ``stdout`` (stderr merged into it).
    """
    path = pathlib.Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", ".")) / playbook
    return subprocess.run(["ansible-playbook", "-i", str(inventory_dir()), str(path), *args], check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@functools.lru_cache(maxsize=None)
def address(name):
    """Return the IPv4 address (str) clients use for inventory host ``name`` (``ipv4()`` of it, cached)."""
    return ipv4(get_host(name))


class Client:
    """A host used as a client of the site: files from the control node in ``CLIENT_DIR``, commands that read them.

    :param host: a ``testinfra.host.Host`` made by ``hosts()`` or ``get_host()``.
    """

    def __init__(self, host):
        """Remember ``host`` and its inventory name; nothing is copied yet."""
        self.host = host
        self.name = inventory_name(host)
        self._staged = {}

    def put(self, src, dest_name, mode="0600"):
        """Copy the control-node file ``src`` to ``CLIENT_DIR/<dest_name>`` on the client; return that path (str).

        Uses ``ansible.builtin.copy`` through the scenario inventory (testinfra's ``AnsibleRunner``), so a
        secret goes from file to file and never through a command line. A file already put is not copied again.

        :param src: path on the control node (str or ``pathlib.Path``).
        :param dest_name: file name under ``CLIENT_DIR`` (str; ``dir/name`` makes the directory, mode 0700).
        :param mode: octal mode of the copy (str), ``0600`` by default.
        :raises AssertionError: when the copy fails, with Ansible's message (copy reports no file content).
        """
        dest = "%s/%s" % (CLIENT_DIR, dest_name)
        if self._staged.get(dest) == str(src):
            return dest
        self.host.check_output("install -d -m 0700 %s %s", CLIENT_DIR, posixpath.dirname(dest))
        args = "src=%s dest=%s mode=%s" % (shlex.quote(str(src)), shlex.quote(dest), mode)
        result = _runner().run_module(self.name, "ansible.builtin.copy", args, check=False)
        assert not result.get("failed"), "copying %s to %s:%s failed: %s" % (src, self.name, dest, result.get("msg"))
        self._staged[dest] = str(src)
        return dest

    def put_value(self, value, dest_name):
        """Put a secret the test itself holds (a supplied password, a wrong one) on the client as a 0600 file
        ``CLIENT_DIR/<dest_name>``; return its path (str). The value goes through a 0600 file in a private
        temporary directory of the control node, removed at once, and ``put()``: never a command line.
        """
        with tempfile.TemporaryDirectory(prefix="onprem-verify-") as tmp:
            src = pathlib.Path(tmp) / "value"
            src.touch(mode=0o600)
            src.write_text(value, encoding="utf-8")
            self._staged.pop("%s/%s" % (CLIENT_DIR, dest_name), None)
            return self.put(src, dest_name)

    def site_ca(self):
        """Put the site CA certificate on the client (``CLIENT_DIR/site-ca.crt``, 0644); return its path (str)."""
        return self.put(site_ca(), "site-ca.crt", mode="0644")

    def secret(self, scope, service, name):
        """Put one generated credential on the client (``CLIENT_DIR/<scope>-<service>-<name>``, 0600); return its path."""
        return self.put(credential_path(scope, service, name), "%s-%s-%s" % (scope, service, name))

    def run(self, command, *args, env_files=None):
        """Run ``command`` (testinfra quoting: ``%s`` placeholders filled with quoted ``args``) on the client.

        :param env_files: ``{VARIABLE: path on the client}``; each variable is set for the command to the content
            of the file (``VAR="$(cat path)" command``), so a secret staged by ``put()`` reaches the program
            through its environment only.
        :returns: testinfra ``CommandResult`` (``rc``, ``stdout``, ``stderr``; its command holds no secret).
        """
        prefix = "".join('%s="$(cat %s)" ' % (var, shlex.quote(path)) for var, path in sorted((env_files or {}).items()))
        return self.host.run(prefix + command, *args)

    def psql(self, server, sql, user="app", dbname="appdb", sslmode="verify-full", rootcert=None, wrong_password=False):
        """Run ``sql`` with psql on the client against inventory host ``server`` over the network.

        Connects to the server's IPv4 address, port 5432, as ``user`` with its generated password (credential
        ``<server>/postgresql/<user>``, in ``PGPASSWORD``), ``sslrootcert`` the site CA unless ``rootcert`` is given.
        ``wrong_password=True`` sends a made-up password instead. Needs psql on the client.

        :returns: testinfra ``CommandResult``; stdout is psql's unaligned, tuples-only output (``-At``).
        """
        dsn = "host=%s port=5432 dbname=%s user=%s sslmode=%s sslrootcert=%s" % (
            address(server), dbname, user, sslmode, rootcert or self.site_ca())
        if wrong_password:
            return self.run("psql %s -Atc %s", dsn, sql, env_files={"PGPASSWORD": self.put_value("not-the-password", "wrong-password")})
        return self.run("psql %s -v ON_ERROR_STOP=1 --quiet -Atc %s", dsn, sql,
                        env_files={"PGPASSWORD": self.secret(server, "postgresql", user)})

    def redis_cli(self, server, *words, user="app"):
        """Run ``redis-cli <words>`` on the client against inventory host ``server`` (its IPv4 address, port 6379).

        ``user`` authenticates as that ACL user with its generated password (credential ``<server>/redis/<user>``,
        in ``REDISCLI_AUTH``); ``user=None`` sends no AUTH; ``user="default"`` tries the default user with a
        made-up password (also from a staged file). Needs redis-cli on the client.

        :returns: testinfra ``CommandResult``.
        """
        base = "redis-cli -h %s -p 6379 --no-auth-warning" % address(server)
        placeholders = " %s" * len(words)
        if user is None:
            return self.run(base + placeholders, *words)
        if user == "default":
            return self.run(base + " --user default" + placeholders, *words,
                            env_files={"REDISCLI_AUTH": self.put_value("not-the-password", "wrong-password")})
        return self.run(base + " --user %s" + placeholders, user, *words, env_files={"REDISCLI_AUTH": self.secret(server, "redis", user)})

    def cleanup(self):
        """Remove ``CLIENT_DIR`` (site CA and credentials) from the client."""
        self.host.run("rm -rf %s", CLIENT_DIR)
        self._staged.clear()
