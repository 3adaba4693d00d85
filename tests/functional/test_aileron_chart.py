"""examples/aileron rendered with Aileron's real chart keeps none of the chart's default secrets.

The chart is public (github.com/aileron-platform/aileron, directory helm/aileron) but
not part of this repository, and the CI has no internet: give a checkout of that
directory in AILERON_CHART_DIR, or the tests are skipped ("not provided"). The
example was written for the chart at commit c68b81492215cfea6a5658ee7bf6dfd4b9262849
(chart 0.1.0, with Keycloak and coturn).

The release values are taken from examples/aileron/group_vars/all/platform.yml and
rendered with ``helm template`` (helm 3 ``helm`` and helm 4 ``helm4``, each where
installed) as the platform role passes them: release name and namespace of the
entry, the values without their credential references, then the resolved references
as a second values file (module_utils/_value_refs.py splits and joins them, as for
helm_release's secret_values_files). A reference resolves to a random string
(``database_password``, ``credential``: one per user or credential file) or to a URL
with that password in the form the platform role builds (``database_url``,
``redis_url``, the example's db-1 address); no reference is left unresolved.

The chart's default secrets are read from its own values.yaml: every string leaf
under a key whose name has a secret word (password, secret, token, key, credential),
and the password of every URL in a default string. Such a default is found in the
rendered manifest when, in a Secret (``data`` decoded, ``stringData``), a ConfigMap
``data``, a container's ``env[].value``, ``args`` or ``command``:

- it is the password of a URL (``scheme://user:PASSWORD@host``), or
- the place is named like a secret (the Secret key, ConfigMap key or env name has a
  secret word) and the value equals the default, or
- the default is at least 12 characters long and occurs in the value (a password
  inside ``--user=name:PASSWORD``, a JSON document).

Shorter defaults (``postgres``, ``admin``) are only caught the first two ways: they
also occur as ordinary words (``KC_DB: postgres``, the admin user's name).
"""
import base64
import json
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_collections.onprem.stack.plugins.module_utils._value_refs import (
    find_references, resolved_tree, without_references)
from skips import skip_missing_tool, skip_not_provided, tool_path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "aileron" / "group_vars" / "all" / "platform.yml"
# The example's first postgres / redis host (hosts.yml: db-1), its ports and redis_tls_enabled.
DB_ADDRESS, REDIS_SCHEME = "10.20.0.41", "rediss"
SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "credential", "credentials")
# Names of objects, not secret values: secretKeyRef, existingSecret, secretName.
NAMING_WORDS = ("name", "ref", "existing", "file", "path")
LONG_DEFAULT = 12
_URL_RE = re.compile(r"[a-z][a-z0-9+.-]*://[^:/@\s]*:([^@\s]+)@", re.I)
_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _words(key):
    """The lower-case words of a key: ``adminPassword`` -> [admin, password]; ``SECRET_KEY`` -> [secret, key]."""
    return [w.lower() for w in _WORD_RE.findall(str(key))]


def _secret_name(key):
    """Whether a key (values key, Secret or ConfigMap key, env name) names a secret value."""
    words = _words(key)
    return any(w in SECRET_WORDS for w in words) and not any(w in NAMING_WORDS for w in words)


