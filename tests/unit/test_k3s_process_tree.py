"""The filter onprem.stack.k3s_process_tree (roles/k3s reset): the PIDs of k3s' containerd
shims and of every process below them, from `ps -e -ww -o pid=,ppid=,args=` (procps ps(1):
right-aligned PID and PPID, then the full command line), as k3s' own k3s-killall.sh
(install.sh: getshims, pstree, killtree) kills them; plus playbooks/reset.yml's order."""
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.k3s_process_tree import k3s_process_tree

REPO = Path(__file__).resolve().parents[2]
SHIM = r"^/var/lib/rancher/k3s/data/[^/]+/bin/containerd-shim"
# A k3s node after `systemctl stop k3s` (KillMode=process leaves the shims and the pods).
PS = """\
      1       0 /sbin/init
    812       1 /usr/sbin/sshd -D
   2001       1 /var/lib/rancher/k3s/data/5f0e7c8ae52ba5a0ec2bc28e0b1c1f0e/bin/containerd-shim-runc-v2 -namespace k8s.io -id 4a1b
   2020    2001 /pause
   2031    2001 /usr/bin/python3 /app/server.py --port 8000
   2040    2031 /usr/bin/python3 -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5)
   2041    2040 /usr/local/bin/worker --gpu 0
   2101       1 /var/lib/rancher/k3s/data/5f0e7c8ae52ba5a0ec2bc28e0b1c1f0e/bin/containerd-shim-runc-v2 -namespace k8s.io -id 9c2d
   2110    2101 /coredns -conf /etc/coredns/Corefile
   3000       1 /usr/bin/vim /var/lib/rancher/k3s/data/notes.txt
   3001       1 grep containerd-shim
"""


def test_shims_and_all_their_descendants():
    """Killing only the shims reparents the pods to init, which keep GPU memory, ports and files."""
    assert k3s_process_tree(PS, [SHIM]) == [2001, 2020, 2031, 2040, 2041, 2101, 2110]


def test_only_processes_whose_command_starts_with_the_path():
    """An editor with a path under the data dir, or a grep naming the shim, is not k3s'."""
    found = k3s_process_tree(PS, [SHIM])
    assert 3000 not in found and 3001 not in found and 812 not in found and 1 not in found


def test_several_roots_and_none():
    ps = PS + "   4000       1 /usr/local/bin/k3s server\n   4010    4000 containerd -c /var/lib/rancher/k3s/agent/etc/containerd/config.toml\n"
    assert k3s_process_tree(ps, [SHIM, r"^/usr/local/bin/k3s( |$)"])[-2:] == [4000, 4010]
    assert k3s_process_tree("      1       0 /sbin/init\n", [SHIM]) == []
    assert k3s_process_tree("", [SHIM]) == []


def test_a_cycle_or_self_parent_does_not_loop():
    assert k3s_process_tree("   10    10 /x/containerd-shim\n   11    10 sleep 1\n", [r"containerd-shim"]) == [10, 11]


@pytest.mark.parametrize("value,roots,words", [
    (["1 0 /sbin/init"], [SHIM], "is a list, expected the text"),
    ("  1 0 /sbin/init\nnot a ps line\n", [SHIM], "line 2 'not a ps line' is not"),
    (PS, "^x", "roots must be a list of regular expressions"),
    (PS, ["(unclosed"], "'(unclosed' is not a regular expression"),
])
def test_bad_input_named(value, roots, words):
    with pytest.raises(AnsibleFilterError) as exc:
        k3s_process_tree(value, roots)
    assert words in str(exc.value)


def test_reset_playbook_resets_agents_then_servers_in_two_plays():
    """Agents first, then servers: a play over k3s_agent:k3s_server runs the hosts together."""
    plays = yaml.safe_load((REPO / "playbooks" / "reset.yml").read_text(encoding="utf-8"))
    k3s = [p for p in plays if any("onprem.stack.k3s" == (t.get("ansible.builtin.include_role") or {}).get("name")
                                   for t in p.get("tasks", []))]
    assert [p["hosts"] for p in k3s] == ["k3s_agent", "k3s_server"]
