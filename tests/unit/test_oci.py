"""module_utils/_oci.py on hand-written OCI image layouts (image-spec image-layout.md):
the functions image_mirror uses to read and write the bundle's images/ directory."""
import base64
import hashlib
import json

import pytest

from ansible_collections.onprem.stack.plugins.module_utils import _oci
from ansible_collections.onprem.stack.plugins.module_utils._skopeo import write_auth_file


def _blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def _image(layout, layer=b"layer-bytes"):
    """Write config, layer and manifest blobs; return the manifest digest."""
    config = _blob(layout, b'{"architecture": "amd64"}')
    lay = _blob(layout, layer)
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": config, "size": 25},
                           "layers": [{"digest": lay, "size": len(layer)}]}).encode()
    return _blob(layout, manifest)


def test_init_merge_lookup_and_sizes(tmp_path):
    layout, staged = tmp_path / "images", tmp_path / "images" / _oci.STAGING / "0"
    _oci.init_layout(str(layout))
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert _oci.oci_index(str(layout)) == []
    digest = _image(layout)
    staged.mkdir(parents=True)
    desc = {"digest": digest, "size": 1, "annotations": {_oci.REF_ANNOTATION: "docker.io/library/a:1"}}
    _oci.write_index(str(staged), [desc])
    _oci.merge_staged(str(layout), str(staged), "docker.io/library/a:1")
    _oci.merge_staged(str(layout), str(staged), "docker.io/library/a:1")  # replaces, never duplicates
    assert _oci.oci_index(str(layout)) == [desc]
    assert _oci.oci_lookup(str(layout), "docker.io/library/a:1") == desc
    assert _oci.oci_lookup(str(layout), "docker.io/library/b:1") is None
    blobs = _oci.image_blobs(str(layout), digest)
    assert len(blobs) == 3 and _oci.image_bytes(str(layout), digest) == sum(blobs.values())
    assert set(blobs) <= set(_oci.oci_blobs(str(layout)))
    (layout / "blobs" / "sha256" / "oci-put-blob123").write_text("partial")
    _oci.clean_partial(str(layout))
    assert not (layout / _oci.STAGING).exists() and not list(layout.glob("blobs/*/oci-put-blob*"))


def test_merge_of_a_copy_that_wrote_no_entry_names_the_staged_index(tmp_path):
    layout, staged = tmp_path / "images", tmp_path / "staged"
    _oci.init_layout(str(layout))
    _oci.init_layout(str(staged))
    with pytest.raises(_oci.OciLayoutError, match=str(staged / "index.json")):
        _oci.merge_staged(str(layout), str(staged), "docker.io/library/a:1")


def test_manifest_entry_without_digest_names_the_blob(tmp_path):
    layout = tmp_path / "images"
    digest = _blob(layout, json.dumps({"schemaVersion": 2, "layers": [{"size": 3}]}).encode())
    with pytest.raises(_oci.OciLayoutError, match="lists an entry without a digest"):
        _oci.image_blobs(str(layout), digest)


def test_platform_manifest():
    index = json.dumps({"mediaType": _oci.INDEX_TYPES[0], "manifests": [
        {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "amd64"}},
    ]})
    assert _oci.platform_manifest(index, "linux/amd64") == "sha256:b"
    assert _oci.platform_manifest(index, "linux/arm64/v8") == "sha256:a"
    assert _oci.platform_manifest(index, "linux/s390x") is False
    assert _oci.platform_manifest(index, "all") is None
    assert _oci.platform_manifest('{"schemaVersion": 2, "layers": []}', "linux/amd64") is None
    with pytest.raises(ValueError):
        _oci.platform_manifest("[1]", "linux/amd64")


def test_auth_file_is_private_and_holds_the_credentials(tmp_path):
    path = tmp_path / "auth.json"
    write_auth_file(str(path), "reg.site:5000", "loader", "pa:ss")
    assert path.stat().st_mode & 0o777 == 0o600
    token = json.loads(path.read_text())["auths"]["reg.site:5000"]["auth"]
    assert base64.b64decode(token).decode() == "loader:pa:ss"
    with pytest.raises(OSError):
        write_auth_file(str(path), "reg.site:5000", "loader", "other")
