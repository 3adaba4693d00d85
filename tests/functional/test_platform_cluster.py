"""The platform role end to end against a real cluster: a dry run (``--check --diff``) on a
fresh namespace that shows what would be created and creates nothing, then namespaces, the data-layer and
generated Secrets, the site CA ConfigMap and Secret, the ingress TLS Secret from the site CA, the example chart
(examples/charts/onprem-demo) installed with helm_release, a credential given to the chart in
values only (it reaches the release in the cluster and no output of the ``-vvv`` install), and a
rerun that changes nothing.

Needs a Kubernetes API: ``KUBECONFIG`` pointing at a reachable cluster (any k3s will do;
molecule/cluster runs these tests against its own). Without it every test here is reported as skipped, by name,
with "not provided: Kubernetes API". The control node doubles as the first k3s_server
(local connection): the real playbooks/platform.yml runs with ``--skip-tags
platform_install`` (helm and the Python kubernetes client come from the test
environment instead of apt and the helm download). The release does not wait for its
pods (``wait: false``): the demo image need not be pullable from the test cluster.
"""
import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from skips import skip_missing_tool, skip_not_provided, tool_path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHART = REPO / "examples" / "charts" / "onprem-demo"


def _cluster() -> dict:
    """The cluster's kubeconfig and the tools, or skip (by name, "not provided: Kubernetes API")."""
    kubeconfig = os.environ.get("KUBECONFIG", "")
    if not kubeconfig or not Path(kubeconfig).is_file():
        skip_not_provided("Kubernetes API", "KUBECONFIG pointing at a reachable cluster")
    kubectl, helm = tool_path("kubectl"), tool_path("helm")
    if not kubectl:
        skip_missing_tool("kubectl", "scripts/install-helm.sh")
    if not helm:
        skip_missing_tool("helm", "scripts/install-helm.sh")
    probe = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], capture_output=True,
                           text=True, timeout=30, check=False)
    if probe.returncode != 0:
        skip_not_provided("Kubernetes API", f"KUBECONFIG={kubeconfig} is not reachable: {probe.stderr.strip()[:200]}")
    try:
        import kubernetes  # noqa: F401  (kubernetes.core's modules import it)
    except ImportError:
        skip_missing_tool("kubernetes (Python client)", "pip install kubernetes; the role installs python3-kubernetes")
    return {"kubeconfig": kubeconfig, "kubectl": kubectl, "helm": helm}


def _kubectl(cluster: dict, *args: str) -> str:
    return subprocess.run([cluster["kubectl"], "--kubeconfig", cluster["kubeconfig"], *args], capture_output=True,
                          text=True, timeout=120, check=True).stdout


