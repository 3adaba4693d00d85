"""GPU workloads in examples/ follow docs/gpu.md, "GPU workloads" (issue 19, fault 2).

k3s adds the runtime ``nvidia`` and the RuntimeClass ``nvidia`` but keeps runc as the
default runtime (k3s documentation, "Advanced options", "NVIDIA Container Runtime
Support"); this collection keeps it so. A pod that asks for ``nvidia.com/gpu`` without
``runtimeClassName: nvidia`` runs under runc and sees no GPU. Every values block of the
examples that requests ``nvidia.com/gpu`` (in ``resources.limits`` or
``resources.requests``) must therefore also set ``runtimeClassName: nvidia``, select
the GPU nodes by the role's label and tolerate the GPU taint.
"""
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(p for p in (REPO / "examples").rglob("*.yml") if "templates" not in p.parts)
GPU_LABEL = yaml.safe_load((REPO / "roles" / "k3s" / "defaults" / "main.yml").read_text())["k3s_gpu_node_labels"][0]
GPU_TAINT_KEY = "nvidia.com/gpu"


def _gpu_blocks(node, where=""):
    """(path, mapping) of every mapping whose ``resources`` asks for nvidia.com/gpu."""
    if isinstance(node, dict):
        res = node.get("resources")
        if isinstance(res, dict) and any(GPU_TAINT_KEY in (res.get(k) or {}) for k in ("limits", "requests")):
            yield where or "/", node
        for key, value in node.items():
            yield from _gpu_blocks(value, "%s/%s" % (where, key))
    elif isinstance(node, list):
        for idx, value in enumerate(node):
            yield from _gpu_blocks(value, "%s[%d]" % (where, idx))


BLOCKS = [(str(p.relative_to(REPO)) + ":" + w, b) for p in FILES for doc in yaml.safe_load_all(p.read_text())
          for w, b in _gpu_blocks(doc)]


def test_examples_have_gpu_workloads():
    assert BLOCKS, "examples/ should show at least one GPU workload (align's vLLM)"


@pytest.mark.parametrize("where,block", BLOCKS, ids=[block[0] for block in BLOCKS])
def test_gpu_workload_asks_for_the_nvidia_runtime(where, block):
    assert block.get("runtimeClassName") == "nvidia", f"{where}: a GPU pod needs runtimeClassName: nvidia"


@pytest.mark.parametrize("where,block", BLOCKS, ids=[block[0] for block in BLOCKS])
def test_gpu_workload_selects_and_tolerates_gpu_nodes(where, block):
    key, value = GPU_LABEL.split("=", 1)
    assert (block.get("nodeSelector") or {}).get(key) == value, f"{where}: nodeSelector {key}: {value}"
    tolerations = [t for t in block.get("tolerations") or [] if t.get("key") == GPU_TAINT_KEY]
    assert tolerations, f"{where}: no toleration of {GPU_TAINT_KEY}"
    # any effect and value, as the role may set NoSchedule or nvidia_node_taints' own
    assert all(t.get("operator") == "Exists" and "effect" not in t for t in tolerations), \
        f"{where}: tolerate {GPU_TAINT_KEY} with operator Exists and no effect: {tolerations}"
