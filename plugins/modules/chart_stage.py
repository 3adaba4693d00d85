#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

# The work is done by the action plugin plugins/action/chart_stage.py on the control node; this
# file carries the documentation (as ansible.builtin.template's module file does).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: chart_stage
short_description: Stage a chart directory of the control node on the host as one deterministic chart archive (.tgz)
version_added: 0.4.0
description:
  - Builds, on the control node and in the controller's process, the chart archive (helm's format,
    a gzip-compressed tar with one top directory named after the chart) of the chart directory
    O(src), and copies it to O(dest) on the host with M(ansible.builtin.copy), in one transfer.
  - The archive holds the files helm loads from the directory (C(helm install DIR)) and nothing
    else, each byte for byte, so that helm installs the same chart from the archive. helm applies
    C(.helmignore) when it loads a directory, not when it loads an archive (helm 3 and 4 alike), so
    this module applies it while building, with the rules of C(helm/helm pkg/ignore/rules.go);
    patterns with C(/) match the path in the chart, patterns without it the base name, a trailing
    C(/) matches directories, C(*) and C(?) do not cross C(/), C(**) is refused, a negated rule
    (C(!x)) leaves out every path it does not match, and C(templates/.?*) is always added.
    Symbolic links are followed, as helm follows them.
  - Deterministic, so that an unchanged chart is never copied again and the task reports no change
    on a rerun; the same files give the same bytes on every run and on every control node with the
    same zlib. Entries are sorted by path; every entry is a regular file with mode C(0644), owner
    and group C(0) without names and modification time C(0) (PAX format); the gzip header has no
    file name and time C(0). Unlike C(helm package), whose archives carry the time of packaging, and
    M(community.general.archive), which keeps the files' times and owners and writes the current
    time into the gzip header.
  - A file removed from the chart directory is gone from the staged chart with the next run, since the
    archive replaces the previous one as a whole.
  - The archive is written into a private temporary directory on the control node for the copy and
    removed afterwards, also when the copy fails.
author:
  - onprem.stack contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: >-
      The archive is built and compared with O(dest) as M(ansible.builtin.copy) compares it in check
      mode; nothing is written on the host. (The platform role runs this task with C(check_mode: false)
      so that a dry run renders the chart that the real run installs.)
  diff_mode:
    support: partial
    description: >-
      M(ansible.builtin.copy)'s diff of a binary file: it says that the file changed, not how. RV(files)
      lists what the archive holds; helm_release's diff shows what changes in the cluster.
options:
  src:
    description:
      - The chart directory on the control node (it has a C(Chart.yaml) with C(name) and C(version)).
      - A relative path is looked up as M(ansible.builtin.copy) looks up its O(src) (the role's and
        the play's C(files/), then the playbook directory).
    type: path
    required: true
  dest:
    description: Path of the archive on the host (a file; its directory must exist).
    type: path
    required: true
  owner:
    description: Owner of O(dest) on the host, as in M(ansible.builtin.copy).
    type: str
  group:
    description: Group of O(dest) on the host, as in M(ansible.builtin.copy).
    type: str
  mode:
    description: Permissions of O(dest) on the host, as in M(ansible.builtin.copy).
    type: raw
    default: "0600"
notes:
  - "Fails, before anything is copied, naming the chart directory: when O(src) or O(dest) is missing
    or another option is given; when O(src) is not a directory on the control node; when it has no
    C(Chart.yaml), or one that is not a YAML mapping with C(name) and C(version); when a C(.helmignore)
    rule is malformed (trailing backslash, unterminated C([)) or uses C(**), which helm refuses; when
    a path in the chart is neither a regular file nor a directory (a socket, a broken link)."
  - A chart that already is an archive (C(.tgz)) needs no building; copy it with M(ansible.builtin.copy).
  - The bytes depend on the control node's zlib; another Python or zlib may compress differently, in
    which case the first run there copies the archive once more (same files, same chart digest).
seealso:
  - module: ansible.builtin.copy
  - module: onprem.stack.helm_release
"""

EXAMPLES = r"""
- name: Chart directory staged on the first server as one archive
  onprem.stack.chart_stage:
    src: "{{ inventory_dir }}/charts/onprem-demo"
    dest: /var/lib/onprem-stack/platform/charts/demo/demo.tgz
    owner: root
    group: root
    mode: "0600"
  register: staged

- name: Installed from the staged archive
  onprem.stack.helm_release:
    name: demo
    namespace: demo
    chart: /var/lib/onprem-stack/platform/charts/demo/demo.tgz
"""

RETURN = r"""
chart:
  description: The chart's C(name) and C(version) (from C(Chart.yaml), str) and C(digest) (C(sha256:...), as
    M(onprem.stack.helm_release) computes it, the same for the directory and the archive).
  returned: success
  type: dict
  sample: {"name": "onprem-demo", "version": "0.1.0", "digest": "sha256:0b1f..."}
files:
  description: The paths in the chart of the files the archive holds, sorted (under the top directory
    the chart's name (RV(chart))); what C(.helmignore) left out is not among them.
  returned: success
  type: list
  elements: str
  sample: ["Chart.yaml", "templates/deployment.yaml", "values.yaml"]
dest:
  description: The archive's path on the host (M(ansible.builtin.copy)'s return values follow).
  returned: success
  type: str
  sample: /var/lib/onprem-stack/platform/charts/demo/demo.tgz
checksum:
  description: SHA1 of the archive, as M(ansible.builtin.copy) returns it.
  returned: success
  type: str
  sample: 6e642bb8dd5c2e027bf21dd923337cbb4214f827
"""
