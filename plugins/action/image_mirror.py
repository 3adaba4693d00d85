# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of onprem.stack.image_mirror: the same module, with progress a person can follow.

A bundle build or a registry load can copy gigabytes for many minutes; one module run shows nothing
until it ends. This plugin runs the module first in check mode on every image (the plan: which
images the destination lacks), then copies those in batches of ``parallel`` images, one module run
per batch, and after each batch prints one line on stderr (stdout stays the callback's, so
machine-readable callbacks such as ansible.posix.json keep valid output)::

    image_mirror [registry-1]: 3/7 images pushed to registry.site:5000 (162.4 MiB, 41.0 s so far):
      docker.io/library/redis:7.4 (61.2 MiB, 14.812 s)

Each image's seconds are the module's RV ``images[].seconds`` as returned (wall-clock seconds of its copy,
rounded to the millisecond, trailing zeros dropped: ``14.8 s``, ``0.012 s``; ``0.0 s`` for a copy too small
to measure); the seconds so far are this plugin's wall-clock time since the first batch started, to 0.1 s.

A re-run with nothing to copy, and check mode, cost one module run (the plan; a pull re-run one more, on
no image, for the layout's clean-up) and print nothing; a copy costs the plan plus one module run per
batch. In the module's own unit tests it runs without this plugin.
The result is the last module run's (its invocation, warnings of every run) with the totals of all:
RV ``images`` in the order the plan gave, ``copied``, ``bytes``, ``changed``, and ``progress``, the
lines printed (list of str; printed only when the task is not ``no_log``). A failed batch fails the
task with the module's error, the entries of the batches that finished and of the images already
there, and ``changed`` when an earlier batch copied anything. With ``direction: pull`` and nothing to
copy, a real run on no image follows the plan, so that the layout is created and cleaned of what an
interrupted copy left (partial blobs, staging layouts), as one module run does. ``async`` is not
supported on this task (the batches are separate module runs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, parse_image_ref, unique_images

display = Display()

MODULE = "onprem.stack.image_mirror"


def human_bytes(n):
    """``n`` bytes (int) as a short string in B, KiB, MiB or GiB (binary units), e.g. ``162.4 MiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return "%d B" % n if unit == "B" else "%.1f %s" % (value, unit)
        value /= 1024
    return "%.1f GiB" % value


def human_seconds(seconds):
    """An image's RV ``seconds`` (int or float; the module rounds it to 0.001 s) as printed: every decimal it
    has, up to three, and at least one (``14.8``, ``0.012``, ``0.0``), so the line carries the returned figure."""
    text = "%.3f" % float(seconds)
    return text.rstrip("0") + "0" if text.endswith(".000") else text.rstrip("0")


def progress_line(host, done, total, verb, where, so_far_bytes, so_far_seconds, batch):
    """One progress line (str): ``host`` (str), ``done``/``total`` images (int), ``verb`` ("pushed to" or
    "pulled into"), ``where`` (registry or layout, str), the bytes (int) and seconds (float) so far, and the
    batch just finished: list of module RV ``images`` entries (``ref``, ``bytes``, ``seconds``), each image's
    seconds as returned (human_seconds)."""
    head = "image_mirror [%s]: %d/%d images %s %s (%s, %.1f s so far):" % (
        host, done, total, verb, where, human_bytes(so_far_bytes), so_far_seconds)
    lines = ["  %s (%s, %s s)" % (e["ref"], human_bytes(e.get("bytes", 0)), human_seconds(e.get("seconds", 0.0)))
             for e in batch]
    return "\n".join([head] + lines)


def _charts_by_ref(images):
    """{normalised ref: [charts]} of the task's ``images`` entries, merged as the module merges them
    (``unique_images``); {} when a reference is invalid (the plan has failed on it already)."""
    try:
        return dict((str(parse_image_ref(i["ref"])), i["charts"]) for i in unique_images(images or []))
    except (ImageRefError, KeyError, TypeError, AttributeError):
        return {}


class ActionModule(ActionBase):
    """Plan in check mode, copy in batches, print a line per batch (see the module docstring above)."""

    _supports_check_mode = True
    _supports_async = False

    def _module(self, args, task_vars, check):
        saved = self._task.check_mode
        self._task.check_mode = check
        try:
            return self._execute_module(module_name=MODULE, module_args=dict(args), task_vars=task_vars)
        finally:
            self._task.check_mode = saved

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        real = not self._task.check_mode
        plan = self._module(args, task_vars, check=True)
        if plan.get("failed") or not real or not plan.get("copied"):
            if real and not plan.get("failed") and args.get("direction", "pull") == "pull":
                # Nothing to copy: one real run on no image still creates the layout and removes what an
                # interrupted copy left in it (the module's clean-up of partial blobs and staging layouts).
                tidy = self._module(dict(args, images=[]), task_vars, check=False)
                if tidy.get("failed"):
                    plan = tidy
            result.update(plan)
            return result
        todo = [e["ref"] for e in plan["images"] if not e.get("skipped")]
        try:
            batch_size = max(1, int(args.get("parallel", 4)))
        except (TypeError, ValueError):
            batch_size = 4
        host = self._task.delegate_to or task_vars.get("inventory_hostname", "?")
        push = args.get("direction") == "push"
        verb, where = ("pushed to", args.get("registry")) if push else ("pulled into", args.get("layout"))
        charts = _charts_by_ref(args.get("images"))
        done, progress, copied_bytes, started = {}, [], 0, time.monotonic()
        warnings, deprecations = list(plan.get("warnings") or []), list(plan.get("deprecations") or [])
        last = plan
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            batch_args = dict(args, images=[{"ref": ref, "charts": charts.get(ref, [])} for ref in batch])
            res = self._module(batch_args, task_vars, check=False)
            warnings += [w for w in res.get("warnings") or [] if w not in warnings]
            deprecations += [d for d in res.get("deprecations") or [] if d not in deprecations]
            if res.get("failed"):
                # The images of the batches that finished, and those already there; changed when any was copied.
                res["images"] = [done.get(e["ref"], e) for e in plan["images"] if e["ref"] in done or e.get("skipped")]
                res["changed"] = bool(done)
                res["progress"] = progress
                result.update(res)
                break
            for entry in res.get("images") or []:
                done[entry["ref"]] = entry
            last = res
            copied_bytes += sum(e.get("bytes", 0) for e in res.get("images") or [])
            line = progress_line(host, min(start + batch_size, len(todo)), len(todo), verb, where, copied_bytes,
                                 time.monotonic() - started, res.get("images") or [])
            progress.append(line)
            if not self._task.no_log:
                display.display(line, stderr=True)
        else:
            images = [done.get(e["ref"], e) for e in plan["images"]]
            copied = [e for e in images if not e.get("skipped")]
            # The last run's result (invocation, interpreter facts, ...) with the totals of all of them.
            result.update(last)
            result.update(dict(changed=bool(copied), images=images, copied=len(copied),
                               bytes=sum(e.get("bytes", 0) for e in images), progress=progress))
        if warnings:
            result["warnings"] = warnings
        if deprecations:
            result["deprecations"] = deprecations
        return result
