"""module_utils/_helm_versions.py (and its use by _helm.py) without a helm binary: version
parsing, the minimum version and the per-major flag mapping (HelmCapabilities). The same mapping is checked against
the real helm 3 and helm 4 binaries in tests/functional/test_helm_cli.py."""
import pytest

from ansible_collections.onprem.stack.plugins.module_utils._helm import Helm
from ansible_collections.onprem.stack.plugins.module_utils._helm_versions import (
    HelmCapabilities, HelmError, HelmVersion, check_supported, parse_version)


@pytest.mark.parametrize("text,release", [
    ("v3.10.1", (3, 10, 1)),                 # helm version --template '{{ .Version }}', helm 3 release
    ("v4.1.4\n", (4, 1, 4)),                 # helm 4 release; surrounding whitespace tolerated
    ("v4.1.4+g05fa379", (4, 1, 4)),          # --short style with build metadata
    ("v3.0+unreleased", (3, 0, 0)),          # build from an untagged tree: no patch
    ("v4.0.0-rc.1", (4, 0, 0)),              # pre-release
    ("3.8.0", (3, 8, 0)),                    # without the v
])
def test_parse_version(text, release):
    v = parse_version(text)
    assert v == release and (v.major, v.minor, v.patch) == release and str(v) == text.strip()


@pytest.mark.parametrize("text", ["", "version.BuildInfo{Version:\"v3.10.1\"}", "v3", "vX.Y.Z", "v3.10.1 extra"])
def test_unparsable_version_names_the_text(text):
    with pytest.raises(HelmError, match="cannot read the helm version") as exc:
        parse_version(text)
    assert repr(text.strip()) in str(exc.value)


def test_versions_order_by_number_not_text():
    assert parse_version("v3.10.1") > parse_version("v3.9.4") > (3, 8, 0)
    assert parse_version("v3.8.0") == HelmVersion(3, 8) and parse_version("v4.0.0") >= (3, 13, 0)


@pytest.mark.parametrize("text", ["v3.8.0", "v3.10.1", "v3.19.2", "v4.0.0", "v4.1.4"])
def test_supported_versions(text):
    check_supported(parse_version(text))


@pytest.mark.parametrize("text,needed", [
    ("v3.7.2", "needs helm v3.8.0 or newer"),
    ("v2.17.0", "needs helm v3.8.0 or newer"),
    ("v5.0.0", "supports helm 3 (v3.8.0 or newer) and helm 4 only"),
])
def test_unsupported_versions_name_found_and_needed(text, needed):
    with pytest.raises(HelmError) as exc:
        check_supported(parse_version(text), "/opt/helm")
    assert "/opt/helm is helm %s" % text in str(exc.value) and needed in str(exc.value)


def test_helm3_before_3_13():
    caps = HelmCapabilities(parse_version("v3.10.1"))
    assert caps.major == 3
    assert caps.rollback_on_failure == "--atomic" and caps.force_replace == "--force"
    assert caps.list_all == ["--all"]
    assert caps.dry_run() == ["--dry-run"] and not caps.server_dry_run
    with pytest.raises(HelmError, match="needs helm 3.13.0 or newer; this helm is v3.10.1"):
        caps.dry_run("server")
    assert caps.server_side("upgrade") == [] and caps.server_side("install") == []


def test_helm3_from_3_13():
    caps = HelmCapabilities(parse_version("v3.13.0"))
    assert caps.rollback_on_failure == "--atomic" and caps.list_all == ["--all"]
    assert caps.dry_run("client") == ["--dry-run=client"] and caps.dry_run("server") == ["--dry-run=server"]
    assert caps.server_side("upgrade") == []


def test_helm4():
    caps = HelmCapabilities(parse_version("v4.1.4"))
    assert caps.major == 4
    assert caps.rollback_on_failure == "--rollback-on-failure" and caps.force_replace == "--force-replace"
    assert caps.list_all == []
    assert caps.dry_run() == ["--dry-run=client"] and caps.dry_run("server") == ["--dry-run=server"]
    assert caps.server_side("upgrade") == ["--server-side=auto"] and caps.server_side("install") == []


def test_unknown_dry_run_mode():
    with pytest.raises(ValueError, match="client or server"):
        HelmCapabilities(parse_version("v4.1.4")).dry_run("none")


class _RecordingModule:
    """Stands in for AnsibleModule.run_command only: helm 3.7 (older than supported)
    cannot be had on the CI host. Answers ``helm version --template '{{ .Version }}'``
    with ``version`` (helm's documented output: the bare version string) and records
    every command."""

    tmpdir = "/nonexistent"

    def __init__(self, version):
        self.version, self.commands = version, []

    def run_command(self, cmd, environ_update=None):
        self.commands.append(cmd)
        if cmd[1] == "version":
            return 0, self.version, ""
        return 0, "", ""


def test_old_helm_is_refused_before_any_other_command(tmp_path):
    module = _RecordingModule("v3.7.2")
    helm = Helm(module, "/opt/helm-3.7/helm")
    with pytest.raises(HelmError, match=r"/opt/helm-3.7/helm is helm v3.7.2; onprem.stack needs helm v3.8.0"):
        helm.package("/charts/app", str(tmp_path))
    assert module.commands == [["/opt/helm-3.7/helm", "version", "--template", "{{ .Version }}"]]


def test_version_is_detected_once():
    module = _RecordingModule("v4.1.4")
    helm = Helm(module, "/usr/bin/helm")
    assert helm.capabilities.rollback_on_failure == "--rollback-on-failure"
    assert helm.capabilities.major == 4
    assert [c[1] for c in module.commands] == ["version"]
