"""Image reference parsing and normalisation, from a table (distribution reference grammar)."""
import pytest

from ansible_collections.onprem.stack.plugins.module_utils._image_ref import (
    ImageRefError, normalise_image_ref, parse_image_ref)

D64 = "sha256:" + "a" * 64

VALID = [
    # input, registry, repository, tag, digest
    ("busybox", "docker.io", "library/busybox", "latest", None),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
    ("library/busybox", "docker.io", "library/busybox", "latest", None),
    ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None),
    ("index.docker.io/busybox", "docker.io", "library/busybox", "latest", None),
    ("ghcr.io/org/app:v1.2.3", "ghcr.io", "org/app", "v1.2.3", None),
    ("registry.local:5000/a/b/c:t", "registry.local:5000", "a/b/c", "t", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None),
    ("127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", None),
    ("[::1]:5000/app:x", "[::1]:5000", "app", "x", None),
    ("nvcr.io/nvidia/k8s-device-plugin:v0.17.0", "nvcr.io", "nvidia/k8s-device-plugin", "v0.17.0", None),
    ("registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", None),
    ("busybox@" + D64, "docker.io", "library/busybox", None, D64),
    ("quay.io/a/b:1.0@" + D64, "quay.io", "a/b", "1.0", D64),
    ("a__b/c-d--e/f.g_h:T_1.x-y", "docker.io", "a__b/c-d--e/f.g_h", "T_1.x-y", None),
    ("Host.example/app", "Host.example", "app", "latest", None),
    ("UpperHost/app", "UpperHost", "app", "latest", None),
    ("  busybox  ", "docker.io", "library/busybox", "latest", None),
]


@pytest.mark.parametrize("text,registry,repository,tag,digest", VALID)
def test_valid(text, registry, repository, tag, digest):
    ref = parse_image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


CANONICAL = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("ghcr.io/org/app:1", "ghcr.io/org/app:1"),
    ("busybox@" + D64, "docker.io/library/busybox@" + D64),
    ("quay.io/a/b:1.0@" + D64, "quay.io/a/b:1.0@" + D64),
]


@pytest.mark.parametrize("text,canonical", CANONICAL)
def test_canonical_string_round_trips(text, canonical):
    assert normalise_image_ref(text) == canonical
    assert normalise_image_ref(canonical) == canonical


INVALID = [
    ("", "empty"),
    ("Busybox", "lower case"),
    ("docker.io/Library/busybox", "lower case"),
    ("busybox:", "invalid tag"),
    ("busybox:-bad", "invalid tag"),
    ("busybox:" + "t" * 129, "invalid tag"),
    ("busybox@sha256:abc", "invalid digest"),
    ("busybox@sha256:" + "A" * 64, "64 lower-case"),
    ("busybox@sha256:" + "a" * 63, "64 lower-case"),
    ("busybox@md5", "invalid digest"),
    ("a//b", "invalid repository"),
    ("a/-b", "invalid repository"),
    ("a/b_", "invalid repository"),
    ("reg.io:port/app", "invalid registry host"),
    ("-reg.io/app", "invalid registry host"),
    ("busy box", "whitespace"),
    (":latest", "no repository"),
    ("reg.io/" + "a" * 250, "longer than 255"),
]


@pytest.mark.parametrize("text,message", INVALID)
def test_invalid(text, message):
    with pytest.raises(ImageRefError) as err:
        parse_image_ref(text)
    assert message in str(err.value)


def test_not_a_string():
    with pytest.raises(ImageRefError, match="must be a string"):
        parse_image_ref(None)


def test_with_digest_and_registry():
    ref = parse_image_ref("ghcr.io/org/app:1")
    pinned = ref.with_digest(D64)
    assert str(pinned) == "ghcr.io/org/app:1@" + D64
    assert str(pinned.with_registry("registry.site:5000")) == "registry.site:5000/org/app:1@" + D64
    with pytest.raises(ImageRefError):
        ref.with_digest("sha256:zz")
    with pytest.raises(ImageRefError):
        ref.with_registry("bad host")


def test_unique_images_merges_entries_naming_the_same_image():
    from ansible_collections.onprem.stack.plugins.module_utils._image_ref import unique_images
    merged = unique_images([
        {"ref": "busybox:1.36", "charts": ["b"]},
        {"ref": "ghcr.io/x/y:1"},
        {"ref": "docker.io/library/busybox:1.36", "charts": ["a"]},
    ])
    assert merged == [{"ref": "busybox:1.36", "charts": ["a", "b"]}, {"ref": "ghcr.io/x/y:1", "charts": []}]


def test_registry_collisions_names_references_differing_only_by_host():
    """docker.io/library/x:1 and quay.io/library/x:1 become one name in the site registry."""
    from ansible_collections.onprem.stack.plugins.module_utils._image_ref import registry_collisions
    clashes = registry_collisions([
        "x:1",                                   # docker.io/library/x:1
        "quay.io/library/x:1",
        "docker.io/library/x:1",                 # the first again: not a collision with itself
        "quay.io/library/x:2",                   # other tag: no clash
        "ghcr.io/team/app:1@sha256:" + "a" * 64,
        "team/app:1@sha256:" + "b" * 64,         # same tag, other digest and host
        "ghcr.io/team/other@sha256:" + "c" * 64,
    ])
    assert clashes == [
        ("library/x:1", ["docker.io/library/x:1", "quay.io/library/x:1"]),
        ("team/app:1", ["ghcr.io/team/app:1@sha256:" + "a" * 64, "docker.io/team/app:1@sha256:" + "b" * 64]),
    ]
    assert registry_collisions(["a:1", "b:1", "quay.io/a:1", "quay.io/a:2"]) == []
