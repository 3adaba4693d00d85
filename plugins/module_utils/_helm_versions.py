# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Helm versions and what differs between them (helm v3.8+ and v4 CLI).

:func:`parse_version` reads ``helm version``, :func:`check_supported` refuses what
onprem.stack does not support, and :class:`HelmCapabilities` holds every command-line
difference between the helm majors and minors; ``_helm.py`` (the only place that builds
helm command lines) asks it for each flag that differs. Errors raise :class:`HelmError`
(the command, rc, stdout and stderr when a command failed; see CommandError).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

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
    :ivar wait: arguments that make install, upgrade, rollback and uninstall wait until
        the resources are ready (or deleted): ``["--wait"]`` (helm 3, a boolean) or
        ``["--wait=watcher"]`` (helm 4, where ``--wait`` takes a strategy and the
        default, ``hookOnly``, waits for hooks only).
    :ivar login_ca_file: whether ``helm registry login`` takes ``--ca-file`` (helm 4;
        helm v3.10.1 has none, so the CA reaches it through ``SSL_CERT_FILE``).
    """

    def __init__(self, version):
        self.version = version
        self.major = version.major
        helm4 = version.major >= 4
        self.rollback_on_failure = "--rollback-on-failure" if helm4 else "--atomic"
        self.force_replace = "--force-replace" if helm4 else "--force"
        self.server_dry_run = version >= (3, 13, 0)
        self.list_all = [] if helm4 else ["--all"]
        self.wait = ["--wait=watcher"] if helm4 else ["--wait"]
        self.login_ca_file = helm4

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
