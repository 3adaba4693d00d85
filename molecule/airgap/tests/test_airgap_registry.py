"""The site registry (group ``registry``): host state, and every bundle image in it with bundle.json's digest.

Checked with skopeo on the registry host over TLS at the host's own address (molecule.yml sets
``registry_listen_address`` to it, so ``localhost`` does not answer; the site CA in /etc/containers/certs.d)
with the generated password of the htpasswd user ``onprem``, given to ``skopeo login`` on stdin.
"""

import json

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("registry")

REGISTRY = "%s:5000" % onprem_verify.address(onprem_verify.host_names("registry")[0])
BUNDLE = json.loads((onprem_verify.bundle_dir() / "bundle.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def authfile(client):
    """Log in to REGISTRY as onprem (password on stdin); return the auth file's path on the host."""
    auth = onprem_verify.CLIENT_DIR + "/auth.json"
    result = client.run("skopeo login --authfile %s --username onprem --password-stdin %s < %s",
                        auth, REGISTRY, client.secret("site", "registry", "onprem"))
    assert result.rc == 0, result.stderr
    return auth


@pytest.mark.parametrize("name", onprem_verify.REGISTRY_PACKAGES)
def test_package_installed(host, name):
    """CNCF distribution, htpasswd and skopeo are installed."""
    assert host.package(name).is_installed


def test_registry_unit(host):
    """onprem-registry.service is enabled and active; the packaged docker-registry.service is masked and stopped."""
    assert host.service("onprem-registry.service").is_enabled
    assert host.service("onprem-registry.service").is_running
    assert host.service("docker-registry.service").is_masked
    assert not host.service("docker-registry.service").is_running


@pytest.mark.parametrize("path, user, group, mode", [
    ("/etc/onprem-registry/config.yml", "root", "docker-registry", "0640"),
    ("/etc/onprem-registry/htpasswd", "root", "docker-registry", "0640"),
    ("/etc/onprem-registry/tls", "docker-registry", "docker-registry", "0750"),
    ("/etc/onprem-registry/tls/server.crt", "docker-registry", "docker-registry", "0644"),
    ("/etc/onprem-registry/tls/server.key", "docker-registry", "docker-registry", "0600"),
    ("/etc/onprem-registry/ca/ca.crt", "root", "root", "0644"),
    ("/etc/containers/certs.d/%s/ca.crt" % REGISTRY, "root", "root", "0644"),
    ("/etc/systemd/system/onprem-registry.service", "root", "root", "0644"),
    ("/var/lib/onprem-registry", "docker-registry", "docker-registry", "0750"),
])
def test_file_owner_and_mode(host, path, user, group, mode):
    """Configuration, TLS, htpasswd and storage exist with their owner, group and mode."""
    assert onprem_verify.owner_mode(host, path) == (user, group, mode)


def test_htpasswd_holds_a_bcrypt_hash(host):
    """The onprem user's entry is a bcrypt hash, never the password itself."""
    content = host.file("/etc/onprem-registry/htpasswd").content_string
    entries = dict(line.split(":", 1) for line in content.splitlines() if line)
    assert sorted(entries) == ["onprem"]
    assert entries["onprem"].startswith("$2y$")
    plaintext = onprem_verify.credential("site", "registry", "onprem") in content
    assert not plaintext, "htpasswd holds the registry password in plain text"


def test_listening_socket(host):
    """The registry listens on port 5000 at registry_listen_address only, not on loopback."""
    assert host.socket("tcp://%s" % REGISTRY).is_listening
    assert not host.socket("tcp://127.0.0.1:5000").is_listening


def test_bundle_has_the_charts_images():
    """bundle.json lists the fixture chart's three images (container, initContainer, annotation)."""
    assert sorted(image["ref"] for image in BUNDLE["images"]) == ["docker.io/app/one:1.0", "ghcr.io/app/two:1.0", "quay.io/app/multi:1.0"]


@pytest.mark.parametrize("image", BUNDLE["images"], ids=lambda image: image["ref"])
def test_registry_digest_equals_bundle(host, authfile, image):
    """skopeo inspect over TLS with auth: the registry serves the image at the digest bundle.json records."""
    repository = image["ref"].split("/", 1)[1]
    inspected = json.loads(host.check_output("skopeo inspect --authfile %s docker://%s/%s", authfile, REGISTRY, repository))
    assert inspected["Digest"] == image["digest"]
