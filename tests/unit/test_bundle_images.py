"""The comparison of preflight's bundle image check (plugins/module_utils/_bundle_images.py)
without helm: which references a bundle.json serves, and the failures that name a file.
The check with the real chart_images module and helm: tests/functional/test_preflight_bundle_images.py."""
import pytest

from ansible_collections.onprem.stack.plugins.module_utils._bundle import build_manifest, write_manifest
from ansible_collections.onprem.stack.plugins.module_utils._bundle_images import (
    BundleImagesError, _bundled, charts_to_render, in_bundle, missing_images)

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def _served(bundle_images):
    return _bundled(build_manifest([], images=bundle_images))


@pytest.mark.parametrize("ref, expected", [
    ("ghcr.io/x/web:1.0", True),                    # the same reference
    ("ghcr.io/x/web:1.1", False),                   # another tag
    ("ghcr.io/x/web@" + A, True),                   # the recorded digest of web:1.0
    ("ghcr.io/x/web:2.0@" + A, True),               # pinned: the digest decides
    ("quay.io/x/web:1.0", False),                   # another registry
    ("docker.io/library/redis:7.2", True),          # tag of a reference loaded with tag and digest
    ("docker.io/library/redis:7.2@" + B, True),
    ("docker.io/library/redis:7.4@" + A, False),
])
def test_in_bundle(ref, expected):
    refs, pinned = _served([{"ref": "ghcr.io/x/web:1.0", "digest": A},
                            {"ref": "docker.io/library/redis:7.2@" + B, "digest": B}])
    assert in_bundle(ref, refs, pinned) is expected


def test_only_the_release_that_renders_the_image_is_named(tmp_path):
    write_manifest(str(tmp_path), build_manifest([], images=[{"ref": "ghcr.io/x/web:1.0", "digest": A}]))
    images = [{"ref": "ghcr.io/x/web:1.0", "charts": ["a", "b"]}, {"ref": "ghcr.io/x/worker:1.0", "charts": ["b"]}]
    releases = [{"name": "a", "namespace": "ns", "chart": "charts/a"},
                {"name": "b", "namespace": "ns", "chart": "charts/b"}]
    problems = missing_images(images, releases, str(tmp_path), problems=["earlier"])
    assert problems[0] == "earlier" and len(problems) == 2
    assert "release ns/b (chart charts/b) renders 1 image(s)" in problems[1] and "ghcr.io/x/worker:1.0" in problems[1]


def test_missing_bundle_json_names_the_file(tmp_path):
    with pytest.raises(BundleImagesError, match="bundle.json"):
        missing_images([], [{"name": "a", "namespace": "ns", "chart": "c"}], str(tmp_path))


def test_no_helm_and_missing_chart_are_problems(tmp_path):
    plan = charts_to_render([{"name": "a", "namespace": "ns", "chart": "nope"}], str(tmp_path), str(tmp_path),
                            helm_binary=str(tmp_path / "no-helm"))
    assert plan["helm"] == "" and plan["charts"] == []
    assert "preflight_helm_binary %s is not an executable" % (tmp_path / "no-helm") in plan["problems"][0]
    assert "release ns/a: its chart nope does not exist on the control node" in plan["problems"][1]
