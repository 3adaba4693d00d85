"""A fault healed by a re-run (issue 8, section 4): the site registry stops while images load.

Real programs only: docker-registry (the target, TLS from a throw-away CA), skopeo (the copies), the
image_mirror module in-process. A watcher thread stops the target registry as soon as the first image's tag
is stored, so the load is interrupted between images; the module must fail with a message naming the image it
was copying. The registry then comes back on the same address and storage, and the re-run copies only what
was left and ends with every image's digest in the registry. Cost: about 15 s.
"""
import threading
import time

from ansible_collections.onprem.stack.plugins.modules import image_mirror

from registry_fixture import Registry, upstream  # noqa: F401 (a fixture)  # pylint: disable=unused-import


def test_registry_stopped_while_images_load(run_module, upstream, tmp_path):  # noqa: F811
    reg, seeded = upstream
    layout = tmp_path / "images"
    refs = ["app/one:1.0", "app/two:1.0", "app/multi:1.0"]
    failed, res = run_module(image_mirror.main, {"layout": str(layout), "platform": "all", "ca_cert_dir": str(reg.certs),
                                                 "images": [{"ref": f"{reg.host}/{r}"} for r in refs]})
    assert not failed, res

    target = Registry(tmp_path / "target")
    # The tag's current/link, written last when distribution stores a tag (its tags/1.0 directory comes first:
    # a stop between the two leaves app/one untagged, and the re-run would copy all three).
    first_tag = target.root / "data/docker/registry/v2/repositories/app/one/_manifests/tags/1.0/current/link"
    stopped = threading.Event()

    def stop_after_first_image():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not first_tag.exists():
            time.sleep(0.02)
        target.stop()
        stopped.set()

    args = {"direction": "push", "layout": str(layout), "registry": target.host, "ca_cert_dir": str(target.certs),
            "_ansible_remote_tmp": str(tmp_path / "remote-tmp")}
    watcher = threading.Thread(target=stop_after_first_image)
    watcher.start()
    try:
        failed, res = run_module(image_mirror.main, args)
        watcher.join()
        assert stopped.is_set() and first_tag.exists(), "the registry was not stopped after the first image"
        assert failed, "the load succeeded although the registry was stopped: %s" % res
        named = [r for r in refs if f"{reg.host}/{r}" in res["msg"]]
        assert len(named) == 1 and target.host in res["msg"], "the error names no image it was copying: %s" % res["msg"]

        target.restart()
        failed, res = run_module(image_mirror.main, args)
        assert not failed, res
        assert res["changed"] and 1 <= res["copied"] < len(refs), res  # app/one was stored before the stop
        for ref in refs:
            assert target.digest(ref) == seeded[ref], ref
        failed, res = run_module(image_mirror.main, args)
        assert not failed and res["copied"] == 0 and not res["changed"], res
    finally:
        watcher.join()
        if target.proc.poll() is None:
            target.stop()