def _leaves(tree, path=()):
    """(path tuple, value) of every scalar leaf of a values tree (dict/list)."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, path + (str(k),))
    elif isinstance(tree, list):
        for n, v in enumerate(tree):
            yield from _leaves(v, path + (n,))
    else:
        yield path, tree


def chart_default_secrets(values):
    """{default string: values path "a.b.c"} of a chart's values.yaml (dict): string leaves
    under a secret-named key, and URL passwords of any string leaf."""
    found = {}
    for path, value in _leaves(values):
        if not isinstance(value, str) or not value.strip() or value.strip().isdigit():
            continue  # a number under a "token" key is a lifetime (ACCESS_TOKEN_EXPIRE_MINUTES)
        where = ".".join(str(p) for p in path)
        if any(_secret_name(p) for p in path if isinstance(p, str)):
            found.setdefault(value, where)
        for password in _URL_RE.findall(value):
            found.setdefault(password, where + " (URL password)")
    return found


def manifest_places(docs):
    """(place, name, value) of every value a manifest hands to a workload: Secret data
    (base64-decoded) and stringData, ConfigMap data, containers' env values, args and
    command. ``place`` says where ("Secret/x data[k]"), ``name`` is the key or env name."""
    for doc in docs:
        kind, meta = doc.get("kind"), doc.get("metadata") or {}
        obj = f"{kind}/{meta.get('name')}"
        if kind == "Secret":
            for k, v in (doc.get("data") or {}).items():
                yield f"{obj} data[{k}]", k, base64.b64decode(v).decode("utf-8", "replace")
            for k, v in (doc.get("stringData") or {}).items():
                yield f"{obj} stringData[{k}]", k, str(v)
        elif kind == "ConfigMap":
            for k, v in (doc.get("data") or {}).items():
                yield f"{obj} data[{k}]", k, str(v)
        spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        for group in ("initContainers", "containers"):
            for c in spec.get(group) or []:
                for e in c.get("env") or []:
                    if "value" in e:
                        yield f"{obj} {c['name']} env[{e['name']}]", e["name"], str(e["value"])
                for field in ("args", "command"):
                    for n, v in enumerate(c.get(field) or []):
                        yield f"{obj} {c['name']} {field}[{n}]", "", str(v)


def surviving_defaults(defaults, docs):
    """[(values path, place)] of chart defaults (``chart_default_secrets``) still in the manifest."""
    hits = []
    for place, name, value in manifest_places(docs):
        passwords = set(_URL_RE.findall(value))
        for default, where in defaults.items():
            if (default in passwords or (_secret_name(name) and value == default)
                    or (len(default) >= LONG_DEFAULT and default in value)):
                hits.append((where, place))
    return hits


def keycloak_admin_unread(docs):
    """Why Keycloak would ignore the admin password the manifest hands it, or None.

    ``docs``: manifest documents (dicts). The Keycloak Deployment's first container is
    read: its image tag's major version and the names of its env. Keycloak reads
    ``KC_BOOTSTRAP_ADMIN_USERNAME``/``KC_BOOTSTRAP_ADMIN_PASSWORD`` from 26.0 on, and only
    ``KEYCLOAK_ADMIN``/``KEYCLOAK_ADMIN_PASSWORD`` before (keycloak.org/server/
    bootstrap-admin-recovery; the 26.0.0 release notes). A tag that is not a version
    (``latest``) is reported, since which variables it reads cannot be told.
    """
    dep = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-keycloak"))
    container = dep["spec"]["template"]["spec"]["containers"][0]
    image = container["image"]
    names = {e["name"] for e in container.get("env") or []}
    major = re.match(r"(\d+)\.", image.rsplit(":", 1)[-1])
    if not major:
        return f"{image}: the tag is not a version, so which admin variables it reads is unknown"
    if "KC_BOOTSTRAP_ADMIN_PASSWORD" in names and int(major.group(1)) < 26:
        return f"{image} reads KEYCLOAK_ADMIN_PASSWORD, the manifest sets KC_BOOTSTRAP_ADMIN_PASSWORD (read from 26.0)"
    if "KC_BOOTSTRAP_ADMIN_PASSWORD" not in names and "KEYCLOAK_ADMIN_PASSWORD" not in names:
        return f"{image}: no admin password variable in the manifest"
    return None


def _release():
    return next(r for r in yaml.safe_load(EXAMPLE.read_text())["platform_releases"] if r["name"] == "aileron")


def _resolve(ref, passwords):
    """A stand-in for a reference's value (``ref``: its ``from`` mapping). ``passwords``
    ({(kind, name): str}) keeps one random password per database user, Redis user and
    credential file, so that a URL carries the same password as the plain reference."""
    def password(kind, name):
        return passwords.setdefault((kind, name), secrets.token_urlsafe(24))
    (kind, arg), = [(k, v) for k, v in ref.items() if k not in ("length", "chars")]
    if kind == "credential":
        return password(kind, arg)
    if kind == "database_password":
        return password("postgresql", arg["user"])
    if kind == "database_url":
        return (f"postgresql://{arg['user']}:{password('postgresql', arg['user'])}@{DB_ADDRESS}:5432/"
                f"{arg['database']}?sslmode={arg.get('sslmode', 'require')}")
    if kind == "redis_url":
        return f"{REDIS_SCHEME}://{arg['user']}:{password('redis', arg['user'])}@{DB_ADDRESS}:6379/{arg.get('db', 0)}"
    raise AssertionError(f"no stand-in for the reference kind {kind}")


def release_values_files(release, directory):
    """(values file, secret values file, {(kind, name): password}) of a release, as the platform role
    passes them to helm: the values without references, then the resolved references."""
    refs, in_lists = find_references(release["values"])
    assert not in_lists, in_lists
    passwords = {}
    plain, secret = directory / "values.json", directory / "secret-values.json"
    plain.write_text(json.dumps(without_references(release["values"])))
    secret.write_text(json.dumps(resolved_tree(refs, [_resolve(r["from"], passwords) for r in refs])))
    return plain, secret, passwords


@pytest.fixture(scope="module")
def chart_dir():
    path = os.environ.get("AILERON_CHART_DIR", "")
    if not path:
        skip_not_provided("the Aileron chart", "AILERON_CHART_DIR: a checkout of helm/aileron of "
                          "github.com/aileron-platform/aileron")
    chart = Path(path)
    assert (chart / "Chart.yaml").is_file() and (chart / "values.yaml").is_file(), \
        f"AILERON_CHART_DIR={path} is not a chart directory (Chart.yaml and values.yaml expected)"
    return chart


@pytest.fixture(params=["helm", "helm4"])
def rendered(request, chart_dir, tmp_path):
    """({(kind, name): stand-in password}, manifest documents) of the example rendered by helm 3 or helm 4."""
    binary = tool_path(request.param)
    if not binary:
        skip_missing_tool(request.param, "scripts/install-helm.sh")
    release = _release()
    plain, secret, passwords = release_values_files(release, tmp_path)
    res = subprocess.run([binary, "template", release["name"], str(chart_dir), "--namespace", release["namespace"],
                          "-f", str(plain), "-f", str(secret)], capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr
    return passwords, [d for d in yaml.safe_load_all(res.stdout) if d]


def test_every_reference_has_a_stand_in(tmp_path):
    """The stand-ins cover every reference of the example's values (runs without the chart)."""
    release = _release()
    refs = find_references(release["values"])[0]
    assert {".".join(r["path"]) for r in refs} == {
        "postgres.auth.password", "workspaceOperator.env.PLATFORM_DATABASE_URL",
        "workspaceOperator.env.PLATFORM_REDIS_URL", "keycloak.auth.adminPassword", "coturn.credential"}
    plain, secret, passwords = release_values_files(release, tmp_path)
    assert "{{" not in plain.read_text()
    assert find_references(json.loads(plain.read_text())) == ([], [])
    resolved = json.loads(secret.read_text())
    assert find_references(resolved) == ([], [])
    assert all(isinstance(v, str) and v for _path, v in _leaves(resolved)), resolved.keys()
    assert set(passwords) == {("postgresql", "aileron"), ("redis", "aileron"),
                              ("credential", "site/platform/aileron-keycloak-admin"),
                              ("credential", "site/platform/aileron-turn")}


