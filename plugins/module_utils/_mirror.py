# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""What the image_mirror module shares between its pull and push sides: its error, the
per-image seconds, messages for skopeo failures, the thread pool, and the site-registry
name collision check (plugins/modules/image_mirror.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.onprem.stack.plugins.module_utils._image_ref import registry_collisions


class MirrorError(Exception):
    """A failure to report with fail_json: ``msg`` plus the failed command's details."""

    def __init__(self, msg, exc=None):
        super(MirrorError, self).__init__(msg)
        self.details = dict(cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr) if exc is not None else {}


SECONDS_DIGITS = 3


def seconds_since(start):
    """Wall-clock seconds (float) since ``start`` (a time.monotonic() value), rounded to
    SECONDS_DIGITS decimals (1 ms): a very small or fast copy may give 0.0."""
    return round(max(0.0, time.monotonic() - start), SECONDS_DIGITS)


def explain(exc, what):
    """A message (str) for the SkopeoError ``exc`` about ``what`` (str), naming the usual causes."""
    text = (exc.stderr or "").strip()
    last = text.splitlines()[-1] if text else str(exc)
    if "x509" in text or "certificate" in text:
        return "TLS verification failed for %s (%s): give the registry's CA with ca_cert_dir" % (what, last)
    if "manifest unknown" in text or "not found" in text or "name unknown" in text:
        return "%s was not found: %s" % (what, last)
    return "%s: %s" % (what, exc)


def parallel(func, items, workers):
    """Run ``func(item)`` for every item with up to ``workers`` threads; return the
    results in input order. ``func`` must not raise (it returns its errors)."""
    if workers <= 1 or len(items) <= 1:
        return [func(i) for i in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def check_collisions(refs, registry):
    """Raise MirrorError naming every pair of ``refs`` (list of str) that ``registry``
    (str, the site registry; or None at bundle time) would store under one name."""
    clashes = registry_collisions(refs)
    if clashes:
        raise MirrorError("images %s: the site registry%s stores an image under its repository and tag without "
                          "its registry host, so these would overwrite each other; keep one of each group "
                          "(bundle_extra_images, the charts' values) or give them different tags. Nothing was copied."
                          % ("; ".join("%s all become %s" % (" and ".join(members), name) for name, members in clashes),
                             " " + registry if registry else ""))
