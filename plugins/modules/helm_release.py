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
    (O(values_files), then O(values), then O(set_values)); the manifest an upgrade with
    those values would store (hooks and C(crds/) left out, as in a release's manifest),
    rendered against the cluster by a dry-run upgrade (helm 3.13+ and 4
    C(--dry-run=server)), so a chart whose templates use C(lookup) or
    C(.Capabilities) compares equal when nothing changed. Each difference is one entry
    of RV(changed_reasons)."
  - "What stays client-side: a release that does not exist yet is rendered with
    C(helm template) (nothing to compare it with). helm older than 3.13 has no
    server-side dry run: its C(--dry-run) reads the cluster's C(.Capabilities) but renders
    C(lookup) empty, so with such a helm the templates that call C(lookup) (every template,
    when a helper C(_*.tpl) calls it) are compared through the chart's digest and the
    values only, and a warning says so."
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
    C(token), C(key), C(credential), C(cert), C(jwt), C(auth), C(dsn), C(salt)), at any
    depth below such a key, are masked as C(********) in every output, and so is the
    password of any URL with one (C(postgresql://app:pw@db/app) is shown as
    C(postgresql://app:********@db/app), RFC 3986 userinfo) wherever it appears in the
    values or in a rendered manifest; other values are shown in RV(changed_reasons) and
    the diff. C(data) and C(stringData) of Secrets are always redacted from the diff.
    Prefer an existing Secret (created by the platform role) over secrets in values;
    where a chart takes a secret only in values, give it in O(secret_values_files).
  - A chart's own default value of a secret-like key that is still in the rendered manifest
    fails the task before anything changes, unless O(allow_chart_default_secrets) waives
    its key path (see there).
  - Templates that render differently on every run (C(randAlphaNum), C(now),
    C(.Release.Revision)) make every run report a manifest change; C(.Release.IsUpgrade)
    changes once, from the install to the first upgrade.
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
        C(stringData) of Secrets, secret-looking values and URL passwords redacted.
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
  secret_values_files:
    description:
      - Values files (YAML) on the host the module runs on whose values are secrets (passwords,
        URLs with a password, keys), merged in order after O(values) and before O(set_values).
      - Every value they hold is masked as C(********) in every output, whatever its key - in
        RV(changed_reasons), in the values and the manifest of the diff (a ConfigMap or an env
        value that carries it), in error messages and helm's output - by its key path and,
        for strings of 4 or more characters, wherever the string appears. The key paths
        (never the values) are recorded in the revision's description (C(secret_paths=)),
        so that M(onprem.stack.helm_release_info) and later runs mask them too.
      - The module only reads them; the caller writes them (mode 0600) and removes them
        afterwards (the platform role does, in a 0700 temporary directory).
      - Prefer a Kubernetes Secret that the chart references (C(existingSecret)) where the
        chart supports one.
    type: list
    elements: path
    default: []
  allow_chart_default_secrets:
    description:
      - "Key paths of the chart's default values (dotted, as helm's C(--set) writes them:
        C(auth.password), C(env[0].value), C(postgresql.auth.password) for a subchart) that
        may keep their default secret; a path also waives every key below it."
      - "Before installing or upgrading (and in check mode), the module reads the chart's
        default values - its C(values.yaml) and those of its subcharts, what C(helm show values)
        prints - and collects the values of secret-like keys: a key with a word C(password),
        C(passwd), C(pwd), C(pass), C(secret), C(token), C(key), C(credential(s)), C(dsn)
        (C(adminPassword), C(SECRET_KEY), C(apiKey), C(jwtSecret)), but not keys that name an
        object or a key (C(existingSecret), C(secretName), C(keyName), C(secretKeyRef),
        C(passwordFile), C(passwordKey), C(secretKeys)); and the password of every URL with
        one (C(postgresql://user:password@host), RFC 3986 userinfo) under any key. Values
        shorter than 4 characters, booleans, floats and empty strings are not checked."
      - "It then looks for each in the manifest it rendered (the same render it compares):
        the C(data) (base64-decoded) and C(stringData) of Secrets, the C(data) and
        C(binaryData) of ConfigMaps, and the C(env[].value) of every container - as the
        whole value, as the password of a URL, or inside a longer text between characters
        that are not letters or digits. Where one is found and its path is not waived, the
        task fails before anything is changed, naming the key paths, the chart and where each
        was found (never the value), and returns them in RV(chart_default_secrets)."
      - "Once the values set such a key to something else, a place holding exactly the
        default that is also the value of a non-secret key (a user name C(admin) beside a
        default password C(admin)) no longer counts; while the key keeps its default, it does."
      - Hooks (rendered apart from the manifest) are not searched.
    type: list
    elements: str
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
      - Kubernetes version a new release's chart is rendered for (C(.Capabilities.KubeVersion))
        in check mode and before the install, e.g. C(1.31.0). Default, helm's built-in
        version. An installed release is rendered against the cluster, whose version counts.
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

- name: A chart that takes its admin password only in values; its default stays out
  onprem.stack.helm_release:
    name: keycloak
    namespace: auth
    chart: /srv/bundle/charts/keycloak-2.0.0.tgz
    values_files:
      - /etc/onprem-stack/keycloak.yml
    secret_values_files:
      - /run/onprem-stack/keycloak-admin.yml   # 0600, {auth: {adminPassword: ...}}, removed afterwards
    allow_chart_default_secrets:
      - metrics.token    # the chart's demo token: the metrics endpoint is disabled

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
  description:
    - Why the release changed or would change, one entry per difference.
    - Values under secret-looking keys are shown as C(********), URL passwords as
      C(scheme://user:********@host).
  returned: always
  type: list
  elements: str
  sample:
    - 'values.image.tag: "1.0" -> "1.1"'
    - "manifest: templates/deployment.yaml changed"
    - chart version 0.1.0 -> 0.2.0
chart_default_secrets:
  description:
    - The chart's default secrets still in the rendered manifest, when the task failed for them
      (see O(allow_chart_default_secrets)); the values themselves are never returned.
  returned: when the task failed because of them
  type: list
  elements: dict
  contains:
    path:
      description: Key path in the chart's values, as O(allow_chart_default_secrets) takes it.
      type: str
      sample: auth.password
    found_in:
      description: Where it was found (object kind and name, field).
      type: list
      elements: str
      sample: ["Secret demo-auth, data.password"]
commands:
  description: Every helm (and kubectl) command run, as argv lists, secrets masked.
  returned: always
  type: list
  elements: list
diff:
  description:
    - Values and manifest before and after (diff mode). C(data) and C(stringData) of
      Secrets are C(<redacted>); values under secret-looking keys and URL passwords
      (in the values and the manifest) are C(********).
  returned: when diff mode is on and there is a change
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.onprem.stack.plugins.module_utils._argspec import (
    helm_argument_spec, kubeconfig_argument_spec, release_argument_spec)
from ansible_collections.onprem.stack.plugins.module_utils._chart import ChartError
from ansible_collections.onprem.stack.plugins.module_utils._helm import HelmError
from ansible_collections.onprem.stack.plugins.module_utils._release_run import ModuleFailure, Run, invocation
from ansible_collections.onprem.stack.plugins.module_utils._values import HAS_YAML, ValuesError


def argument_spec():
    spec = release_argument_spec()
    spec.update(
        chart=dict(type="str"),
        version=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        values=dict(type="dict", default={}, no_log=True),
        values_files=dict(type="list", elements="path", default=[]),
        secret_values_files=dict(type="list", elements="path", default=[], no_log=False),
        allow_chart_default_secrets=dict(type="list", elements="str", default=[], no_log=False),
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
