# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The one place that builds helm command lines (helm v3.8+ and v4 CLI).

Every call is an argv list through ``AnsibleModule.run_command``; a failure raises
:class:`HelmError` with the command, rc, stdout and stderr. The differences between
the helm majors live in :class:`HelmCapabilities` (``_helm_versions.py``) and nowhere else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import tempfile

from ansible_collections.onprem.stack.plugins.module_utils._helm_versions import (
    HelmCapabilities, HelmError, check_supported, parse_version)


# Release states, as helm prints them (helm/helm pkg/release/v1 and, in helm 3,
# pkg/release/status.go; the same list is in `helm status --help`).
STATUSES = ("unknown", "deployed", "uninstalled", "superseded", "failed", "uninstalling",
            "pending-install", "pending-upgrade", "pending-rollback")
PENDING = ("pending-install", "pending-upgrade", "pending-rollback")
# The error helm prints for a release name with no revision (helm/helm
# pkg/storage/driver/driver.go: ErrReleaseNotFound), helm 3 and helm 4 alike.
RELEASE_NOT_FOUND = "release: not found"
MASK = "********"
# Options whose next argument is a secret (helm registry login, helm pull).
_SECRET_FLAGS = ("--password", "-p")


class TemplateParams(object):
    """What ``helm template`` renders.

    :param release: release name (str).
    :param chart: chart directory, .tgz path, or reference (str).
    :param namespace: namespace (str or None).
    :param values: values merged last (dict; written to a temporary file, never on argv).
    :param values_files: values files applied in order before ``values`` (list of str).
    :param version: chart version constraint for repository charts (str or None).
    :param kube_version: Kubernetes version for Capabilities (str or None, e.g. ``1.31.0``).
    :param include_crds: render the chart's ``crds/`` too (bool, default True: every
        object, as image discovery wants it; False: what a release's manifest holds).
    :param no_hooks: leave hooks out (bool, default False; True: what a release's
        manifest holds, hooks being stored apart from it).
    """

    def __init__(self, release, chart, namespace=None, values=None, values_files=None, version=None,
                 kube_version=None, include_crds=True, no_hooks=False):
        self.release = release
        self.chart = chart
        self.namespace = namespace
        self.values = values or {}
        self.values_files = values_files or []
        self.version = version
        self.kube_version = kube_version
        self.include_crds = include_crds
        self.no_hooks = no_hooks


class Cluster(object):
    """The cluster and namespace a release command addresses.

    :param namespace: namespace of the release (str).
    :param kubeconfig: kubeconfig file (str or None: helm's default).
    :param context: kubeconfig context (str or None: the current one).
    """

    def __init__(self, namespace, kubeconfig=None, context=None):
        self.namespace = namespace
        self.kubeconfig = kubeconfig
        self.context = context

    def args(self):
        """The global helm arguments choosing cluster and namespace (list of str)."""
        args = ["--namespace", self.namespace]
        if self.kubeconfig:
            args += ["--kubeconfig", self.kubeconfig]
        if self.context:
            args += ["--kube-context", self.context]
        return args


class ReleaseParams(object):
    """What ``helm install`` / ``helm upgrade`` writes.

    :param name: release name (str).
    :param chart: local chart: directory or .tgz path (str).
    :param values: the user values, all sources merged (dict; through a 0600 file).
    :param description: release description (str; helm_release records the chart's
        content digest there).
    :param wait: wait until the resources are ready (bool).
    :param timeout: seconds helm waits for each operation (int).
    :param atomic: roll back (upgrade) or uninstall (install) on failure (bool).
    :param create_namespace: install only: create the namespace when missing (bool).
    :param replace: install only: reuse the name of a release that was uninstalled with
        its history kept (bool).
    """

    def __init__(self, name, chart, values=None, description=None, wait=True, timeout=300, atomic=True,
                 create_namespace=False, replace=False):
        self.name = name
        self.chart = chart
        self.values = values or {}
        self.description = description
        self.wait = wait
        self.timeout = int(timeout)
        self.atomic = atomic
        self.create_namespace = create_namespace
        self.replace = replace


