# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The one place that builds helm command lines (helm v3.8+ and v4 CLI).

Every call is an argv list through ``AnsibleModule.run_command``; a failure raises
:class:`HelmError` with the command, rc, stdout and stderr.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.onprem.stack.plugins.module_utils._cli import CommandError


class HelmError(CommandError):
    """A helm command failed (see CommandError for the attributes)."""


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

    def _run(self, args):
        cmd = [self.bin] + args
        rc, out, err = self.module.run_command(cmd, environ_update=self.env)
        if rc != 0:
            last = err.strip().splitlines()[-1] if err.strip() else "exit code %d" % rc
            raise HelmError("helm %s failed: %s" % (args[0], last), cmd, rc, out, err)
        return out

    def version(self):
        """Return the helm version string (str), e.g. ``v3.10.1``."""
        return self._run(["version", "--template", "{{ .Version }}"]).strip()

    def template(self, params):
        """Render ``params`` (TemplateParams) with ``helm template``; return the manifest text (str)."""
        fd, vfile = tempfile.mkstemp(prefix="onprem-values-", suffix=".json")
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
