"""onprem.stack.image_mirror against a real registry (docker-registry on loopback,
TLS from a throw-away CA) with images built offline; skopeo does the copies."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.onprem.stack.plugins.module_utils._oci import oci_blobs, oci_lookup
from ansible_collections.onprem.stack.plugins.modules import image_mirror

from registry_fixture import Registry, StallingProxy, upstream  # noqa: F401 (a fixture)  # pylint: disable=unused-import


def _imgs(reg, *refs):
    return [{"ref": f"{reg.host}/{r}"} for r in refs]


def test_pull_check_then_real_then_skip(run_module, upstream, tmp_path):  # noqa: F811
    reg, seeded = upstream
    layout = tmp_path / "images"
    args = {"layout": str(layout), "images": _imgs(reg, "app/one:1.0", "app/two:1.0"),
            "ca_cert_dir": str(reg.certs)}
    failed, res = run_module(image_mirror.main, args, check=True)
    assert not failed and res["changed"] and res["copied"] == 2
    assert not layout.exists(), "check mode created the layout"

    failed, res = run_module(image_mirror.main, args)
    assert not failed and res["changed"] and res["copied"] == 2, res
    one, two = res["images"]
    assert one["digest"] == seeded["app/one:1.0"] and two["digest"] == seeded["app/two:1.0"]
    assert one["bytes"] > 0 and two["bytes"] > 0
    # Blobs shared: the layout holds the busybox base layer once; the second image
    # added only its own layer, manifest and config.
    blobs = oci_blobs(str(layout))
    assert len(blobs) == 1 + 2 * (1 + 1 + 1)  # base + (own layer, config, manifest) x2
    assert two["bytes"] < one["bytes"]
    assert oci_lookup(str(layout), f"{reg.host}/app/one:1.0")["digest"] == seeded["app/one:1.0"]

    failed, res = run_module(image_mirror.main, args)
    assert not failed and not res["changed"] and res["copied"] == 0
    assert all(i["skipped"] and i["bytes"] == 0 for i in res["images"])


def test_pull_multi_arch_one_platform_or_all(run_module, upstream, tmp_path):  # noqa: F811
    reg, seeded = upstream
    index = json.loads(subprocess.run(["skopeo", "inspect", "--raw", "--cert-dir", str(reg.certs),
                                       f"docker://{reg.host}/app/multi:1.0"], capture_output=True, text=True,
                                      check=True).stdout)
    arm = next(m["digest"] for m in index["manifests"] if m["platform"]["architecture"] == "arm64")
    failed, res = run_module(image_mirror.main, {"layout": str(tmp_path / "a"), "platform": "linux/arm64",
                                                 "images": _imgs(reg, "app/multi:1.0"),
                                                 "ca_cert_dir": str(reg.certs)})
    assert not failed and res["images"][0]["digest"] == arm
    failed, res = run_module(image_mirror.main, {"layout": str(tmp_path / "b"), "platform": "all",
                                                 "images": _imgs(reg, "app/multi:1.0"),
                                                 "ca_cert_dir": str(reg.certs)})
    assert not failed and res["images"][0]["digest"] == seeded["app/multi:1.0"]
    failed, res = run_module(image_mirror.main, {"layout": str(tmp_path / "c"), "platform": "linux/s390x",
                                                 "images": _imgs(reg, "app/multi:1.0"),
                                                 "ca_cert_dir": str(reg.certs)})
    assert failed and "linux/s390x" in res["msg"] and "app/multi:1.0" in res["msg"]


def test_missing_image_names_image_and_chart(run_module, upstream, tmp_path):  # noqa: F811
    reg = upstream[0]
    failed, res = run_module(image_mirror.main, {
        "layout": str(tmp_path / "l"), "ca_cert_dir": str(reg.certs),
        "images": [{"ref": f"{reg.host}/app/absent:9.9", "charts": ["webui"]}]})
    assert failed
    assert f"{reg.host}/app/absent:9.9" in res["msg"] and "chart webui" in res["msg"] and "not found" in res["msg"]


def test_registry_without_ca_is_a_clear_tls_error(run_module, upstream, tmp_path):  # noqa: F811
    """A TLS failure does not hang: skopeo exits by itself with its error (a hang would be stopped by the
    module's timeout, 60 s here, and end with timeout's exit status 124 or 137)."""
    reg = upstream[0]
    failed, res = run_module(image_mirror.main, {"layout": str(tmp_path / "l"), "timeout": 60,
                                                 "images": _imgs(reg, "app/one:1.0")})
    assert failed and "TLS verification failed" in res["msg"] and "ca_cert_dir" in res["msg"], res
    assert res["rc"] not in (124, 137) and "timed out" not in res["msg"], "a TLS failure must not hang: %s" % res


def test_push_to_target_registry_with_auth(run_module, upstream, tmp_path):  # noqa: F811
    reg, seeded = upstream
    layout = tmp_path / "images"
    run_module(image_mirror.main, {"layout": str(layout), "platform": "all", "ca_cert_dir": str(reg.certs),
                                   "images": _imgs(reg, "app/one:1.0", "app/multi:1.0")})
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(subprocess.run(["htpasswd", "-Bbn", "loader", "s3cret-pw"], capture_output=True,
                                       text=True, check=True).stdout)
    target = Registry(tmp_path / "target", htpasswd=htpasswd)
    try:
        args = {"direction": "push", "layout": str(layout), "registry": target.host,
                "ca_cert_dir": str(target.certs), "username": "loader", "password": "s3cret-pw",
                "_ansible_remote_tmp": str(tmp_path / "remote-tmp")}
        failed, res = run_module(image_mirror.main, args)
        assert not failed and res["copied"] == 2, res
        assert "s3cret-pw" not in json.dumps(res)
        for img in res["images"]:
            ref = img["ref"].split("/", 1)[1]
            out = subprocess.run(["skopeo", "inspect", "--raw", "--cert-dir", str(target.certs), "--creds",
                                  "loader:s3cret-pw", f"docker://{target.host}/{ref}"],
                                 capture_output=True, text=True, check=True).stdout
            import hashlib  # noqa: PLC0415
            assert "sha256:" + hashlib.sha256(out.encode()).hexdigest() == seeded[ref]
        failed, res = run_module(image_mirror.main, args)
        assert not failed and res["copied"] == 0 and not res["changed"]
        failed, res = run_module(image_mirror.main, dict(args, password="wrong"))
        assert failed and "wrong" not in res["msg"]
        # Credentials travel in a 0600 auth file, never on skopeo's command line.
        assert res["cmd"] and not any("wrong" in a or "--creds" in a for a in res["cmd"]), res["cmd"]
        flag = next(i for i, a in enumerate(res["cmd"]) if a.endswith("authfile"))
        authfile = res["cmd"][flag + 1]
        assert authfile.startswith(str(tmp_path / "remote-tmp") + "/"), "auth file outside module.tmpdir"
    finally:
        target.stop()


def test_references_differing_only_by_host_are_refused_before_any_copy(run_module, upstream, tmp_path):  # noqa: F811
    """127.0.0.1:<port>/app/one:1.0 and localhost:<port>/app/one:1.0 (one real registry under two
    host names) would both be <site>/app/one:1.0: pull and push refuse both, naming them, and copy nothing."""
    reg, seeded = upstream
    port = reg.host.rsplit(":", 1)[1]
    first, second = f"127.0.0.1:{port}/app/one:1.0", f"localhost:{port}/app/one:1.0"
    layout = tmp_path / "images"
    failed, res = run_module(image_mirror.main, {"layout": str(layout), "ca_cert_dir": str(reg.certs),
                                                 "images": [{"ref": first}, {"ref": second}]})
    assert failed and first in res["msg"] and second in res["msg"] and "app/one:1.0" in res["msg"], res
    assert not layout.exists(), "a copy started before the collision was refused"

    # A layout that holds both names (the second index.json entry is the first, renamed).
    failed, res = run_module(image_mirror.main, {"layout": str(layout), "ca_cert_dir": str(reg.certs),
                                                 "images": [{"ref": first}]})
    assert not failed, res
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    twin = json.loads(json.dumps(index["manifests"][0]))
    twin["annotations"]["org.opencontainers.image.ref.name"] = second
    index["manifests"].append(twin)
    index_path.write_text(json.dumps(index))
    target = Registry(tmp_path / "target")
    try:
        failed, res = run_module(image_mirror.main, {"direction": "push", "layout": str(layout),
                                                     "registry": target.host, "ca_cert_dir": str(target.certs)})
        assert failed and first in res["msg"] and second in res["msg"] and target.host in res["msg"], res
        assert res["images"] == []
        probe = subprocess.run(["skopeo", "inspect", "--raw", "--cert-dir", str(target.certs),
                                f"docker://{target.host}/app/one:1.0"], capture_output=True, text=True, check=False)
        assert probe.returncode != 0, "the image reached the target registry"
    finally:
        target.stop()


def test_interrupted_pull_resumes_copying_only_what_is_missing(upstream, tmp_path):  # noqa: F811
    """Kill the module (and its skopeo) in the middle of copying app/big, then run again. The first run pulls
    through a StallingProxy, which holds app/big's layer after 16 MiB: the copy waits there, with app/one
    done and part of app/big written, until it is killed, however fast or slow the host."""
    reg = upstream[0]
    layout = tmp_path / "images"
    module_args = {"layout": str(layout), "ca_cert_dir": str(reg.certs),
                   "images": _imgs(reg, "app/one:1.0", "app/big:1.0")}
    proxy = StallingProxy(reg)
    try:
        argsfile = tmp_path / "args.json"
        argsfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(module_args, source_registry=proxy.host)}))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        proc = subprocess.Popen([sys.executable, "-m",
                                 "ansible_collections.onprem.stack.plugins.modules.image_mirror", str(argsfile)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        one = f"{reg.host}/app/one:1.0"
        interrupted = False
        deadline = time.monotonic() + 600  # the state is held by the proxy: only a broken copy takes this long
        while time.monotonic() < deadline and proc.poll() is None:
            if proxy.stalled.is_set() and oci_lookup(str(layout), one) and list(layout.glob("**/oci-put-blob*")):
                os.killpg(proc.pid, signal.SIGKILL)
                interrupted = True
                break
            time.sleep(0.05)
        else:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    finally:
        proxy.close()
    assert interrupted, "the module ended before app/one was done and app/big held: %s %s" % (out[-2000:], err[-2000:])
    before = oci_blobs(str(layout))
    assert oci_lookup(str(layout), f"{reg.host}/app/big:1.0") is None

    from ansible.module_utils.testing import patch_module_args  # noqa: PLC0415
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415
    buf = io.StringIO()
    with patch_module_args(module_args), contextlib.redirect_stdout(buf):
        with pytest.raises(SystemExit):
            image_mirror.main()
    res = json.loads(buf.getvalue())
    assert not res.get("failed"), res
    assert [i["skipped"] for i in res["images"]] == [True, False]
    after = oci_blobs(str(layout))
    new_bytes = sum(size for d, size in after.items() if d not in before)
    assert res["bytes"] == new_bytes
    assert all(after[d] == size for d, size in before.items()), "a blob already there was rewritten"
    assert not list(layout.glob("**/oci-put-blob*")), "partial blob left behind"
    # The finished layout holds app/big with the upstream digest.
    assert oci_lookup(str(layout), f"{reg.host}/app/big:1.0")["digest"] == reg.digest("app/big:1.0")


def _playbook(tmp_path, name, args, *extra, pipelining=True):
    """Run the task ``onprem.stack.image_mirror`` with ``args`` through ansible-playbook (local connection), so that
    the action plugin runs as on a site; return (returncode, the task's result, stdout and stderr). Without
    pipelining every module run of the task shares the task's remote tmpdir, as over a connection that cannot
    pipeline (become with requiretty, or a podman connection)."""
    import yaml  # noqa: PLC0415
    out = tmp_path / ("%s.json" % name)
    play = tmp_path / ("%s.yml" % name)
    play.write_text(yaml.safe_dump([{"name": "Test", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Test | mirror", "onprem.stack.image_mirror": args, "register": "mirrored"},
        {"name": "Test | result", "check_mode": False, "ansible.builtin.copy": {
            "dest": str(out), "content": "{{ mirrored | to_json }}", "mode": "0600"}}]}]))
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(repo, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_PIPELINING=str(pipelining))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable, str(play), *extra],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, (json.loads(out.read_text()) if out.exists() else None), proc.stdout + proc.stderr


def test_action_plugin_prints_progress_per_batch(upstream, tmp_path):  # noqa: F811
    """Through ansible-playbook (the action plugin): check mode plans and prints nothing; a pull of three images with
    parallel 1 prints one line per image (done/total, bytes, seconds) on stderr and returns the module's result; the
    re-run copies nothing, prints nothing and removes what an interrupted copy left; a push with parallel 2 prints
    two lines (2/3, 3/3)."""
    reg = upstream[0]
    layout = tmp_path / "images"
    args = {"layout": str(layout), "images": _imgs(reg, "app/one:1.0", "app/two:1.0", "app/multi:1.0"),
            "ca_cert_dir": str(reg.certs), "parallel": 1}
    rc, res, output = _playbook(tmp_path, "check", args, "--check")
    assert rc == 0 and res["changed"] and res["copied"] == 3 and "image_mirror [" not in output, output[-3000:]
    assert not layout.exists()

    rc, res, output = _playbook(tmp_path, "pull", args)
    assert rc == 0 and res["copied"] == 3 and res["changed"], output[-3000:]
    assert [e["ref"] for e in res["images"]] == [i["ref"] for i in args["images"]]
    assert res["bytes"] == sum(e["bytes"] for e in res["images"]) > 0
    # Each image's seconds: wall-clock, rounded to 1 ms, so a small copy on a fast host may report 0.0.
    for entry in res["images"]:
        assert type(entry["seconds"]) in (int, float) and entry["seconds"] >= 0, entry
    assert len(res["progress"]) == 3
    for n, (line, entry) in enumerate(zip(res["progress"], res["images"]), 1):
        assert line.startswith("image_mirror [localhost]: %d/3 images pulled into %s (" % (n, layout)), line
        assert line in output and "s so far):" in line
        # parallel 1: one image a batch, whose line carries the returned figures
        image = re.fullmatch(r"  (\S+) \((.+), ([0-9]+\.[0-9]+) s\)", line.split("\n", 1)[1])
        assert image, line
        assert image.group(1) == entry["ref"] and float(image.group(3)) == entry["seconds"], (line, entry)

    assert set(res) == {"bytes", "changed", "copied", "failed", "images", "progress"} and not res["failed"]
    pulled = {e["ref"]: e["digest"] for e in res["images"]}
    # What an interrupted copy leaves: the re-run with nothing to copy removes it (one real run on no image).
    (layout / ".staging" / "0").mkdir(parents=True)
    (layout / "blobs" / "sha256" / "oci-put-blob123").write_bytes(b"partial")
    rc, res, output = _playbook(tmp_path, "rerun", args)
    assert rc == 0 and not res["changed"] and res["copied"] == 0 and "image_mirror [" not in output
    assert not (layout / ".staging").exists() and not list(layout.glob("blobs/*/oci-put-blob*"))

    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(subprocess.run(["htpasswd", "-Bbn", "loader", "s3cret-pw"], capture_output=True,
                                       text=True, check=True).stdout)
    target = Registry(tmp_path / "target", htpasswd=htpasswd)
    try:
        # With credentials and without pipelining: each batch's module run writes its registry auth file into the
        # task's one remote tmpdir, where the plan's run wrote one before.
        rc, res, output = _playbook(tmp_path, "push", {"direction": "push", "layout": str(layout), "parallel": 2,
                                                       "registry": target.host, "ca_cert_dir": str(target.certs),
                                                       "username": "loader", "password": "s3cret-pw"},
                                    pipelining=False)
        assert rc == 0 and res["copied"] == 3, output[-3000:]
        assert "s3cret-pw" not in output
        assert [line.split(" images ")[0].rsplit(" ", 1)[1] for line in res["progress"]] == ["2/3", "3/3"]
        assert {e["ref"]: e["digest"] for e in res["images"]} == pulled
    finally:
        target.stop()