def timeout_arg(seconds):
    """helm's ``--timeout`` value (a Go duration) for ``seconds`` (int): e.g. ``300s``."""
    return "%ds" % int(seconds)


class Helm(object):
    """helm driven through an AnsibleModule.

    :param module: the AnsibleModule.
    :param binary: path of helm (str or None: found on PATH, required).
    :param env: extra environment (dict), e.g. HELM_CACHE_HOME for offline runs.
    :ivar commands: every command run so far (list of argv lists), secrets masked.
    :ivar secrets: strings masked wherever they appear in a recorded command (set).
    """

    def __init__(self, module, binary=None, env=None):
        self.module = module
        self.bin = binary or module.get_bin_path("helm", required=True)
        self.env = dict(env or {})
        self._capabilities = None
        self.commands = []
        self.secrets = set()

    def _run(self, args, data=None, env=None):
        if self._capabilities is None:  # refuse an unsupported helm before its first command
            self._capabilities = self._detect()
        return self._call(args, data, env)

    def masked(self, cmd):
        """``cmd`` (list of str) with the argument of every ``--password``/``-p`` and
        every string of :attr:`secrets` replaced by ``********``."""
        out = []
        for i, arg in enumerate(cmd):
            if i and cmd[i - 1] in _SECRET_FLAGS:
                arg = MASK
            elif arg.startswith("--password="):
                arg = "--password=" + MASK
            for secret in self.secrets:
                if secret:
                    arg = arg.replace(secret, MASK)
            out.append(arg)
        return out

    def _call(self, args, data=None, env=None):
        cmd = [self.bin] + args
        shown = self.masked(cmd)
        self.commands.append(shown)
        kwargs = {"environ_update": dict(self.env, **(env or {}))}
        if data is not None:
            kwargs["data"] = data
        rc, out, err = self.module.run_command(cmd, **kwargs)
        if rc != 0:
            last = err.strip().splitlines()[-1] if err.strip() else "exit code %d" % rc
            raise HelmError("helm %s failed: %s" % (args[0], last), shown, rc, out, err)
        return out

    def _json(self, args, what):
        out = self._run(args)
        try:
            return json.loads(out)
        except ValueError as exc:
            raise HelmError("helm %s printed no JSON for %s: %s" % (args[0], what, exc), self.commands[-1], 0, out, "")

    def version(self):
        """Return the version of this helm binary (HelmVersion, e.g. ``v3.10.1``).

        Runs ``helm version --template '{{ .Version }}'`` (same output in helm 3 and 4).
        Raises HelmError when helm fails or prints something that is not a version."""
        args = ["version", "--template", "{{ .Version }}"]
        out = self._call(args)
        try:
            return parse_version(out)
        except HelmError as exc:
            raise HelmError("%s: %s" % (self.bin, exc), [self.bin] + args, 0, out, "")

    @property
    def capabilities(self):
        """HelmCapabilities of this binary, detected once (one ``helm version``).

        Raises HelmError when the version cannot be read or is older than 3.8 or not
        3.x/4.x; every other method calls this before its first helm command, so an
        unsupported helm is refused before anything is done."""
        if self._capabilities is None:
            self._capabilities = self._detect()
        return self._capabilities

    def _detect(self):
        version = self.version()
        check_supported(version, self.bin)
        return HelmCapabilities(version)

    @contextlib.contextmanager
    def _values_file(self, values):
        """Write ``values`` (dict) as JSON to a new 0600 file under module.tmpdir; yield its
        path, and remove the file when the block ends (helm has read it)."""
        fd, vfile = tempfile.mkstemp(prefix="values-", suffix=".json", dir=self.module.tmpdir)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(values, f, sort_keys=True)
            yield vfile
        finally:
            os.unlink(vfile)

    def template(self, params):
        """Render ``params`` (TemplateParams) with ``helm template``; return the manifest text (str).

        The values go through a 0600 file under the module's temporary directory
        (``module.tmpdir``, removed by Ansible), deleted as soon as helm returns."""
        with self._values_file(params.values) as vfile:
            args = ["template", params.release, params.chart]
            if params.include_crds:
                args.append("--include-crds")
            if params.no_hooks:
                args.append("--no-hooks")
            if params.namespace:
                args += ["--namespace", params.namespace]
            if params.version:
                args += ["--version", params.version]
            if params.kube_version:
                args += ["--kube-version", params.kube_version]
            for vf in params.values_files:
                args += ["--values", vf]
            args += ["--values", vfile]
            return self._run(args)

    def status(self, cluster, name):
        """The last revision of release ``name`` (``helm status -o json``): a dict in the
        format of helm's Release (helm/helm pkg/release/v1/release.go: name, namespace,
        version, info {status, first_deployed, last_deployed, description, notes},
        config, manifest; the chart is stripped by helm), whatever its status; None when
        the release does not exist. Raises HelmError for any other failure."""
        try:
            return self._json(["status", name] + cluster.args() + ["--output", "json"], "release %s" % name)
        except HelmError as exc:
            if RELEASE_NOT_FOUND in (exc.stderr or ""):
                return None
            raise

    def history(self, cluster, name, max_revisions=20):
        """The newest ``max_revisions`` revisions of release ``name`` (``helm history -o
        json --max N``), oldest first: dicts with revision, updated, status, chart
        (name-version), app_version, description (helm/helm pkg/cmd/history.go
        releaseInfo). [] when the release does not exist."""
        try:
            args = ["history", name] + cluster.args() + ["--max", str(int(max_revisions)), "--output", "json"]
            return self._json(args, "release %s" % name)
        except HelmError as exc:
            if RELEASE_NOT_FOUND in (exc.stderr or ""):
                return []
            raise

    def list_releases(self, cluster, all_namespaces=False):
        """Every release of the namespace (or of all namespaces), in every status
        (``helm list -o json``, with ``--all`` on helm 3 only): a list of dicts (name,
        namespace, revision, updated, status, chart, app_version)."""
        scope = ["--all-namespaces"] if all_namespaces else []
        args = ["list"] + cluster.args() + scope + self.capabilities.list_all + ["--output", "json"]
        return self._json(args, "the release list")

    def install_args(self, cluster, params, values_file):
        """argv (without the binary) of ``helm install`` for ``params`` (ReleaseParams)."""
        caps = self.capabilities
        args = ["install", params.name, params.chart] + cluster.args()
        if params.create_namespace:
            args.append("--create-namespace")
        if params.replace:
            args.append("--replace")
        args += self._common_write_args(params, values_file)
        return args + caps.server_side("install") + ["--output", "json"]

    def upgrade_args(self, cluster, params, values_file):
        """argv (without the binary) of ``helm upgrade`` for ``params`` (ReleaseParams).

        ``--reset-values``: the release's values become exactly ``params.values`` (helm
        otherwise reuses the previous values when none are given)."""
        caps = self.capabilities
        args = ["upgrade", params.name, params.chart] + cluster.args() + ["--reset-values"]
        args += self._common_write_args(params, values_file)
        return args + caps.server_side("upgrade") + ["--output", "json"]

    def _common_write_args(self, params, values_file):
        caps = self.capabilities
        args = ["--values", values_file]
        if params.description:
            args += ["--description", params.description]
        if params.wait:
            args += caps.wait
        if params.atomic:
            args.append(caps.rollback_on_failure)
        return args + ["--timeout", timeout_arg(params.timeout)]

    def install(self, cluster, params):
        """``helm install`` (see install_args); return the new release (dict, helm's
        Release JSON). Raises HelmError."""
        return self._write(cluster, params, self.install_args)

    def upgrade(self, cluster, params):
        """``helm upgrade`` (see upgrade_args); return the new release (dict, helm's
        Release JSON). Raises HelmError (with ``atomic``, helm has rolled back)."""
        return self._write(cluster, params, self.upgrade_args)

    def upgrade_dry_run(self, cluster, name, chart, values):
        """What ``helm upgrade`` would deploy for release ``name`` (str) from ``chart`` (str,
        a local chart) with exactly ``values`` (dict, through a 0600 file), rendered
        against the cluster and written nowhere: helm's Release JSON (dict; ``manifest``
        is the manifest helm would store, hooks and ``crds/`` apart).

        helm 3.13+ and 4: ``--dry-run=server``: the chart sees the cluster's
        ``.Capabilities`` and ``lookup`` reads live objects, as in the real upgrade
        (helm/helm pkg/action/upgrade.go, the 3.13.0 release notes). Older helm:
        ``--dry-run``, which still reads the cluster's ``.Capabilities`` but renders
        ``lookup`` as an empty result (pkg/action/action.go renderResources).
        Raises HelmError (a template error, the cluster unreachable, no deployed revision)."""
        with self._values_file(values) as vfile:
            caps = self.capabilities
            args = (["upgrade", name, chart] + cluster.args() + ["--reset-values", "--values", vfile]
                    + caps.dry_run("server" if caps.server_dry_run else "client") + ["--output", "json"])
            return self._json(args, "release %s (dry run)" % name)

    def _write(self, cluster, params, argv):
        with self._values_file(params.values) as vfile:
            return self._json(argv(cluster, params, vfile), "release %s" % params.name)

    def rollback(self, cluster, name, revision, wait=True, timeout=300):
        """``helm rollback NAME REVISION`` (an explicit revision, never "the previous")."""
        args = ["rollback", name, str(int(revision))] + cluster.args()
        if wait:
            args += self.capabilities.wait
        self._run(args + ["--timeout", timeout_arg(timeout)])

    def uninstall(self, cluster, name, wait=True, timeout=300):
        """``helm uninstall NAME`` (history not kept)."""
        args = ["uninstall", name] + cluster.args()
        if wait:
            args += self.capabilities.wait
        self._run(args + ["--timeout", timeout_arg(timeout)])

    def registry_login(self, host, username, password, registry_config, ca_file=None):
        """``helm registry login HOST`` storing the credentials in ``registry_config``
        (str, a file under module.tmpdir), the password on stdin (``--password-stdin``),
        never on argv. The CA goes through ``--ca-file`` where this helm has it, else
        through ``SSL_CERT_FILE`` (helm 3's Go TLS honours it)."""
        self.secrets.add(password)
        args = ["registry", "login", host, "--username", username, "--password-stdin",
                "--registry-config", registry_config]
        env = None
        if ca_file:
            if self.capabilities.login_ca_file:
                args += ["--ca-file", ca_file]
            else:
                env = {"SSL_CERT_FILE": ca_file}
        self._run(args, data=password, env=env)

    def package(self, chart_dir, destination):
        """Package the chart directory ``chart_dir`` (str) with ``helm package`` into the
        existing directory ``destination`` (str); return the path of the .tgz (str).

        Raises HelmError when helm fails (e.g. Chart.yaml missing or invalid)."""
        before = set(os.listdir(destination))
        self._run(["package", chart_dir, "--destination", destination])
        return _new_tgz(destination, before)

    def pull(self, chart, destination, version=None, repo=None, ca_file=None, registry_config=None):
        """Download a repository or OCI chart with ``helm pull`` into the existing directory
        ``destination`` (str); return the path of the .tgz (str).

        :param chart: ``repo/name`` of a configured repository, ``name`` with ``repo``, or
            ``oci://host/path/name`` (str).
        :param version: chart version or constraint (str or None: the newest).
        :param repo: chart repository URL (str or None).
        :param ca_file: CA bundle for the repository's or registry's TLS (str or None).
        :param registry_config: registry credentials file written by registry_login (str or None).
        Raises HelmError when helm fails (not found, TLS, auth)."""
        before = set(os.listdir(destination))
        args = ["pull", chart, "--destination", destination]
        if version:
            args += ["--version", version]
        if repo:
            args += ["--repo", repo]
        if ca_file:
            args += ["--ca-file", ca_file]
        if registry_config:
            args += ["--registry-config", registry_config]
        self._run(args)
        return _new_tgz(destination, before)


def _new_tgz(directory, before):
    new = sorted(f for f in set(os.listdir(directory)) - before if f.endswith(".tgz"))
    if len(new) != 1:
        raise HelmError("helm wrote %d chart archives into %s, expected one" % (len(new), directory))
    return os.path.join(directory, new[0])
