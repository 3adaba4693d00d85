"""Inputs the k3s role refuses before it changes anything (the scenario's converge, run again).

- a release file whose sha256 does not match the list installs nothing (the binary stays);
- a joining server whose server URL does not answer is not started;
- a given token shorter than 16 characters is refused;
- an even number of servers fails validation unless k3s_allow_even_servers is set.
Each attempt is limited to one host or to the validation play (a few seconds each).
"""
import json
import os
import pathlib

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("k3s-s2-d13")

JOINING = "k3s-s2-d13"


@pytest.fixture(scope="module")
def bad_checksum(host):
    """sha256 of the installed binary before, and the converge run with the tampered release."""
    before = host.file("/usr/local/bin/k3s").sha256sum
    bad = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "k3s-bad"
    result = onprem_verify.ansible_playbook("converge.yml", "--limit", JOINING, "-e", json.dumps({"k3s_artifacts_dir": str(bad)}))
    return before, result


def test_wrong_checksum_fails_naming_the_file(bad_checksum):
    result = bad_checksum[1]
    assert result.returncode != 0, result.stdout[-3000:]
    assert "k3s-bad/k3s: sha256" in result.stdout and "nothing was installed" in result.stdout, result.stdout[-3000:]


def test_wrong_checksum_leaves_the_binary(host, bad_checksum):
    before = bad_checksum[0]
    assert host.file("/usr/local/bin/k3s").sha256sum == before


def test_unreachable_server_refused_before_start(host):
    """k3s_start with a server URL that does not answer: refused, the unit stays stopped and disabled."""
    result = onprem_verify.ansible_playbook(
        "converge.yml", "--limit", JOINING,
        "-e", json.dumps({"k3s_start": True, "k3s_server_url": "https://192.0.2.1:6443", "k3s_ready_timeout": 3}))
    assert result.returncode != 0, result.stdout[-3000:]
    assert "which does not answer; k3s is not" in result.stdout, result.stdout[-3000:]
    assert not host.service("k3s.service").is_running
    assert not host.service("k3s.service").is_enabled


def test_short_token_refused(host):
    before = host.file("/etc/rancher/k3s/token").sha256sum
    result = onprem_verify.ansible_playbook("validate.yml", "--limit", JOINING, "-e", json.dumps({"k3s_token": "short"}))
    assert result.returncode != 0, result.stdout[-3000:]
    assert "k3s_token and k3s_agent_token must be empty" in result.stdout
    assert "short" not in result.stdout.replace("k3s_token and", "")  # the value itself is never printed
    assert host.file("/etc/rancher/k3s/token").sha256sum == before


@pytest.fixture(scope="module")
def four_servers(tmp_path_factory):
    """An extra inventory adding a fourth (local, never contacted) host to k3s_server."""
    path = tmp_path_factory.mktemp("inv") / "extra.ini"
    path.write_text("[k3s_server]\nk3s-s4-extra ansible_connection=local\n")
    return str(path)


def test_even_server_count_refused(four_servers):
    result = onprem_verify.ansible_playbook("validate.yml", "-i", four_servers)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "Group k3s_server has 4 hosts" in result.stdout, result.stdout[-3000:]


def test_even_server_count_waived(four_servers):
    result = onprem_verify.ansible_playbook("validate.yml", "-i", four_servers, "-e", "k3s_allow_even_servers=true")
    assert result.returncode == 0, result.stdout[-3000:]
