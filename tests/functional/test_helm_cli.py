"""module_utils/_helm.py against the real helm binaries, once per major (helm v3.10.1
and v4.1.4, the helm_binary fixture): version detection, and every flag that
HelmCapabilities chooses is one that binary documents and accepts without a
deprecation warning.

"Accepts" is checked by running the command against a kubeconfig whose API server
refuses connections (127.0.0.1:1): helm parses every flag before it contacts the
cluster, so an unknown or mistyped flag fails with "unknown flag" / "invalid argument"
while a good command line gets as far as "cluster unreachable". No Kubernetes API can
run on the CI host, so the commands' effect on a cluster is not exercised here.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.stack.plugins.module_utils._helm import Helm, HelmError, TemplateParams

REPO = Path(__file__).resolve().parents[2]
CHART = str(REPO / "tests" / "fixtures" / "charts" / "webapp")
WANT = {3: "v3.10.1", 4: "v4.1.4"}  # what scripts/install-helm.sh installs


@pytest.fixture
def module(tmp_path):
    """A real AnsibleModule (no options) whose tmpdir is tmp_path/module-tmp."""
    (tmp_path / "module-tmp").mkdir()
    with patch_module_args({"_ansible_tmpdir": str(tmp_path / "module-tmp"), "_ansible_remote_tmp": str(tmp_path)}):
        return AnsibleModule(argument_spec={})


@pytest.fixture
def helm_env(tmp_path):
    """Environment for helm with its own config/cache dirs and an unreachable API server."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "not-a-secret"}}]}))
    kubeconfig.chmod(0o600)
    return dict(os.environ, KUBECONFIG=str(kubeconfig), HELM_CACHE_HOME=str(tmp_path / "cache"),
                HELM_CONFIG_HOME=str(tmp_path / "config"), HELM_DATA_HOME=str(tmp_path / "data"))


def _helm(binary, env, *args):
    return subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def _accepted(binary, env, *args):
    """Run helm ``args`` against the unreachable cluster; assert helm parsed every flag."""
    p = _helm(binary, env, *args)
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "unreachable" in out, out
    assert "unknown flag" not in out and "invalid argument" not in out, out
    assert "deprecated" not in out, out


def test_version_detection(module, helm_binary):
    helm = Helm(module, helm_binary)
    version = helm.version()
    assert str(version) in WANT.values()
    caps = helm.capabilities
    assert caps.version == version and caps.major == version.major
    assert str(version) == WANT[caps.major]
    short = subprocess.run([helm_binary, "version", "--short"], capture_output=True, text=True, check=True).stdout
    assert short.startswith(str(version) + "+g"), short


def test_flags_are_documented(module, helm_binary, helm_env):
    caps = Helm(module, helm_binary).capabilities
    upgrade = _helm(helm_binary, helm_env, "upgrade", "--help").stdout
    install = _helm(helm_binary, helm_env, "install", "--help").stdout
    listing = _helm(helm_binary, helm_env, "list", "--help").stdout
    for text in (upgrade, install):
        assert "      " + caps.rollback_on_failure + " " in text
    assert "      " + caps.force_replace + " " in upgrade
    assert ("--dry-run string" in upgrade) is caps.server_dry_run
    if caps.major == 3:
        assert "-a, --all " in listing and "lists only releases that are deployed or failed" in listing
        assert "--server-side" not in upgrade
    else:
        assert "--all " not in listing and "lists all releases in any status" in listing
        assert "(\"auto\" defaults the value from the previous chart release's method)" in upgrade
        assert "--atomic" not in upgrade and "      --force " not in upgrade  # hidden: deprecated in helm 4


def test_upgrade_flags_are_accepted(module, helm_binary, helm_env):
    caps = Helm(module, helm_binary).capabilities
    _accepted(helm_binary, helm_env, "upgrade", "--install", "rel", CHART, caps.rollback_on_failure,
              caps.force_replace, *caps.dry_run(), *caps.server_side("upgrade"), "--wait", "--timeout", "10s")
    _accepted(helm_binary, helm_env, "install", "rel", CHART, caps.rollback_on_failure,
              *caps.server_side("install"), "--wait", "--timeout", "10s")
    _accepted(helm_binary, helm_env, "list", "--output", "json", *caps.list_all)


def test_server_dry_run(module, helm_binary, helm_env):
    caps = Helm(module, helm_binary).capabilities
    if caps.server_dry_run:
        _accepted(helm_binary, helm_env, "upgrade", "--install", "rel", CHART, *caps.dry_run("server"))
    else:
        with pytest.raises(HelmError, match="needs helm 3.13.0 or newer; this helm is v3.10.1"):
            caps.dry_run("server")
        # and the reason: this helm takes --dry-run as a boolean only
        p = _helm(helm_binary, helm_env, "upgrade", "--install", "rel", CHART, "--dry-run=server")
        assert 'invalid argument "server" for "--dry-run"' in p.stderr, p.stderr


def test_the_other_majors_flags_are_refused_or_deprecated(module, helm_binary, helm_env):
    """The mapping matters: helm 3 does not know helm 4's flags, helm 4 warns on helm 3's."""
    caps = Helm(module, helm_binary).capabilities
    if caps.major == 3:
        for flag in ("--rollback-on-failure", "--force-replace", "--server-side=auto"):
            p = _helm(helm_binary, helm_env, "upgrade", "--install", "rel", CHART, flag)
            assert "unknown flag" in p.stderr, (flag, p.stderr)
    else:
        p = _helm(helm_binary, helm_env, "upgrade", "--install", "rel", CHART, "--atomic", "--force")
        assert "--atomic has been deprecated" in p.stderr and "--force has been deprecated" in p.stderr, p.stderr
        p = _helm(helm_binary, helm_env, "list", "--all")
        assert "unknown flag: --all" in p.stderr, p.stderr


def test_template_values_file_under_module_tmpdir(module, helm_binary):
    """The values reach helm through a 0600 file in module.tmpdir, removed right after."""
    seen = []
    real_run = module.run_command

    def spy(cmd, **kw):
        if cmd[1] == "template":
            vfile = Path(cmd[cmd.index("--values") + 1])
            seen.append((vfile, vfile.stat().st_mode & 0o777, json.loads(vfile.read_text())))
        return real_run(cmd, **kw)

    module.run_command = spy
    values = {"image": {"tag": "9.9"}}
    out = Helm(module, helm_binary).template(TemplateParams("rel", CHART, values=values))
    assert "ghcr.io/example/web:9.9" in out
    [(vfile, mode, content)] = seen
    assert vfile.parent == Path(module.tmpdir) and mode == 0o600 and content == values
    assert not vfile.exists()
