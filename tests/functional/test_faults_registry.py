"""A fault healed by a re-run (issue 8, section 4): the site registry stops while images load.

Real programs only: docker-registry (the target, TLS from a throw-away CA), skopeo (the copies), the
image_mirror module in-process. A watcher thread stops the target registry as soon as the first image's tag
is stored, so the load is interrupted between images; the module must fail with a message naming the image it
was copying. The registry then comes back on the same address and storage, and the re-run copies only what
was left and ends with every image's digest in the registry. Cost: about 15 s.

So that "between images" does not depend on the host's speed, the module finds first on its PATH a wrapper
(GATED_SKOPEO) that runs the real skopeo, except that the copy of any image other than app/one waits until a
gate file exists: the watcher opens it once those copies wait and the registry is stopped.
"""
import os
import threading
import time

from ansible_collections.onprem.stack.plugins.modules import image_mirror

from registry_fixture import TOOLS, Registry, upstream  # noqa: F401 (a fixture)  # pylint: disable=unused-import

# skopeo for the module: `skopeo copy` of an image other than app/one first marks itself waiting
# ($SKOPEO_GATE.waiting.<pid>) and waits (600 s at most) until the file $SKOPEO_GATE exists.
GATED_SKOPEO = """#!/bin/sh
if [ "$1" = copy ]; then
  case "$*" in
    */app/one:*) ;;
    *) touch "$SKOPEO_GATE.waiting.$$"
       n=0
       while [ ! -e "$SKOPEO_GATE" ] && [ "$n" -lt 6000 ]; do sleep 0.1; n=$((n + 1)); done ;;
  esac
fi
exec %s "$@"
"""


def test_registry_stopped_while_images_load(run_module, upstream, tmp_path, monkeypatch):  # noqa: F811
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
    stopped, ready, module_done = threading.Event(), threading.Event(), threading.Event()
    wrapper = tmp_path / "bin" / "skopeo"
    wrapper.parent.mkdir()
    wrapper.write_text(GATED_SKOPEO % TOOLS["skopeo"])
    wrapper.chmod(0o755)
    gate = tmp_path / "gate"
    monkeypatch.setenv("PATH", "%s%s%s" % (wrapper.parent, os.pathsep, os.environ["PATH"]))
    monkeypatch.setenv("SKOPEO_GATE", str(gate))

    def stop_after_first_image():
        """Once app/one is stored and the copies of the two other images wait: stop the registry, open the gate.
        The bound (600 s) and the module's end only end a broken run."""
        deadline = time.monotonic() + 600
        try:
            while time.monotonic() < deadline and not module_done.is_set():
                if first_tag.exists() and len(list(gate.parent.glob(gate.name + ".waiting.*"))) == len(refs) - 1:
                    ready.set()
                    break
                time.sleep(0.02)
            target.stop()
            stopped.set()
        finally:
            gate.touch()

    args = {"direction": "push", "layout": str(layout), "registry": target.host, "ca_cert_dir": str(target.certs),
            "_ansible_remote_tmp": str(tmp_path / "remote-tmp")}
    watcher = threading.Thread(target=stop_after_first_image)
    watcher.start()
    try:
        try:
            failed, res = run_module(image_mirror.main, args)
        finally:
            module_done.set()
        watcher.join()
        assert ready.is_set() and stopped.is_set(), "the registry was not stopped after the first image: %s" % res
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
