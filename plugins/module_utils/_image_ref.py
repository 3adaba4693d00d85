# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Parse and normalise container image references.

The grammar is the one of the CNCF distribution project's ``reference`` package
(github.com/distribution/reference, ``reference.go`` and ``regexp.go``), with the
normalisation rules of its ``normalize.go`` (what ``docker pull`` does):

* ``reference := name [ ":" tag ] [ "@" digest ]``
* ``name := [domain "/"] path-component ["/" path-component]*``; the first component
  is a domain only when it contains ``.`` or ``:``, is ``localhost``, or has an
  upper-case letter; otherwise the domain is ``docker.io``.
* ``domain := host [":" port]``, host a DNS name, IPv4 address or ``[IPv6]``.
* ``path-component := [a-z0-9]+ (separator [a-z0-9]+)*``, separator ``_``, ``__``,
  ``.`` or one or more ``-``; the whole name is at most 255 characters.
* ``tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``.
* ``digest := algorithm ":" hex``; ``sha256`` needs 64 and ``sha512`` 128 lower-case
  hex digits (OCI image spec, descriptor.md), other algorithms at least 32.

Normalisation: ``index.docker.io`` becomes ``docker.io``; a one-component name on
``docker.io`` gets ``library/``; a reference with neither tag nor digest gets the
tag ``latest`` explicitly. Invalid input raises :class:`ImageRefError`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

DEFAULT_REGISTRY = "docker.io"
LEGACY_REGISTRY = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6 + r")"
_DOMAIN = _HOST + r"(?::[0-9]+)?"

_PATH_RE = re.compile(r"^" + _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*$")
_DOMAIN_RE = re.compile(r"^" + _DOMAIN + r"$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_DIGEST_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})$")
_DIGEST_HEX_LEN = {"sha256": 64, "sha512": 128}


class ImageRefError(ValueError):
    """Raised for a string that is not a valid image reference; the message names it."""


class ImageRef(namedtuple("ImageRef", ["registry", "repository", "tag", "digest"])):
    """A normalised image reference.

    Fields (all ``str``; ``tag``/``digest`` may be ``None``):
      registry    registry host with optional port, e.g. ``docker.io``, ``registry.local:5000``
      repository  path inside the registry, e.g. ``library/busybox``, ``team/app/api``
      tag         e.g. ``latest``; ``None`` only when a digest is given without a tag
      digest      ``<algorithm>:<hex>``, e.g. ``sha256:…``, or ``None``
    """

    __slots__ = ()

    @property
    def name(self):
        """``registry/repository`` (str), the reference without tag or digest."""
        return "%s/%s" % (self.registry, self.repository)

    def __str__(self):
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out

    def with_digest(self, digest):
        """Return a copy pinned to ``digest`` (str, validated); the tag is kept."""
        _check_digest(digest, str(self))
        return self._replace(digest=digest)

    def with_registry(self, registry):
        """Return a copy with the registry host (``host[:port]``, validated) replaced."""
        if not _DOMAIN_RE.match(registry or ""):
            raise ImageRefError("invalid registry host %r (expected host[:port])" % (registry,))
        return self._replace(registry=registry)


def _check_digest(digest, ref):
    m = _DIGEST_RE.match(digest)
    if not m:
        raise ImageRefError("invalid digest %r in image reference %r (expected algorithm:hex)" % (digest, ref))
    algo, hexpart = m.group(1), m.group(2)
    want = _DIGEST_HEX_LEN.get(algo)
    if want is not None and (len(hexpart) != want or hexpart != hexpart.lower()):
        raise ImageRefError("invalid %s digest in image reference %r: expected %d lower-case hex digits"
                            % (algo, ref, want))


def parse_image_ref(text):
    """Parse and normalise one image reference.

    :param text: the reference as written in a chart or inventory (str), e.g.
        ``busybox``, ``ghcr.io/org/app:1.2``, ``registry:5000/a/b@sha256:…``.
    :returns: :class:`ImageRef` with registry, repository, tag (``latest`` when neither
        tag nor digest was given) and digest.
    :raises ImageRefError: when ``text`` is not a string, is empty, has upper-case
        letters in the repository, an invalid domain, tag or digest, or a name over
        255 characters. The message quotes ``text``.
    """
    if not isinstance(text, str):
        raise ImageRefError("image reference must be a string, got %s" % type(text).__name__)
    ref = text.strip()
    if not ref:
        raise ImageRefError("image reference is empty")
    if any(c.isspace() for c in ref):
        raise ImageRefError("invalid image reference %r: contains whitespace" % text)

    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        _check_digest(digest, text)

    tag = None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1:]
        if not _TAG_RE.match(tag):
            raise ImageRefError("invalid tag %r in image reference %r (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
                                % (tag, text))

    if not ref:
        raise ImageRefError("invalid image reference %r: no repository name" % text)

    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        registry, path = first, rest
        if not _DOMAIN_RE.match(registry):
            raise ImageRefError("invalid registry host %r in image reference %r" % (registry, text))
    else:
        registry, path = DEFAULT_REGISTRY, ref
    if registry == LEGACY_REGISTRY:
        registry = DEFAULT_REGISTRY

    if not _PATH_RE.match(path):
        hint = " (repository names must be lower case)" if path.lower() != path else ""
        raise ImageRefError("invalid repository %r in image reference %r%s" % (path, text, hint))
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if len(registry) + 1 + len(path) > NAME_TOTAL_MAX:
        raise ImageRefError("image name in %r is longer than %d characters" % (text, NAME_TOTAL_MAX))

    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageRef(registry, path, tag, digest)


def normalise_image_ref(text):
    """Return the canonical string of ``text`` (str), e.g. ``docker.io/library/busybox:latest``.

    :raises ImageRefError: as :func:`parse_image_ref`.
    """
    return str(parse_image_ref(text))


def unique_images(images):
    """Merge entries of ``images`` (list of {ref, charts}) whose references normalise to
    the same image: the first one's position is kept and the charts are united.
    Raises ImageRefError for an invalid reference."""
    out = {}
    for item in images:
        key = str(parse_image_ref(item["ref"]))
        charts = set(item.get("charts") or [])
        if key in out:
            out[key]["charts"] = sorted(set(out[key]["charts"]) | charts)
        else:
            out[key] = dict(item, charts=sorted(charts))
    return list(out.values())


def registry_collisions(refs):
    """Find the images that would land on the same name in one registry.

    Mirroring keeps an image's repository and tag but replaces its registry host (the
    site registry serves ``docker.io/library/x:1`` and ``quay.io/library/x:1`` both as
    ``<site>/library/x:1``), so two references that differ only by registry host (or,
    for the same tag, only by digest) would overwrite each other there.

    :param refs: iterable of image reference strings (any form ``parse_image_ref`` takes).
    :returns: list of ``(name, [ref, ref, ...])``, ``name`` the shared ``repository:tag``
        (``repository@digest`` for a reference without a tag) and the normalised
        references (str, in input order, each once) that map to it; only names with two
        or more references, in the order their first reference appears. Empty when none
        collide.
    :raises ImageRefError: for an invalid reference.
    """
    groups = {}
    for text in refs:
        ref = parse_image_ref(text)
        name = ref.repository + (":" + ref.tag if ref.tag else "@" + ref.digest)
        members = groups.setdefault(name, [])
        if str(ref) not in members:
            members.append(str(ref))
    return [(name, members) for name, members in groups.items() if len(members) > 1]
