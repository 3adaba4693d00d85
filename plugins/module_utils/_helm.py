# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The one place that builds helm command lines (helm v3.8+ and v4 CLI).

Every call is an argv list through ``AnsibleModule.run_command``; a failure raises
:class:`HelmError` with the command, rc, stdout and stderr. The differences between
the helm majors live in :class:`HelmCapabilities` and nowhere else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import tempfile

from ansible_collections.onprem.stack.plugins.module_utils._cli import CommandError


class HelmError(CommandError):
    """A helm command failed (see CommandError for the attributes)."""


# helm's version string (helm/helm internal/version/version.go): "v" MAJOR "." MINOR
# ["." PATCH] ["-" PRERELEASE] ["+" BUILD METADATA]; release binaries print e.g.
# "v3.10.1" and "v4.1.4" for `helm version --template '{{ .Version }}'`, builds from an
# untagged tree "v3.0+unreleased" (no patch).
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


class HelmVersion(tuple):
    """A parsed helm version: the tuple (major, minor, patch) of int, so it compares
    with other versions and plain tuples; pre-release and build suffixes are ignored.

    :ivar major: (int) :ivar minor: (int) :ivar patch: (int, 0 when helm printed none)
    :ivar text: what helm printed (str, e.g. ``v3.10.1``); also ``str(version)``.
    """

    def __new__(cls, major, minor, patch=0, text=None):
        self = tuple.__new__(cls, (int(major), int(minor), int(patch)))
        self.text = text or "v%d.%d.%d" % self
        return self

    major = property(lambda self: self[0])
    minor = property(lambda self: self[1])
    patch = property(lambda self: self[2])

    def __str__(self):
        return self.text

    def __repr__(self):
        return "HelmVersion(%r)" % self.text


MIN_VERSION = HelmVersion(3, 8, 0)  # OCI registries without HELM_EXPERIMENTAL_OCI
SUPPORTED_MAJORS = (3, 4)


def parse_version(text):
    """Parse helm's version string ``text`` (str, e.g. ``v3.10.1``, ``v4.1.4+g05fa379``,
    ``v3.0+unreleased``; surrounding whitespace ignored) into a :class:`HelmVersion`.

    Raises HelmError naming the text when it is not a helm version (format: helm/helm
    internal/version/version.go, see ``_VERSION_RE``)."""
    text = (text or "").strip()
    m = _VERSION_RE.match(text)
    if not m:
        raise HelmError("cannot read the helm version from %r (output of helm version --template "
                        "'{{ .Version }}'): expected vMAJOR.MINOR.PATCH, e.g. v3.10.1" % text)
    return HelmVersion(m.group(1), m.group(2), m.group(3) or 0, text)


def check_supported(version, binary="helm"):
    """Raise HelmError unless ``version`` (HelmVersion) is helm 3.8 or newer 3.x, or 4.x.

    :param binary: the helm binary's path (str), named in the message."""
    if version < MIN_VERSION:
        raise HelmError("%s is helm %s; onprem.stack needs helm %s or newer (3.x or 4.x)"
                        % (binary, version, MIN_VERSION))
    if version.major not in SUPPORTED_MAJORS:
        raise HelmError("%s is helm %s; onprem.stack supports helm 3 (%s or newer) and helm 4 only"
                        % (binary, version, MIN_VERSION))


class HelmCapabilities(object):
    """The command-line differences between helm majors and minors, in one place.

    Built from the version of the binary in use (``Helm.capabilities``); every
    attribute or method returns argv pieces (list of str) or a flag (str) for that
    binary. Verified against ``helm <command> --help`` of helm v3.10.1 and v4.1.4 (and
    the helm 3.13.0 release notes for ``--dry-run=server``). Flags identical in both
    majors (``--wait``, ``--timeout``, ``--install``, ``--namespace``, ``--values``,
    ``--version``, ``--ca-file``) are written by the caller directly.

    :ivar version: the HelmVersion these capabilities describe.
    :ivar major: its major (int, 3 or 4).
    :ivar rollback_on_failure: flag that rolls back (upgrade) or uninstalls (install)
        on failure: ``--atomic`` (helm 3) or ``--rollback-on-failure`` (helm 4, where
        ``--atomic`` is deprecated).
    :ivar force_replace: flag that updates resources by replacement: ``--force`` (helm 3,
        upgrade only) or ``--force-replace`` (helm 4; ``--force`` deprecated).
    :ivar server_dry_run: whether ``--dry-run=server`` exists (bool; helm 3.13+ and 4).
    :ivar list_all: arguments making ``helm list`` show releases in every status
        (pending, superseded, uninstalling, ...): ``["--all"]`` on helm 3 (which lists
        only deployed and failed ones by default); ``[]`` on helm 4, which lists every
        status by default and has no ``--all``.
    """

    def __init__(self, version):
        self.version = version
        self.major = version.major
        helm4 = version.major >= 4
        self.rollback_on_failure = "--rollback-on-failure" if helm4 else "--atomic"
        self.force_replace = "--force-replace" if helm4 else "--force"
        self.server_dry_run = version >= (3, 13, 0)
        self.list_all = [] if helm4 else ["--all"]

    def dry_run(self, mode="client"):
        """Arguments for a dry run of install/upgrade (list of str).

        :param mode: ``client`` (render only; no cluster changes) or ``server`` (the
            API server validates too; helm 3.13+ and 4).
        Raises HelmError for ``server`` on a helm older than 3.13, naming both versions;
        ValueError for another mode."""
        if mode == "client":
            # Before 3.13 --dry-run is a boolean; from 3.13 it takes a mode, and helm 4
            # warns that the bare flag is deprecated.
            return ["--dry-run=client"] if self.server_dry_run else ["--dry-run"]
        if mode == "server":
            if not self.server_dry_run:
                raise HelmError("a server-side dry run needs helm 3.13.0 or newer; this helm is %s" % (self.version,))
            return ["--dry-run=server"]
        raise ValueError("dry-run mode must be client or server, not %r" % (mode,))

    def server_side(self, command):
        """Arguments choosing how objects are applied for ``command`` (str: ``install``
        or ``upgrade``), as a list of str.

        helm 4 applies server-side: ``upgrade`` gets ``--server-side=auto`` (keep the
        method the release was last deployed with, so releases installed by helm 3 stay
        client-side); ``install`` takes only a boolean there and defaults to server-side,
        so it gets nothing. helm 3 has no server-side apply: always ``[]``."""
        if self.major >= 4 and command == "upgrade":
            return ["--server-side=auto"]
        return []


