#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: chart_fetch
short_description: Put Helm charts into a directory as .tgz files (package local charts, pull remote ones)
version_added: 0.1.0
description:
  - For each chart of O(charts), writes C(<name>-<version>.tgz) into O(dest). A chart
    directory is packaged with C(helm package), a C(.tgz) file is copied, a repository
    chart (C(repo/name), or C(name) with O(charts[].repo)) or an OCI chart
    (C(oci://host/path/name)) is downloaded with C(helm pull).
  - Idempotent. A packaged chart replaces the existing archive only when a file in it
    differs (archive timestamps are ignored). A repository or OCI chart with an exact
    O(charts[].version) is not downloaded again when its archive is already there,
    since published chart versions are immutable.
  - A C(.tgz) given in O(charts[].chart) that is not a readable chart archive fails the
    task, naming the file. An archive in O(dest) that cannot be read is replaced.
  - Only chart directories and repository or OCI charts need helm.
  - All helm command lines are built by the collection's C(module_utils/_helm.py).
  - Work files live in the module's temporary directory, which Ansible removes.
author:
  - onprem.stack contributors (!UNKNOWN)
extends_documentation_fragment:
  - onprem.stack.helm
attributes:
  check_mode:
    support: full
    description: Packages local charts into a temporary directory to compare; downloads and writes nothing.
  diff_mode:
    support: none
    description: The module returns no diff; RV(charts) says which archives changed.
options:
  charts:
    description: Charts to put into O(dest).
    type: list
    elements: dict
    required: true
    suboptions:
      chart:
        description: Chart directory, C(.tgz) file, C(repo/name), C(name) (with O(charts[].repo)) or C(oci://) reference.
        type: str
        required: true
      version:
        description: Chart version for repository and OCI charts (default, the newest).
        type: str
      repo:
        description: Chart repository URL, for a bare chart name.
        type: str
      ca_file:
        description: CA bundle (PEM) trusted for the repository or OCI registry.
        type: path
  dest:
    description: Directory the archives are written to (created when missing).
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Charts of the site into the bundle
  onprem.stack.chart_fetch:
    dest: /srv/bundle/charts
    charts:
      - chart: ./charts/webapp                       # packaged
      - chart: open-webui
        repo: https://helm.openwebui.com/
        version: 5.0.0                               # pulled once
      - chart: oci://registry-1.docker.io/bitnamicharts/keycloak
        version: 24.0.0
"""

RETURN = r"""
charts:
  description: One entry per input chart, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    chart:
      description: The chart as given.
      type: str
    path:
      description: Path of the archive in O(dest) (in check mode, where it would be written; empty when unknown).
      type: str
    changed:
      description: Whether the archive was (or would be) written.
      type: bool
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils._argspec import helm_argument_spec
from ansible_collections.onprem.stack.plugins.module_utils._helm import Helm, HelmError


class ChartArchiveError(Exception):
    """A chart archive cannot be read; the message names the file."""


def _tgz_members(path):
    """{member name: sha256 hex} of the regular files in the chart archive ``path`` (a
    gzip-compressed tar file, Helm's chart archive format), so that two packagings of the
    same chart compare equal whatever their timestamps.

    Raises ChartArchiveError naming ``path`` when it is not a readable tar archive.
    """
    out = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for m in tar:
                if m.isfile():
                    out[m.name] = hashlib.sha256(tar.extractfile(m).read()).hexdigest()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ChartArchiveError("%s is not a readable chart archive (.tgz): %s" % (path, exc))
    if not out:
        raise ChartArchiveError("%s is not a chart archive: it holds no files" % path)
    return out


def _same_archive(target, new_members):
    """True when the archive ``target`` exists and holds the files ``new_members``; an
    unreadable ``target`` is not the same (it gets replaced)."""
    if not os.path.exists(target):
        return False
    try:
        return _tgz_members(target) == new_members
    except ChartArchiveError:
        return False


def _remote_name(chart):
    """Base name of a repository or OCI chart reference (str)."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _fetch(module, helm, c, dest, tmp):
    """Handle one chart; return (path, changed). ``helm()`` returns the Helm wrapper.
    Raises HelmError or ChartArchiveError."""
    src = c["chart"]
    if os.path.isdir(src):
        new = helm().package(src, tmp)
    elif src.endswith(".tgz") and os.path.isfile(src):
        _tgz_members(src)  # a corrupt input fails here, naming the file given
        new = os.path.join(tmp, os.path.basename(src))
        shutil.copyfile(src, new)
    else:
        if c["version"]:
            target = os.path.join(dest, "%s-%s.tgz" % (_remote_name(src), c["version"]))
            if os.path.exists(target):
                return target, False
            if module.check_mode:
                return target, True
        elif module.check_mode:
            return "", True
        new = helm().pull(src, tmp, c["version"], c["repo"], c["ca_file"])
    target = os.path.join(dest, os.path.basename(new))
    if _same_archive(target, _tgz_members(new)):
        return target, False
    if not module.check_mode:
        module.atomic_move(new, target)
    return target, True


def main():
    argument_spec = dict(
        charts=dict(type="list", elements="dict", required=True, options=dict(
            chart=dict(type="str", required=True),
            version=dict(type="str"),
            repo=dict(type="str"),
            ca_file=dict(type="path"),
        )),
        dest=dict(type="path", required=True),
    )
    argument_spec.update(helm_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    dest = module.params["dest"]
    if os.path.exists(dest) and not os.path.isdir(dest):
        module.fail_json(msg="dest %s exists and is not a directory" % dest)
    wrapper = []

    def helm():
        if not wrapper:
            wrapper.append(Helm(module, module.params["helm_binary"]))
        return wrapper[0]

    results = []
    for c in module.params["charts"]:
        tmp = tempfile.mkdtemp(prefix="chart-", dir=module.tmpdir)
        try:
            if not module.check_mode and not os.path.isdir(dest):
                os.makedirs(dest)
            path, changed = _fetch(module, helm, c, dest, tmp)
        except HelmError as exc:
            module.fail_json(msg="chart %s: %s" % (c["chart"], exc), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
        except (ChartArchiveError, OSError, IOError) as exc:
            module.fail_json(msg="chart %s: %s" % (c["chart"], exc))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        results.append({"chart": c["chart"], "path": path, "changed": changed})
    module.exit_json(changed=any(r["changed"] for r in results), charts=results)


if __name__ == "__main__":
    main()
