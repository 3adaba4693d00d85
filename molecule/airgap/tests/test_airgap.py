"""Every air-gapped host: no route out, and apt reads only the bundle's repository.

The hosts sit on a podman ``--internal`` network (molecule/airgap/network.sh). The archive's address is resolved
on the control node (which reaches it), so the check covers connections by address as well as by name.
"""

import socket

import onprem_verify

testinfra_hosts = onprem_verify.hosts("all")

BUNDLE_REPO = "file:/var/lib/onprem-bundle/repos/debian-13"
ROLE_PACKAGES = {
    "postgres": onprem_verify.POSTGRESQL_PACKAGES,
    "redis": onprem_verify.REDIS_PACKAGES,
    "registry": onprem_verify.REGISTRY_PACKAGES,
}

# Tries a TCP connection to each argument, port 80; prints the error of each, exits non-zero naming the first
# target it reached.
NO_EGRESS = """
import socket, sys
for target in sys.argv[1:]:
    try:
        socket.create_connection((target, 80), timeout=5).close()
    except OSError as exc:
        print("%s: %s" % (target, exc))
    else:
        sys.exit("%s:80 is reachable from %s" % (target, socket.gethostname()))
"""


def archive_address():
    """deb.debian.org's IPv4 address as the control node resolves it (str); a known Fastly address if it cannot."""
    try:
        return socket.getaddrinfo("deb.debian.org", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except OSError:
        return "151.101.2.132"


def installed_origins(host, package):
    """Return the origins (list of str, e.g. ``file:/var/lib/... ./ Packages``) of the installed version of ``package``.

    Parses ``apt-cache policy`` (apt's documented output: the installed version's line starts with ``***``, its
    origins follow, indented deeper, one per line as ``<priority> <uri> <suite> <type>`` or ``<priority>
    /var/lib/dpkg/status``, until the next version line).
    """
    lines = host.check_output("apt-cache policy %s", package).splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith("*** ")]
    assert starts, "%s is not installed on %s" % (package, host.backend.hostname)
    origins = []
    for line in lines[starts[0] + 1:]:
        if not line.startswith(" " * 6):  # version lines are indented 5 (" *** " or 5 spaces), origins 8
            break
        origins.append(" ".join(line.split()[1:]))
    return origins


def test_no_egress(host):
    """TCP connections to the Debian archive fail at once, by name and by address."""
    result = host.run("python3 -c %s %s %s", NO_EGRESS, "deb.debian.org", archive_address())
    assert result.rc == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2, result.stdout


def test_apt_reads_only_the_bundle(host):
    """The only site in apt's index targets is the bundle repository copied to the host."""
    sites = set(host.check_output("apt-get indextargets --format '$(SITE)'").split())
    assert sites == {BUNDLE_REPO}


def test_apt_sources(host):
    """The bundle source is the host's one source (0644 root); the host's own sources.list is kept aside."""
    assert onprem_verify.owner_mode(host, "/etc/apt/sources.list.d/onprem-bundle.sources") == ("root", "root", "0644")
    assert "URIs: " + BUNDLE_REPO in host.file("/etc/apt/sources.list.d/onprem-bundle.sources").content_string
    main = host.file("/etc/apt/sources.list")
    assert not main.exists or main.size == 0
    assert host.file("/etc/apt/onprem-disabled-sources/sources.list").size > 0


def test_packages_come_from_the_bundle(host):
    """The packages of the roles a host runs are installed in the version the bundle repository offers."""
    name = onprem_verify.inventory_name(host)
    packages = [package for group, role_packages in ROLE_PACKAGES.items() if name in onprem_verify.host_names(group)
                for package in role_packages]
    assert packages, "%s is in none of the groups %s" % (name, sorted(ROLE_PACKAGES))
    origins = {package: installed_origins(host, package) for package in packages}
    assert all(any(o.startswith(BUNDLE_REPO + " ") for o in found) for found in origins.values()), origins
