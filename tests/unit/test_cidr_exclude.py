"""The filter onprem.stack.cidr_exclude (the pki role leaves k3s' pod and service networks out of
host certificates with it)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.cidr_exclude import cidr_exclude


def test_keeps_order_and_drops_addresses_in_any_network():
    addrs = ["10.88.0.5", "10.42.0.1", "192.168.1.10", "10.43.0.1", "fd00::1"]
    assert cidr_exclude(addrs, ["10.42.0.0/16", "10.43.0.0/16"]) == ["10.88.0.5", "192.168.1.10", "fd00::1"]


def test_dual_stack_notation():
    assert cidr_exclude(["10.42.3.1", "2001:cafe:42::1", "2001:cafe:43::1"],
                        ["10.42.0.0/16,2001:cafe:42::/56"]) == ["2001:cafe:43::1"]


@pytest.mark.parametrize("addrs,nets,words", [
    (["10.0.0.300"], ["10.42.0.0/16"], "'10.0.0.300' is not an IP address"),
    (["10.0.0.1"], ["10.42.0.0/33"], "network '10.42.0.0/33'"),
    ("10.0.0.1", ["10.42.0.0/16"], "expected a list"),
])
def test_bad_input_named(addrs, nets, words):
    with pytest.raises(AnsibleFilterError) as exc:
        cidr_exclude(addrs, nets)
    assert words in str(exc.value)
