"""Shared helpers of the Molecule testinfra verifiers (``molecule/<scenario>/tests/test_*.py``).

Molecule's testinfra verifier runs ``pytest --connection=ansible --ansible-inventory=<inventory dir>``
in the scenario directory with the ``MOLECULE_*`` environment (``MOLECULE_INVENTORY_FILE`` among it);
``molecule/pytest.ini`` puts this directory on ``sys.path`` so that every scenario imports this module.

The one place that knows:

- which inventory hosts a test module runs on (``hosts()``, for ``testinfra_hosts``), and how to reach
  them: podman hosts through testinfra's podman backend (``podman exec``), any other connection
  through testinfra's ansible backend;
- where the control node keeps generated credentials and the site CA (``credential_path()``,
  ``credential()``, ``site_ca()``), the same defaults as ``lookup('onprem.stack.stack_dir', ...)``;
- how a client host gets the site CA and a credential (``Client.put()``: an ``ansible.builtin.copy``
  from the control node, so no secret is ever on a command line, in a command string or in a
  test's output) and runs a command that uses them (``Client.run()``).
"""

import functools
import os
import pathlib
import shlex
import subprocess

import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

# Ansible connection plugins whose hosts are containers on this machine: reached with `podman exec`
# (testinfra's ansible backend would start one `ansible` process per command for them).
PODMAN_CONNECTIONS = ("podman", "containers.podman.podman")

# Directory on a client host holding what Client.put() copies there (site CA, credentials), mode 0700.
CLIENT_DIR = "/root/onprem-verify"


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
    # Files the roles of this branch write (until they move to the layout above):
    # <host>/postgresql/<user> (already the layout), <host>/redis_<user>, registry/<user>.
    if service == "redis":
        return base / scope / ("redis_" + name)
    if scope == "site":
        return base / service / name
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


class Client:
    """A host used as a client of the site: files from the control node in ``CLIENT_DIR``, commands that read them.

    :param host: a ``testinfra.host.Host`` made by ``hosts()`` or ``get_host()``.
    """

    def __init__(self, host):
        """Remember ``host`` and its inventory name; nothing is copied yet."""
        self.host = host
        self.name = inventory_name(host)

    def put(self, src, dest_name, mode="0600"):
        """Copy the control-node file ``src`` to ``CLIENT_DIR/<dest_name>`` on the client; return that path (str).

        Uses ``ansible.builtin.copy`` through the scenario inventory (testinfra's ``AnsibleRunner``), so a
        secret goes from file to file and never through a command line.

        :param src: path on the control node (str or ``pathlib.Path``).
        :param dest_name: file name under ``CLIENT_DIR`` (str).
        :param mode: octal mode of the copy (str), ``0600`` by default.
        :raises AssertionError: when the copy fails, with Ansible's message (copy reports no file content).
        """
        self.host.check_output("install -d -m 0700 %s", CLIENT_DIR)
        dest = "%s/%s" % (CLIENT_DIR, dest_name)
        args = "src=%s dest=%s mode=%s" % (shlex.quote(str(src)), shlex.quote(dest), mode)
        result = _runner().run_module(self.name, "ansible.builtin.copy", args, check=False)
        assert not result.get("failed"), "copying %s to %s:%s failed: %s" % (src, self.name, dest, result.get("msg"))
        return dest

    def run(self, command, *args, env_files=None):
        """Run ``command`` (testinfra quoting: ``%s`` placeholders filled with quoted ``args``) on the client.

        :param env_files: ``{VARIABLE: path on the client}``; each variable is set for the command to the content
            of the file (``VAR="$(cat path)" command``), so a secret staged by ``put()`` reaches the program
            through its environment only.
        :returns: testinfra ``CommandResult`` (``rc``, ``stdout``, ``stderr``; its command holds no secret).
        """
        prefix = "".join('%s="$(cat %s)" ' % (var, shlex.quote(path)) for var, path in sorted((env_files or {}).items()))
        return self.host.run(prefix + command, *args)

    def cleanup(self):
        """Remove ``CLIENT_DIR`` (site CA and credentials) from the client."""
        self.host.run("rm -rf %s", CLIENT_DIR)
