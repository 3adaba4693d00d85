"""onprem.stack.bundle: write and verify bundle.json on a real directory tree."""
import json
import os

import pytest

from ansible_collections.onprem.stack.plugins.module_utils import _bundle
from ansible_collections.onprem.stack.plugins.modules import bundle

DIGEST = "sha256:" + "b" * 64


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "k3s").write_bytes(b"k3s-binary" * 1000)
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "app-1.0.0.tgz").write_bytes(b"chart")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "model.bin").write_bytes(os.urandom(4096))
    return tmp_path


def _present(run_module, path, **kw):
    args = {"path": str(path), "images": [{"ref": "docker.io/library/busybox:1.36", "digest": DIGEST}]}
    args.update(kw.pop("args", {}))
    return run_module(bundle.main, args, **kw)


def test_check_then_write_then_idempotent(run_module, tree):
    failed, res = _present(run_module, tree, check=True)
    assert not failed and res["changed"] is True
    assert not (tree / "bundle.json").exists(), "check mode wrote bundle.json"

    failed, res = _present(run_module, tree)
    assert not failed and res["changed"] is True and res["files"] == 3
    data = json.loads((tree / "bundle.json").read_text())
    assert data["schema_version"] == 1
    assert [f["path"] for f in data["files"]] == ["bin/k3s", "charts/app-1.0.0.tgz", "files/model.bin"]
    assert data["files"][0]["size"] == 10000
    assert data["files"][0]["sha256"] == _bundle.sha256_file(str(tree / "bin" / "k3s"))
    assert data["images"] == [{"ref": "docker.io/library/busybox:1.36", "digest": DIGEST}]
    created = data["created"]

    failed, res = _present(run_module, tree, check=True)
    assert not failed and res["changed"] is False
    failed, res = _present(run_module, tree)
    assert not failed and res["changed"] is False
    assert res["hashed_bytes"] == 0, "quick re-run re-read unchanged files"
    assert json.loads((tree / "bundle.json").read_text())["created"] == created


def test_new_file_changes_manifest_and_diff(run_module, tree):
    _present(run_module, tree)
    (tree / "files" / "extra.txt").write_text("x")
    failed, res = _present(run_module, tree, diff=True)
    assert not failed and res["changed"] is True
    assert "files/extra.txt" in res["diff"]["after"] and "files/extra.txt" not in res["diff"]["before"]


def test_verify_ok_quick_and_full(run_module, tree):
    _present(run_module, tree)
    for mode in ("quick", "full"):
        failed, res = run_module(bundle.main, {"path": str(tree), "state": "verified", "mode": mode})
        assert not failed and res["problems"] == [] and res["changed"] is False


def test_verify_flipped_byte_named_in_full_mode_only(run_module, tree):
    _present(run_module, tree)
    model = tree / "files" / "model.bin"
    data = bytearray(model.read_bytes())
    data[100] ^= 0x01
    model.write_bytes(bytes(data))
    failed, res = run_module(bundle.main, {"path": str(tree), "state": "verified", "mode": "quick"})
    assert not failed, "same size: quick mode cannot see it"
    failed, res = run_module(bundle.main, {"path": str(tree), "state": "verified", "mode": "full"})
    assert failed
    assert "files/model.bin has sha256" in res["msg"]
    assert res["problems"] == [{"path": "files/model.bin", "problem": "sha256",
                                "expected": _bundle.load_manifest(str(tree))["files"][2]["sha256"],
                                "found": _bundle.sha256_file(str(model))}]


def test_verify_missing_extra_and_size(run_module, tree):
    _present(run_module, tree)
    (tree / "charts" / "app-1.0.0.tgz").unlink()
    (tree / "files" / "stray").write_text("?")
    (tree / "bin" / "k3s").write_bytes(b"short")
    failed, res = run_module(bundle.main, {"path": str(tree), "state": "verified"})
    assert failed
    assert {(p["path"], p["problem"]) for p in res["problems"]} == {
        ("charts/app-1.0.0.tgz", "missing"), ("files/stray", "extra"), ("bin/k3s", "size")}
    for name in ("charts/app-1.0.0.tgz is missing", "files/stray is not listed", "bin/k3s has 5 bytes"):
        assert name in res["msg"]


def test_verify_without_manifest_names_it(run_module, tree):
    failed, res = run_module(bundle.main, {"path": str(tree), "state": "verified"})
    assert failed and "bundle.json" in res["msg"]


def test_bad_image_digest_is_refused(run_module, tree):
    failed, res = _present(run_module, tree, args={"images": [{"ref": "busybox", "digest": "sha256:123"}]})
    assert failed and "busybox" in res["msg"] and "sha256:<64 hex>" in res["msg"]
    assert not (tree / "bundle.json").exists()


def test_missing_directory(run_module, tmp_path):
    failed, res = run_module(bundle.main, {"path": str(tmp_path / "nope")})
    assert failed and "does not exist" in res["msg"] and "path" in res["msg"]


def test_symlink_refused(run_module, tree):
    os.symlink("/etc/passwd", tree / "files" / "link")
    failed, res = _present(run_module, tree)
    assert failed and "files/link" in res["msg"] and "symbolic link" in res["msg"]


def test_manifest_path_escaping_bundle_is_refused(tree):
    (tree / "bundle.json").write_text(json.dumps({"schema_version": 1, "files": [
        {"path": "../etc/passwd", "size": 1, "sha256": "a" * 64}]}))
    with pytest.raises(_bundle.BundleError, match="leaves the bundle"):
        _bundle.load_manifest(str(tree))


def test_partial_files_are_ignored(tree):
    (tree / "images").mkdir()
    (tree / "images" / "blob.part").write_bytes(b"partial")
    assert "images/blob.part" not in _bundle.list_files(str(tree))