def _play(tmp: Path, cluster: dict, ns: str, *args: str):
    inventory = tmp / "inventory" / "hosts.yml"
    inventory.parent.mkdir(parents=True, exist_ok=True)
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {"k3s-1": dict(local),
                  "db-1": dict(local, ansible_host="127.0.0.1", postgresql_users=[{"name": "demo"}],
                               postgresql_databases=[{"name": "demo", "owner": "demo"}])},
        "children": {"k3s_server": {"hosts": {"k3s-1": {}}}, "postgres": {"hosts": {"db-1": {}}}}}}))
    variables = {
        "stack_credentials_dir": str(tmp / "credentials"), "ansible_become": False,
        "platform_kubeconfig": cluster["kubeconfig"], "platform_helm_binary": cluster["helm"],
        "platform_work_dir": str(tmp / "work"), "platform_device_plugin": False,
        "platform_namespaces": [{"name": ns, "labels": {"onprem.stack/test": "platform"}}],
        "platform_secrets": [
            {"name": "onprem-demo-auth", "namespace": ns, "data": {
                "admin-password": {"from": {"credential": "site/platform/demo-admin"}}}},
            {"name": "onprem-demo-db", "namespace": ns, "data": {
                "url": {"from": {"database_url": {"database": "demo", "user": "demo"}}},
                "ca.crt": {"from": {"site_ca": True}}}},
        ],
        "platform_releases": [{
            "name": "demo", "namespace": ns, "chart": str(CHART), "wait": False, "timeout": 300,
            "values": {"ingress": {"host": "demo.example.internal", "tlsSecretName": "onprem-demo-tls"},
                       # Taken in values only (as many charts take a password): resolved into a 0600
                       # values file on the host that runs helm, removed after the run.
                       "extra": {"apiToken": {"from": {"credential": "site/platform/demo-api-token"}}}},
            "tls": [{"secret": "onprem-demo-tls", "hosts": ["demo.example.internal"]}],
        }],
    }
    (tmp / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/platform.yml",
                           "-e", f"@{tmp / 'vars.json'}", "--skip-tags", "platform_install", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    cluster = _cluster()
    tmp = tmp_path_factory.mktemp("platform-cluster")
    ns = f"onprem-test-{uuid.uuid4().hex[:8]}"
    try:
        # The guides' "dry run first": on a namespace that does not exist yet.
        dry = _play(tmp, cluster, ns, "--check", "--diff")
        after_dry = {
            "namespace": subprocess.run([cluster["kubectl"], "--kubeconfig", cluster["kubeconfig"], "get", "namespace",
                                         ns], capture_output=True, text=True, timeout=60, check=False),
            "releases": json.loads(subprocess.run([cluster["helm"], "--kubeconfig", cluster["kubeconfig"], "list",
                                                   "-a", "-n", ns, "-o", "json"], capture_output=True, text=True,
                                                  timeout=60, check=True).stdout)}
        first = _play(tmp, cluster, ns, "-vvv")
        again = _play(tmp, cluster, ns)
        yield {"cluster": cluster, "tmp": tmp, "ns": ns, "dry": dry, "after_dry": after_dry, "first": first,
               "again": again}
    finally:
        subprocess.run([cluster["helm"], "--kubeconfig", cluster["kubeconfig"], "uninstall", "demo", "-n", ns],
                       capture_output=True, check=False, timeout=300)
        subprocess.run([cluster["kubectl"], "--kubeconfig", cluster["kubeconfig"], "delete", "namespace", ns,
                        "--wait=false"], capture_output=True, check=False, timeout=120)


def _secret(deployed: dict, name: str) -> dict:
    obj = json.loads(_kubectl(deployed["cluster"], "get", "secret", name, "-n", deployed["ns"], "-o", "json"))
    return {"type": obj["type"], **{k: base64.b64decode(v).decode() for k, v in obj["data"].items()}}


def test_cluster_namespace_created_with_labels(deployed):
    obj = json.loads(_kubectl(deployed["cluster"], "get", "namespace", deployed["ns"], "-o", "json"))
    assert obj["metadata"]["labels"]["onprem.stack/test"] == "platform"


def test_cluster_secrets_hold_generated_and_data_layer_values(deployed):
    tmp = deployed["tmp"]
    auth = _secret(deployed, "onprem-demo-auth")
    assert auth["admin-password"] == (tmp / "credentials" / "site" / "platform" / "demo-admin").read_text().strip()
    db = _secret(deployed, "onprem-demo-db")
    password = (tmp / "credentials" / "db-1" / "postgresql" / "demo").read_text().strip()
    assert db["url"] == f"postgresql://demo:{password}@127.0.0.1:5432/demo?sslmode=require"
    assert db["ca.crt"] == (tmp / "credentials" / "pki" / "ca.crt").read_text()


def test_cluster_site_ca_configmap_and_secret_in_the_namespace(deployed):
    """The site CA the play used (its pki directory on the control node), as ca.crt of the
    ConfigMap and the Opaque Secret site-ca (platform_site_ca_name's default)."""
    ca = (deployed["tmp"] / "credentials" / "pki" / "ca.crt").read_text()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    configmap = json.loads(_kubectl(deployed["cluster"], "get", "configmap", "site-ca", "-n", deployed["ns"],
                                    "-o", "json"))
    assert configmap["data"] == {"ca.crt": ca}
    assert configmap["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "onprem-stack"
    assert _secret(deployed, "site-ca") == {"type": "Opaque", "ca.crt": ca}


def test_cluster_tls_secret_valid_for_its_hosts_and_signed_by_the_site_ca(deployed):
    tmp = deployed["tmp"]
    tls = _secret(deployed, "onprem-demo-tls")
    assert tls["type"] == "kubernetes.io/tls"
    (tmp / "got.crt").write_text(tls["tls.crt"])
    san = subprocess.run(["openssl", "x509", "-in", str(tmp / "got.crt"), "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True, check=True).stdout
    assert "DNS:demo.example.internal" in san
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(tmp / "credentials" / "pki" / "ca.crt"),
                             str(tmp / "got.crt")], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_cluster_example_chart_release_deployed(deployed):
    cluster = deployed["cluster"]
    status = json.loads(subprocess.run([cluster["helm"], "--kubeconfig", cluster["kubeconfig"], "status", "demo",
                                        "-n", deployed["ns"], "-o", "json"], capture_output=True, text=True,
                                       check=True).stdout)
    assert status["info"]["status"] == "deployed"
    listed = json.loads(subprocess.run([cluster["helm"], "--kubeconfig", cluster["kubeconfig"], "list", "-n",
                                        deployed["ns"], "-o", "json"], capture_output=True, text=True,
                                       check=True).stdout)
    assert [r["chart"] for r in listed if r["name"] == "demo"] == ["onprem-demo-0.1.0"]
    ingress = json.loads(_kubectl(cluster, "get", "ingress", "-n", deployed["ns"], "-o", "json"))["items"]
    assert ingress and ingress[0]["spec"]["tls"][0]["secretName"] == "onprem-demo-tls"


def test_cluster_rerun_changes_nothing(deployed):
    recap = deployed["again"].stdout.split("PLAY RECAP", 1)[1]
    assert "changed=0" in recap.split("k3s-1", 1)[1].splitlines()[0], recap


def test_cluster_dry_run_on_a_fresh_namespace_shows_the_release_and_creates_nothing(deployed):
    """``--check --diff`` before anything exists: the run succeeds, reports the namespace, the Secrets
    and the release as changes, shows the chart's manifests in the diff, and leaves neither the
    namespace nor a release behind."""
    dry, ns = deployed["dry"], deployed["ns"]
    assert "NotFound" in deployed["after_dry"]["namespace"].stderr, deployed["after_dry"]["namespace"]
    assert deployed["after_dry"]["releases"] == []
    recap = dry.stdout.split("PLAY RECAP", 1)[1]
    assert "changed=0" not in recap.split("k3s-1", 1)[1].splitlines()[0], recap
    assert "kind: Deployment" in dry.stdout and "name: demo-onprem-demo" in dry.stdout, dry.stdout[-6000:]
    assert "Apply | namespaces" in dry.stdout and ns in dry.stdout


def test_cluster_value_only_credential_in_the_release_and_in_no_output(deployed):
    """The credential referenced in the release's values is in the release helm stored (in the
    cluster), and in no output of the three runs (the install at ``-vvv``); no other generated
    credential is either, and no secret values file is left on the host."""
    cluster, tmp = deployed["cluster"], deployed["tmp"]
    token = (tmp / "credentials" / "site" / "platform" / "demo-api-token").read_text().strip()
    stored = json.loads(subprocess.run([cluster["helm"], "--kubeconfig", cluster["kubeconfig"], "get", "values",
                                        "demo", "-n", deployed["ns"], "-o", "json"], capture_output=True, text=True,
                                       timeout=60, check=True).stdout)
    assert stored["extra"] == {"apiToken": token}
    values = [p.read_text().strip() for p in (tmp / "credentials").rglob("*") if p.is_file() and "pki" not in p.parts]
    secrets = [v for v in values if len(v) >= 12]
    assert token in secrets and len(secrets) >= 3
    scanned = 0
    for run in ("dry", "first", "again"):
        proc = deployed[run]
        for secret in secrets:
            assert secret not in proc.stdout and secret not in proc.stderr, f"a credential in the output of {run}"
        scanned += len(proc.stdout) + len(proc.stderr)
    assert len(deployed["first"].stdout) > 4 * len(deployed["again"].stdout), "the install ran at -vvv"
    print(f"\nsecret scan: {len(secrets)} credentials, {scanned} characters of output of 3 runs, 0 hits")
    assert not list((tmp / "work").rglob("secret-*")), "secret values files removed after the run"
