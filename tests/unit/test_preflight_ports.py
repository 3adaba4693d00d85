"""Preflight checks the ports the k3s server will listen on: the API on k3s_api_port
(k3s https-listen-port), not a fixed 6443 (roles/preflight/defaults/main.yml
preflight_ports, rendered as Ansible renders it), and the validator refuses a k3s_api_port
that another service planned on the same host already names."""
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.onprem.stack.plugins.module_utils._validate import preflight

REPO = Path(__file__).resolve().parents[2]


def _server_ports(**variables) -> list[int]:
    loader = DataLoader()
    defaults = loader.load_from_file(str(REPO / "roles" / "preflight" / "defaults" / "main.yml"), trusted_as_template=True)
    templar = Templar(loader=loader, variables=dict(defaults, **variables))
    return [int(item["port"]) for item in templar.template(defaults["preflight_ports"])["k3s_server"]]


@pytest.mark.parametrize("variables,api_port", [({}, 6443), ({"k3s_api_port": 7443}, 7443), ({"k3s_api_port": "8443"}, 8443)])
def test_server_ports_follow_k3s_api_port(variables, api_port) -> None:
    ports = _server_ports(**variables)
    assert api_port in ports
    assert (6443 in ports) is (api_port == 6443)


def test_api_port_shared_with_the_registry_is_refused() -> None:
    found = preflight.validate({"k3s_api_port": 5000, "registry_port": 5000},
                               {"host": "s1", "groups": ["k3s_server", "registry"]})
    assert [p.message for p in found] == ["s1: registry_port, k3s_api_port name the same port (5000); each service on a "
                                          "host needs its own port."]
    assert preflight.validate({"k3s_api_port": 5000}, {"host": "a1", "groups": ["k3s_agent", "registry"]}) == []
