# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""One run of onprem.stack.helm_release: read the release, compare it with what is
wanted, act (install, upgrade, recover, uninstall) and build the result.

:class:`Run` takes the module (its params are helm_release's argument spec) and raises
:class:`ModuleFailure` (message plus extra result keys), ChartError, ValuesError,
HelmError (with the command, rc, stdout, stderr) or OSError; the module's main() turns
each into ``fail_json``. :func:`invocation` is the module's parameters with every
secret hidden, for both exits.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.onprem.stack.plugins.module_utils._chart import read_chart_dir, read_chart_tgz
from ansible_collections.onprem.stack.plugins.module_utils._chart_defaults import surviving_defaults
from ansible_collections.onprem.stack.plugins.module_utils._helm import (
    Cluster, Helm, HelmError, ReleaseParams, TemplateParams)
from ansible_collections.onprem.stack.plugins.module_utils._kubectl import Kubectl
from ansible_collections.onprem.stack.plugins.module_utils._release import (
    ReleaseState, compare, crds_changed, make_diff, marker, recorded_secret_paths, utc_now)
from ansible_collections.onprem.stack.plugins.module_utils._values import (
    ValuesError, desired_values, leaf_paths, mask_strings, parse_key, secret_file_values, secret_leaves,
    url_passwords, value_at, value_strings)

NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# A value of a secret values file this long or longer is masked wherever it appears in
# the result (shorter ones by their key path only: "0" or "on" would mask half the output).
MIN_MASKED_LENGTH = 4


class ModuleFailure(Exception):
    """The task fails with this message (and extra result keys in ``extra``)."""

    def __init__(self, msg, **extra):
        super(ModuleFailure, self).__init__(msg)
        self.extra = extra


# --- the run -----------------------------------------------------------------------------

def invocation(params):
    """The module's parameters with values, set_values[].value and password hidden."""
    shown = dict(params)
    shown["values"] = NO_LOG_PLACEHOLDER if params.get("values") else {}
    shown["set_values"] = [dict(e, value=NO_LOG_PLACEHOLDER) for e in params.get("set_values") or []]
    if params.get("password"):
        shown["password"] = NO_LOG_PLACEHOLDER
    return {"module_args": shown}


class Run(object):
    """One run of the module: its parameters, the helm wrapper and the result being built."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.helm = Helm(module, self.p["helm_binary"])
        self.cluster = Cluster(self.p["namespace"], self.p["kubeconfig"], self.p["context"])
        self.result = dict(changed=False, name=self.p["name"], namespace=self.p["namespace"], revision=0,
                           status="", chart="", app_version="", changed_reasons=[], commands=self.helm.commands)
        self.secret_paths = []
        self.secret_strings = set()

    def shown(self, result):
        """``result`` (dict) with every value of the secret values files masked wherever it
        appears (reasons, diff, messages, helm's stderr)."""
        return mask_strings(result, self.secret_strings) if self.secret_strings else result

    def fail(self, msg, **extra):
        self.module.fail_json(invocation=invocation(self.p), **self.shown(dict(self.result, msg=msg, **extra)))

    def exit(self):
        self.module.exit_json(invocation=invocation(self.p), **self.shown(self.result))

    def status(self):
        data = self.helm.status(self.cluster, self.p["name"])
        return ReleaseState(data) if data is not None else None

    def _set_from_state(self, state):
        if state:
            self.result.update(revision=state.revision, status=state.status)

    # state: absent
    def absent(self):
        state = self.status()
        if state is None or state.status == "uninstalled":
            self._set_from_state(state)
            return
        self._set_from_state(state)
        hist = self.helm.history(self.cluster, self.p["name"], 1)
        if hist:
            self.result.update(chart=hist[-1].get("chart", ""), app_version=hist[-1].get("app_version", ""))
        self.result["changed"] = True
        self.result["changed_reasons"].append("release exists (revision %d, %s): uninstall"
                                              % (state.revision, state.status))
        if not self.module.check_mode:
            self.helm.uninstall(self.cluster, self.p["name"], self.p["wait"], self.p["timeout"])
            self.result["status"] = "uninstalled"

    # state: present
    def resolve_chart(self):
        chart = self.p["chart"]
        if chart.startswith("oci://"):
            if not self.p["version"]:
                raise ModuleFailure("chart %s: version is required for an oci:// chart" % chart)
            return read_chart_tgz(self.pull_oci(chart))
        if os.path.isdir(chart):
            local = read_chart_dir(chart)
        elif os.path.isfile(chart):
            local = read_chart_tgz(chart)
        else:
            raise ModuleFailure("chart %s is neither a chart directory, a .tgz chart archive nor an oci:// "
                                "reference (no such file or directory)" % chart)
        if self.p["version"] and self.p["version"] != local.version:
            raise ModuleFailure("version %s was asked, but chart %s is %s %s (its Chart.yaml)"
                                % (self.p["version"], chart, local.name, local.version))
        return local

    def pull_oci(self, chart):
        dest = tempfile.mkdtemp(prefix="chart-", dir=self.module.tmpdir)
        registry_config = None
        if self.p["username"]:
            registry_config = os.path.join(dest, "registry-config.json")
            host = chart[len("oci://"):].split("/", 1)[0]
            self.helm.registry_login(host, self.p["username"], self.p["password"], registry_config,
                                     self.p["ca_file"])
        pulled = os.path.join(dest, "pulled")
        os.mkdir(pulled)
        return self.helm.pull(chart, pulled, self.p["version"], ca_file=self.p["ca_file"],
                              registry_config=registry_config)

    def mask_values(self, values):
        """Values are shown in reasons and diffs, except under secret-looking keys and those
        of the secret values files: those stay masked in every output (module.no_log_values;
        the secret files' values also by key path and by :meth:`shown`)."""
        given = set(value_strings(self.p["values"])) | set(e["value"] for e in self.p["set_values"])
        self.module.no_log_values.difference_update(given)
        self.module.no_log_values.update(secret_leaves(values))
        secret = secret_file_values(self.p)
        self.secret_paths = leaf_paths(secret)
        self.hide(value_strings(secret))

    def hide(self, strings):
        """Mask ``strings`` (iterable of str; those of 4+ characters, and the passwords of
        URLs in them) wherever they appear in the result (:meth:`shown`, no_log_values,
        the recorded commands)."""
        strings = set(strings)
        for text in list(strings):
            strings.update(url_passwords(text))
        new = set(s for s in strings if len(s) >= MIN_MASKED_LENGTH)
        self.secret_strings |= new
        self.module.no_log_values.update(new)
        self.helm.secrets.update(new)

    def hide_recorded(self, state):
        """Mask the values the deployed revision took from its secret values files (the paths
        its description records; the values are in its stored values)."""
        if state is None:
            return
        for path in recorded_secret_paths(state.description):
            self.hide(value_strings(value_at(state.values, path)[1]))

    def waivers(self):
        """The paths of allow_chart_default_secrets (list of tuples). Raises ValuesError."""
        out = []
        for n, text in enumerate(self.p["allow_chart_default_secrets"]):
            try:
                out.append(tuple(parse_key(text)))
            except ValueError as exc:
                raise ValuesError("allow_chart_default_secrets[%d] '%s' is not a values key path (dotted, as "
                                  "helm --set writes it, e.g. auth.password): %s" % (n, text, exc))
        return out

    def refuse_chart_defaults(self, chart, values, manifest):
        """Fail before anything changes when a default secret of the chart survives into
        ``manifest`` (see module_utils/_chart_defaults.py), naming the key paths and where
        they were found, never the values."""
        found = surviving_defaults(chart.files, chart.ref, values, manifest, self.waivers())
        if not found:
            return
        raise ModuleFailure(
            "chart %s (%s), release %s: the chart's default value of %s is still in the rendered manifest (%s). "
            "Set %s in the release's values (with onprem.stack.platform, a reference such as {from: {credential: "
            "...}}, or the chart's existingSecret where it has one), or waive it with allow_chart_default_secrets. "
            "Nothing was changed." % (
                chart.ref, self.p["chart"], self.p["name"], ", ".join(f["path"] for f in found),
                "; ".join("%s in %s" % (f["path"], ", ".join(f["found_in"])) for f in found),
                "them" if len(found) > 1 else "it"), chart_default_secrets=found)

    def shown_paths(self, state):
        """Values paths shown masked: those of this run's secret values files and those the
        deployed revision recorded (its earlier secret values)."""
        return sorted(set(self.secret_paths) | set(recorded_secret_paths(state.description if state else "")), key=str)

    def recover(self, state):
        """Handle a pending last revision: fail, or recover it (see the documentation)."""
        age, timeout = state.age_seconds(utc_now()), self.p["timeout"]
        where = "release %s in namespace %s is %s: revision %d started %ds ago" % (
            self.p["name"], self.p["namespace"], state.status, state.revision, age)
        if not self.p["recover_pending"]:
            raise ModuleFailure("%s and has not finished (helm was interrupted, or another operation is still "
                                "running). Set recover_pending: true to recover it once it is older than timeout "
                                "(%ds)" % (where, timeout), revision=state.revision, status=state.status,
                                pending_age_seconds=age)
        if age < timeout:
            raise ModuleFailure("%s, less than timeout (%ds): the operation may still be running, so "
                                "recover_pending leaves it alone; run again later" % (where, timeout),
                                revision=state.revision, status=state.status, pending_age_seconds=age)
        target = None
        if not (state.status == "pending-install" and state.revision == 1):
            good = [h for h in self.helm.history(self.cluster, self.p["name"], 256)
                    if int(h.get("revision", 0)) < state.revision and h.get("status") in ("deployed", "superseded")]
            target = max(good, key=lambda h: int(h["revision"])) if good else None
        if target is None and state.status != "pending-install":
            raise ModuleFailure("%s; no deployed or superseded revision is left to roll back to" % where,
                                revision=state.revision, status=state.status)
        if target is None:
            what = "%s revision %d (%ds old) uninstalled, to install again" % (state.status, state.revision, age)
        else:
            what = "%s revision %d (%ds old) rolled back to revision %d (%s)" % (
                state.status, state.revision, age, int(target["revision"]), target["status"])
        self.result["changed_reasons"].append(("would recover: " if self.module.check_mode else "recovered: ") + what)
        self.result["changed"] = True
        if self.module.check_mode:
            return state if target is not None else None
        if target is None:
            self.helm.uninstall(self.cluster, self.p["name"], self.p["wait"], self.p["timeout"])
        else:
            self.helm.rollback(self.cluster, self.p["name"], int(target["revision"]), self.p["wait"],
                               self.p["timeout"])
        return self.status()

    def render(self, chart, values):
        """The manifest helm would install for a new release (str): ``helm template``,
        client-side (nothing to compare it with yet; a template error fails here)."""
        try:
            return self.helm.template(TemplateParams(
                self.p["name"], chart.path, self.p["namespace"], values, kube_version=self.p["kube_version"],
                include_crds=False, no_hooks=True))
        except HelmError as exc:
            raise ModuleFailure("rendering chart %s (release %s) failed: %s" % (self.p["chart"], self.p["name"], exc),
                                cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)

    def render_installed(self, chart, values):
        """(manifest, ignore) for an installed release: the manifest an upgrade would store,
        rendered against the cluster (Helm.upgrade_dry_run), so charts that use ``lookup``
        or ``.Capabilities`` compare equal when nothing changed; and the template paths to
        leave out of the comparison (helm before 3.13 renders ``lookup`` empty in a dry
        run: those templates are compared through the chart's digest and the values only,
        and a warning says so). A release with no deployed revision (helm refuses a dry-run
        upgrade) falls back to ``helm template``."""
        try:
            manifest = self.helm.upgrade_dry_run(self.cluster, self.p["name"], chart.path, values).get("manifest", "")
        except HelmError as exc:
            if "has no deployed releases" in (exc.stderr or ""):
                return self.render(chart, values), ()
            raise ModuleFailure("rendering chart %s against the cluster (release %s, helm upgrade dry run) failed: %s"
                                % (self.p["chart"], self.p["name"], exc), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
        ignore = ()
        if chart.lookup_templates and not self.helm.capabilities.server_dry_run:
            ignore = tuple(sorted(chart.lookup_templates))
            self.module.warn("helm %s renders lookup as empty in a dry run (helm 3.13+ renders it against the "
                             "cluster): %s of chart %s compared by the chart's digest and values only"
                             % (self.helm.capabilities.version,
                                "every template" if "*" in ignore else ", ".join(ignore), chart.ref))
        return manifest, ignore

    def present(self):
        chart = self.resolve_chart()
        self.result.update(chart=chart.ref, app_version=chart.app_version)
        values = desired_values(self.p)
        self.mask_values(values)
        self.waivers()  # a bad path fails before helm runs
        state = self.status()
        self.hide_recorded(state)
        if state is not None and state.pending:
            state = self.recover(state)
            if self.module.check_mode:
                self._set_from_state(state)
                if self.module._diff:
                    self.result["diff"] = make_diff(self.p["name"], state, values, self.render(chart, values),
                                                    self.shown_paths(state))
                self.result["changed_reasons"].append("then upgrade or install chart %s" % chart.ref)
                return
        if state is not None and state.status in ("uninstalling", "unknown"):
            raise ModuleFailure("release %s in namespace %s is %s (revision %d): wait for the uninstall to finish "
                                "or run helm uninstall" % (self.p["name"], self.p["namespace"], state.status,
                                                           state.revision), revision=state.revision,
                                status=state.status)
        installed = state is not None and state.status != "uninstalled"
        if installed:
            manifest, ignore = self.render_installed(chart, values)
            reasons = compare(chart, values, manifest, state, ignore, self.shown_paths(state))
        else:
            manifest = self.render(chart, values)
            reasons = ["release does not exist: install chart %s" % chart.ref]
        self._set_from_state(state if installed else None)
        self.refuse_chart_defaults(chart, values, manifest)
        if not reasons:
            return
        self.result["changed"] = True
        self.result["changed_reasons"] += reasons
        if self.module._diff:
            self.result["diff"] = make_diff(self.p["name"], state if installed else None, values, manifest,
                                            self.shown_paths(state))
        crds = installed and self.p["crds"] == "upgrade" and chart.crds and crds_changed(chart, state) is not False
        if crds:
            self.result["changed_reasons"].append("crds: %s applied server-side before the upgrade"
                                                  % ", ".join(sorted(chart.crds)))
        elif installed and chart.crds and crds_changed(chart, state):
            self.module.warn("the CRDs in chart %s changed, but helm never upgrades crds/; set crds: upgrade "
                             "to apply them" % chart.ref)
        if self.module.check_mode:
            return
        if crds:
            self.apply_crds(chart)
        rp = ReleaseParams(self.p["name"], chart.path, values, marker(chart, self.secret_paths), self.p["wait"],
                           self.p["timeout"], self.p["atomic"], self.p["create_namespace"],
                           replace=state is not None and not installed)
        try:
            rel = (self.helm.upgrade if installed else self.helm.install)(self.cluster, rp)
        except HelmError as exc:
            try:
                after = self.status()
            except HelmError:
                after = None
            self._set_from_state(after)
            note = ""
            if self.p["atomic"]:
                note = (" helm rolled it back (atomic); now revision %d, %s" % (after.revision, after.status)
                        if after else " helm uninstalled it (atomic)")
            raise ModuleFailure("%s of release %s (chart %s) failed: %s.%s" % (
                "upgrade" if installed else "install", self.p["name"], chart.ref, exc, note),
                cmd=exc.cmd, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
        self._set_from_state(ReleaseState(rel))

    def apply_crds(self, chart):
        tmp = tempfile.mkdtemp(prefix="crds-", dir=self.module.tmpdir)
        files = []
        for n, name in enumerate(sorted(chart.crds)):
            path = os.path.join(tmp, "%03d-%s" % (n, os.path.basename(name)))
            with open(path, "wb") as f:
                f.write(chart.crds[name])
            files.append(path)
        Kubectl(self.module, self.p["kubectl_binary"], self.helm.commands).apply_server_side(
            files, self.p["kubeconfig"], self.p["context"])