def test_no_chart_default_secret_survives(chart_dir, rendered):
    defaults = chart_default_secrets(yaml.safe_load((chart_dir / "values.yaml").read_text()))
    assert defaults, "the chart's values.yaml has no default secret: is AILERON_CHART_DIR the Aileron chart?"
    docs = rendered[1]
    hits = surviving_defaults(defaults, docs)
    assert not hits, "chart defaults still in the manifest:\n" + "\n".join(f"{w} -> {p}" for w, p in hits)


@pytest.fixture(scope="module")
def chart_defaults_rendered(chart_dir):
    """Manifest documents of the chart with its own defaults (helm 3; coturn's two required
    addresses set), rendered once for the module."""
    res = subprocess.run([tool_path("helm"), "template", "aileron", str(chart_dir), "--set",
                          "coturn.externalIp=192.0.2.1,coturn.frontendHost=192.0.2.1"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    return [d for d in yaml.safe_load_all(res.stdout) if d]


def test_the_scan_finds_the_chart_defaults(chart_dir, rendered, chart_defaults_rendered):
    """The same scan on the chart rendered with its own defaults finds them (the scan can fail)."""
    defaults = chart_default_secrets(yaml.safe_load((chart_dir / "values.yaml").read_text()))
    found = {w for w, _where in surviving_defaults(defaults, chart_defaults_rendered)}
    assert {"postgres.auth.password", "keycloak.auth.adminPassword", "workspaceManager.env.SECRET_KEY",
            "coturn.credential"} <= found, found


def test_workspace_manager_reads_the_secret_last(rendered):
    """Kubernetes takes the last env entry of a name: the manager's URLs and SECRET_KEY come from aileron-secrets."""
    docs = rendered[1]
    manager = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-workspace-manager"))
    env = {}
    for entry in manager["spec"]["template"]["spec"]["containers"][0]["env"]:
        env[entry["name"]] = entry
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY"):
        assert env[name].get("valueFrom", {}).get("secretKeyRef") == {"name": "aileron-secrets", "key": name}, env[name]


def test_keycloak_coturn_and_operator_get_the_site_values(rendered):
    passwords, docs = rendered
    db_password = passwords[("postgresql", "aileron")]
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    chart_secret = next(d for (k, n), d in by_name.items() if k == "Secret" and n.endswith("-secrets"))
    assert chart_secret["stringData"]["keycloak-admin-password"] == \
        passwords[("credential", "site/platform/aileron-keycloak-admin")]
    assert chart_secret["stringData"]["postgres-password"] == db_password

    def env_of(suffix):
        dep = next(d for (k, n), d in by_name.items() if k == "Deployment" and n.endswith(suffix))
        out = {}
        for entry in dep["spec"]["template"]["spec"]["containers"][0].get("env") or []:
            out[entry["name"]] = entry.get("value")
        return dep, out

    keycloak = env_of("-keycloak")[1]
    assert keycloak["KC_DB_URL"].startswith("jdbc:postgresql://10.20.0.41:5432/keycloak?")
    operator_dep, operator = env_of("-workspace-operator")
    assert operator["PLATFORM_DATABASE_URL"] == \
        f"postgresql://aileron:{db_password}@10.20.0.41:5432/aileron?sslmode=require"
    assert operator["PLATFORM_REDIS_URL"] == f"rediss://aileron:{passwords[('redis', 'aileron')]}@10.20.0.41:6379/0"
    coturn = env_of("-coturn")[0]
    args = coturn["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--external-ip=10.20.0.11" in args
    assert f"--user=aileron:{passwords[('credential', 'site/platform/aileron-turn')]}" in args


def test_public_hosts_and_storage(rendered):
    """Hosts under publicRouting.baseDomain (nothing left on aileron.localhost); every PVC on local-path."""
    docs = rendered[1]
    text = yaml.safe_dump_all(docs)
    assert "aileron.localhost" not in text
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    hosts = {r["host"] for r in ingress["spec"]["rules"]}
    assert hosts == {"aileron.example.com", "manager.aileron.example.com", "keycloak.aileron.example.com"}
    pvcs = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert pvcs, "the chart makes the knowledge-bases PVC"
    for pvc in pvcs:
        assert pvc["spec"].get("storageClassName") == "local-path", pvc["metadata"]["name"]
        assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"], pvc["metadata"]["name"]
    for sts in (d for d in docs if d["kind"] == "StatefulSet"):
        for claim in sts["spec"].get("volumeClaimTemplates") or []:
            assert claim["spec"].get("storageClassName") == "local-path", sts["metadata"]["name"]


def test_keycloak_reads_the_generated_admin_password(rendered, chart_defaults_rendered):
    """The example's Keycloak image reads the admin variables the chart writes; the chart's own
    pin (25.0.0 at c68b814, with KC_BOOTSTRAP_ADMIN_*) does not."""
    assert keycloak_admin_unread(rendered[1]) is None
    text = yaml.safe_dump_all(chart_defaults_rendered)
    if "KC_BOOTSTRAP_ADMIN_PASSWORD" in text and ":25." in text:
        assert "reads KEYCLOAK_ADMIN_PASSWORD" in (keycloak_admin_unread(chart_defaults_rendered) or "")
