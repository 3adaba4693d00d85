"""onprem.stack.image_mirror on OCI image layouts that are broken: every case ends in
fail_json naming the file, never a traceback. The layout is read before skopeo is
looked for or a registry is asked, so no registry or skopeo takes part here."""
import json

import pytest

from ansible_collections.onprem.stack.plugins.modules import image_mirror

DIGEST = "sha256:" + "c" * 64


def _layout(tmp_path, index):
    layout = tmp_path / "images"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    if index is not None:
        (layout / "index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    return layout


def _desc(name=None):
    d = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 10}
    if name:
        d["annotations"] = {"org.opencontainers.image.ref.name": name}
    return d


def _push(run_module, layout, **kw):
    return run_module(image_mirror.main, dict({"direction": "push", "layout": str(layout),
                                               "registry": "registry.invalid:5000"}, **kw))


def test_push_all_with_an_unnamed_index_entry_names_index_json(run_module, tmp_path):
    layout = _layout(tmp_path, {"schemaVersion": 2, "manifests": [_desc("docker.io/library/a:1"), _desc()]})
    failed, res = _push(run_module, layout)
    assert failed
    assert str(layout / "index.json") in res["msg"] and "manifests[1]" in res["msg"]
    assert "org.opencontainers.image.ref.name" in res["msg"] and DIGEST in res["msg"]
    assert res["images"] == []


@pytest.mark.parametrize("index, found", [
    ("{not json", "not a JSON image index"),
    ('["a list"]', "expected an image index"),
    ('{"manifests": {"a": 1}}', "expected an image index"),
    ('{"manifests": [{"mediaType": "x"}]}', "manifests[0] is not a descriptor with a digest"),
    (b"\xff\xfe", "not a JSON image index"),
])
@pytest.mark.parametrize("direction", ["push", "pull"])
def test_corrupt_index_json_names_the_file(run_module, tmp_path, index, found, direction):
    layout = _layout(tmp_path, None)
    if isinstance(index, bytes):
        (layout / "index.json").write_bytes(index)
    else:
        (layout / "index.json").write_text(index)
    args = {"direction": direction, "layout": str(layout), "images": [{"ref": "docker.io/library/a:1"}]}
    if direction == "push":
        args["registry"] = "registry.invalid:5000"
    failed, res = run_module(image_mirror.main, args, check=(direction == "pull"))
    assert failed, res
    assert res["msg"].startswith(str(layout / "index.json") + ":") and found in res["msg"], res["msg"]


def test_push_without_index_json_names_it(run_module, tmp_path):
    layout = _layout(tmp_path, None)
    failed, res = _push(run_module, layout)
    assert failed and str(layout / "index.json") in res["msg"] and "not found" in res["msg"]


def test_push_of_an_image_not_in_the_layout(run_module, tmp_path):
    layout = _layout(tmp_path, {"schemaVersion": 2, "manifests": [_desc("docker.io/library/a:1")]})
    failed, res = _push(run_module, layout, images=[{"ref": "b:2"}])
    assert failed and "docker.io/library/b:2 is not in the layout" in res["msg"]


def test_push_with_an_invalid_name_annotation_names_index_json(run_module, tmp_path):
    layout = _layout(tmp_path, {"schemaVersion": 2, "manifests": [_desc("Not A Valid Ref!")]})
    failed, res = _push(run_module, layout)
    assert failed and res["msg"].startswith(str(layout / "index.json")), res["msg"]
