#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_release
short_description: Install, upgrade or uninstall a Helm release, idempotently without helm-diff
version_added: 0.2.0
description:
  - Installs the chart O(chart) as release O(name) in O(namespace), upgrades it when
    it differs from what is deployed, or uninstalls it (O(state=absent)). Works with
    helm 3.8+ and helm 4; every helm command line is built by the collection's
    C(module_utils/_helm.py).
  - "Idempotent without the helm-diff plugin. The release is upgraded only when one of
    these differs from its last revision: the chart's name, version and content
    digest (sha256 over the chart's files and their paths, so a re-packaged archive of
    the same files is the same chart); the user values, all sources merged
    (O(values_files), then O(values), then O(set_values)); the sha256 of the manifest
    C(helm template) renders with those values (hooks and C(crds/) left out, as in a
    release's manifest). Each difference is one entry of RV(changed_reasons)."
  - The chart's name, version and content digest are recorded in the release's
    description (C(helm history) shows it). A revision without that record (written by
    another tool, a rollback or a failed upgrade) is upgraded once to record it.
  - The user values reach helm through one values file (mode 0600, in the module's
    temporary directory); nothing secret is put on a command line.
  - A release whose last revision C(failed) is upgraded, and RV(changed_reasons) says so.
  - A release left C(pending-install), C(pending-upgrade) or C(pending-rollback) (helm
    was killed, or another operation is running) fails the task, naming the state,
    its age and O(recover_pending). With O(recover_pending=true) and once the pending
    revision is older than O(timeout), a pending upgrade or rollback is rolled back to
    the newest C(deployed) or C(superseded) revision (named by number), a pending
    first install is uninstalled; then the release is upgraded or installed as usual.
  - Helm installs a chart's C(crds/) on the first install only and never upgrades them.
    With O(crds=upgrade), changed CRDs are applied server-side with kubectl before the upgrade.
  - Values under keys that look secret (names containing C(password), C(secret),
    C(token), C(key), C(credential), C(cert), C(jwt), C(auth), C(dsn), C(salt)) are
    masked in every output; other values are shown in RV(changed_reasons) and the diff.
    C(data) and C(stringData) of Secrets are always redacted from the diff. Prefer an
    existing Secret (created by the platform role) over secrets in values.
  - Templates that render differently on every run (C(randAlphaNum), C(now), C(lookup),
    C(.Release.Revision), C(.Release.IsUpgrade)) make every run report a manifest change.
    Set O(kube_version) to the cluster's version when the chart tests C(.Capabilities.KubeVersion).
author:
  - onprem.stack contributors (!UNKNOWN)
extends_documentation_fragment:
  - onprem.stack.release
  - onprem.stack.helm
  - onprem.stack.kubeconfig
attributes:
  check_mode:
    support: full
    description:
      - Renders the chart (a template error fails the task), reads the release and
        returns whether it would change and why, also for a release that does not exist
        yet. Nothing is written to the cluster; pending recovery is only reported.
  diff_mode:
    support: full
    description:
      - Returns the user values and the manifest before and after, with the C(data) and
        C(stringData) of Secrets and secret-looking values redacted.
options:
  chart:
    description:
      - The chart, one of a local chart directory, a C(.tgz) chart archive (the air-gap
        bundle's C(charts/)), or C(oci://host/path/name) in the site registry.
      - Required when O(state=present).
    type: str
  version:
    description:
      - Chart version. Required for an C(oci://) chart.
      - For a directory or C(.tgz), checked against its C(Chart.yaml) (the task fails when
        they differ); default, whatever C(Chart.yaml) says.
    type: str
  state:
    description: Whether the release is installed (V(present)) or uninstalled (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  values:
    description:
      - User values, merged over O(values_files) (maps merged key by key, anything else replaced).
      - Never shown in the invocation (C(no_log)).
    type: dict
    default: {}
  values_files:
    description: Values files (YAML) on the host the module runs on, merged in order before O(values).
    type: list
    elements: path
    default: []
  set_values:
    description:
      - Values set last, in helm's C(--set) syntax, applied by the module itself (never passed
        to helm as C(--set)) so that the result compares exactly with the deployed release.
      - Same format as kubernetes.core.helm's C(set_values).
    type: list
    elements: dict
    default: []
    suboptions:
      value:
        description:
          - "O(set_values[].value_type=raw), V(string) or V(file): one or more C(key=value) pairs,
            comma separated. A key is a dotted path (C(image.tag)), C(name[0]) indexes a
            list, C(\\) escapes C(.), C(,), C(=) and C([); C({a,b}) is a list."
          - "O(set_values[].value_type=json): exactly one C(key=JSON) pair."
          - Never shown in the invocation (C(no_log)).
        type: str
        required: true
      value_type:
        description:
          - V(raw) types the value as helm's C(--set) does (C(true)/C(false), C(null),
            integers without a leading zero; anything else a string); V(string) keeps it a
            string (C(--set-string)); V(json) parses it as JSON (C(--set-json)); V(file) sets
            the content of the file named (on the host the module runs on) as a string
            (C(--set-file)).
        type: str
        choices: [raw, string, json, file]
        default: raw
  create_namespace:
    description: Create O(namespace) when it does not exist (first install only, as helm does).
    type: bool
    default: false
  wait:
    description:
      - Wait until the release's resources are ready (helm 3 C(--wait), helm 4 C(--wait=watcher)),
        and, on uninstall, deleted.
      - Helm 3 waits whenever O(atomic) is set.
    type: bool
    default: true
  timeout:
    description:
      - "Time helm waits for each operation, in seconds (helm's C(--timeout))."
      - Also the age, in seconds, a pending revision must reach before O(recover_pending) touches it.
    type: int
    default: 300
  atomic:
    description:
      - Roll back a failed upgrade, uninstall a failed install (helm 3 C(--atomic), helm 4
        C(--rollback-on-failure)).
    type: bool
    default: true
  recover_pending:
    description:
      - Recover a release left in a C(pending-*) state once its pending revision is older
        than O(timeout) (see the description). Without it such a release fails the task.
    type: bool
    default: false
  crds:
    description:
      - V(install), helm's behaviour, installs C(crds/) on the first install only.
      - V(upgrade) also applies the chart's C(crds/) (and those of unpacked subcharts in
        C(charts/)) server-side with kubectl before an upgrade, when they changed since the
        last revision this module wrote. Only C(.yaml), C(.yml) and C(.json) files are applied.
    type: str
    choices: [install, upgrade]
    default: install
  kube_version:
    description:
      - Kubernetes version the chart is rendered for (C(.Capabilities.KubeVersion)), e.g.
        C(1.31.0). Default, helm's built-in version.
    type: str
  ca_file:
    description: CA bundle (PEM) trusted for the registry of an C(oci://) chart.
    type: path
  username:
    description: Registry user for an C(oci://) chart; requires O(password).
    type: str
  password:
    description:
      - Password of O(username). It reaches helm on standard input (C(helm registry login
        --password-stdin)) into a registry configuration file in the module's temporary
        directory, never on a command line.
    type: str
  kubectl_binary:
    description:
      - Path of kubectl, used only by O(crds=upgrade) when CRDs changed. Default, C(kubectl) on the E(PATH).
    type: path
seealso:
  - module: onprem.stack.helm_release_info
  - module: onprem.stack.chart_images
"""

EXAMPLES = r"""
- name: Install or upgrade the demo from the bundle
  onprem.stack.helm_release:
    name: demo
    namespace: ai
    create_namespace: true
    chart: /srv/bundle/charts/onprem-demo-0.1.0.tgz
    values:
      ingress:
        host: demo.ai.example.internal
    set_values:
      - value: image.tag=1.0.1
        value_type: string
  register: demo

- name: A chart from the site registry, recovering an interrupted upgrade
  onprem.stack.helm_release:
    name: open-webui
    namespace: ai
    chart: oci://registry.site.internal:5000/charts/open-webui
    version: 5.0.0
    ca_file: /etc/onprem-stack/ca.crt
    values_files:
      - /etc/onprem-stack/open-webui.yml
    recover_pending: true
    crds: upgrade

- name: Remove it
  onprem.stack.helm_release:
    name: demo
    namespace: ai
    state: absent
"""

RETURN = r"""
name:
  description: Release name.
  returned: always
  type: str
namespace:
  description: Release namespace.
  returned: always
  type: str
revision:
  description: Revision of the release after the task (in check mode, the current one); 0 when there is none.
  returned: always
  type: int
  sample: 3
status:
  description: Status of that revision (C(deployed), C(failed), ...); C(uninstalled) after O(state=absent); empty when there is none.
  returned: always
  type: str
chart:
  description: Chart as C(name-version), e.g. C(onprem-demo-0.1.0) (O(state=absent), the one that was deployed, when known).
  returned: always
  type: str
app_version:
  description: The chart's C(appVersion).
  returned: always
  type: str
changed_reasons:
  description: Why the release changed or would change, one entry per difference.
  returned: always
  type: list
  elements: str
  sample:
    - 'values.image.tag: "1.0" -> "1.1"'
    - "manifest: templates/deployment.yaml changed"
    - chart version 0.1.0 -> 0.2.0
commands:
  description: Every helm (and kubectl) command run, as argv lists, secrets masked.
  returned: always
  type: list
  elements: list
diff:
  description: Values and manifest before and after (diff mode), secrets redacted.
  returned: when diff mode is on and there is a change
  type: list
  elements: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.onprem.stack.plugins.module_utils._argspec import (
    helm_argument_spec, kubeconfig_argument_spec, release_argument_spec)
from ansible_collections.onprem.stack.plugins.module_utils._chart import ChartError, read_chart_dir, read_chart_tgz
from ansible_collections.onprem.stack.plugins.module_utils._helm import (
    Cluster, Helm, HelmError, ReleaseParams, TemplateParams)
from ansible_collections.onprem.stack.plugins.module_utils._kubectl import Kubectl
from ansible_collections.onprem.stack.plugins.module_utils._release import (
    ReleaseState, compare, crds_changed, make_diff, marker, utc_now)
from ansible_collections.onprem.stack.plugins.module_utils._values import (
    HAS_YAML, ValuesError, desired_values, secret_leaves, value_strings)

NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


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

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, invocation=invocation(self.p), **dict(self.result, **extra))

    def exit(self):
        self.module.exit_json(invocation=invocation(self.p), **self.result)

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
        """Values are shown in reasons and diffs, except under secret-looking keys: those
        (and only those) stay masked in every output (module.no_log_values)."""
        given = set(value_strings(self.p["values"])) | set(e["value"] for e in self.p["set_values"])
        self.module.no_log_values.difference_update(given)
        self.module.no_log_values.update(secret_leaves(values))

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

    def present(self):
        chart = self.resolve_chart()
        self.result.update(chart=chart.ref, app_version=chart.app_version)
        values = desired_values(self.p)
        self.mask_values(values)
        try:
            manifest = self.helm.template(TemplateParams(
                self.p["name"], chart.path, self.p["namespace"], values, kube_version=self.p["kube_version"],
                include_crds=False, no_hooks=True))
        except HelmError as exc:
            raise ModuleFailure("rendering chart %s (release %s) failed: %s" % (self.p["chart"], self.p["name"], exc),
                                cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
        state = self.status()
        if state is not None and state.pending:
            state = self.recover(state)
            if self.module.check_mode:
                self._set_from_state(state)
                if self.module._diff:
                    self.result["diff"] = make_diff(self.p["name"], state, values, manifest)
                self.result["changed_reasons"].append("then upgrade or install chart %s" % chart.ref)
                return
        if state is not None and state.status in ("uninstalling", "unknown"):
            raise ModuleFailure("release %s in namespace %s is %s (revision %d): wait for the uninstall to finish "
                                "or run helm uninstall" % (self.p["name"], self.p["namespace"], state.status,
                                                           state.revision), revision=state.revision,
                                status=state.status)
        installed = state is not None and state.status != "uninstalled"
        if installed:
            reasons = compare(chart, values, manifest, state)
        else:
            reasons = ["release does not exist: install chart %s" % chart.ref]
        self._set_from_state(state if installed else None)
        if not reasons:
            return
        self.result["changed"] = True
        self.result["changed_reasons"] += reasons
        if self.module._diff:
            self.result["diff"] = make_diff(self.p["name"], state if installed else None, values, manifest)
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
        rp = ReleaseParams(self.p["name"], chart.path, values, marker(chart), self.p["wait"], self.p["timeout"],
                           self.p["atomic"], self.p["create_namespace"], replace=state is not None and not installed)
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


def argument_spec():
    spec = release_argument_spec()
    spec.update(
        chart=dict(type="str"),
        version=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        values=dict(type="dict", default={}, no_log=True),
        values_files=dict(type="list", elements="path", default=[]),
        set_values=dict(type="list", elements="dict", default=[], options=dict(
            value=dict(type="str", required=True, no_log=True),
            value_type=dict(type="str", choices=["raw", "string", "json", "file"], default="raw"),
        )),
        create_namespace=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=300),
        atomic=dict(type="bool", default=True),
        recover_pending=dict(type="bool", default=False),
        crds=dict(type="str", choices=["install", "upgrade"], default="install"),
        kube_version=dict(type="str"),
        ca_file=dict(type="path"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        kubectl_binary=dict(type="path"),
    )
    spec.update(helm_argument_spec())
    spec.update(kubeconfig_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "present", ["chart"])],
                           required_together=[("username", "password")])
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), invocation=invocation(module.params))
    if module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, not %d" % module.params["timeout"],
                         invocation=invocation(module.params))
    run = Run(module)
    try:
        if module.params["state"] == "absent":
            run.absent()
        else:
            run.present()
    except ModuleFailure as exc:
        run.fail(str(exc), **exc.extra)
    except (ChartError, ValuesError) as exc:
        run.fail(str(exc))
    except HelmError as exc:
        run.fail(str(exc), cmd=exc.cmd, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
    except (OSError, IOError) as exc:
        run.fail("release %s: %s" % (module.params["name"], exc))
    run.exit()


if __name__ == "__main__":
    main()