class TemplateParams(object):
    """What ``helm template`` renders.

    :param release: release name (str).
    :param chart: chart directory, .tgz path, or reference (str).
    :param namespace: namespace (str or None).
    :param values: values merged last (dict; written to a temporary file, never on argv).
    :param values_files: values files applied in order before ``values`` (list of str).
    :param version: chart version constraint for repository charts (str or None).
    :param kube_version: Kubernetes version for Capabilities (str or None, e.g. ``1.31.0``).
    """

    def __init__(self, release, chart, namespace=None, values=None, values_files=None, version=None,
                 kube_version=None):
        self.release = release
        self.chart = chart
        self.namespace = namespace
        self.values = values or {}
        self.values_files = values_files or []
        self.version = version
        self.kube_version = kube_version


class Helm(object):
    """helm driven through an AnsibleModule.

    :param module: the AnsibleModule.
    :param binary: path of helm (str or None: found on PATH, required).
    :param env: extra environment (dict), e.g. HELM_CACHE_HOME for offline runs.
    """

    def __init__(self, module, binary=None, env=None):
        self.module = module
        self.bin = binary or module.get_bin_path("helm", required=True)
        self.env = dict(env or {})
        self._capabilities = None

    def _run(self, args):
        if self._capabilities is None:  # refuse an unsupported helm before its first command
            self._capabilities = self._detect()
        return self._call(args)

    def _call(self, args):
        cmd = [self.bin] + args
        rc, out, err = self.module.run_command(cmd, environ_update=self.env)
        if rc != 0:
            last = err.strip().splitlines()[-1] if err.strip() else "exit code %d" % rc
            raise HelmError("helm %s failed: %s" % (args[0], last), cmd, rc, out, err)
        return out

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

    def template(self, params):
        """Render ``params`` (TemplateParams) with ``helm template``; return the manifest text (str).

        The values go through a 0600 file under the module's temporary directory
        (``module.tmpdir``, removed by Ansible), deleted as soon as helm returns."""
        fd, vfile = tempfile.mkstemp(prefix="values-", suffix=".json", dir=self.module.tmpdir)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(params.values, f)
            args = ["template", params.release, params.chart, "--include-crds"]
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
        finally:
            os.unlink(vfile)

    def package(self, chart_dir, destination):
        """Package the chart directory ``chart_dir`` (str) with ``helm package`` into the
        existing directory ``destination`` (str); return the path of the .tgz (str).

        Raises HelmError when helm fails (e.g. Chart.yaml missing or invalid)."""
        before = set(os.listdir(destination))
        self._run(["package", chart_dir, "--destination", destination])
        return _new_tgz(destination, before)

    def pull(self, chart, destination, version=None, repo=None, ca_file=None):
        """Download a repository or OCI chart with ``helm pull`` into the existing directory
        ``destination`` (str); return the path of the .tgz (str).

        :param chart: ``repo/name`` of a configured repository, ``name`` with ``repo``, or
            ``oci://host/path/name`` (str).
        :param version: chart version or constraint (str or None: the newest).
        :param repo: chart repository URL (str or None).
        :param ca_file: CA bundle for the repository's or registry's TLS (str or None).
        Raises HelmError when helm fails (not found, TLS, auth)."""
        before = set(os.listdir(destination))
        args = ["pull", chart, "--destination", destination]
        if version:
            args += ["--version", version]
        if repo:
            args += ["--repo", repo]
        if ca_file:
            args += ["--ca-file", ca_file]
        self._run(args)
        return _new_tgz(destination, before)


def _new_tgz(directory, before):
    new = sorted(f for f in set(os.listdir(directory)) - before if f.endswith(".tgz"))
    if len(new) != 1:
        raise HelmError("helm wrote %d chart archives into %s, expected one" % (len(new), directory))
    return os.path.join(directory, new[0])
