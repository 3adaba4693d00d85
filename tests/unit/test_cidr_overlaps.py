"""onprem.stack.cidr_overlaps: which named networks overlap (k3s CIDR validation)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.cidr_overlaps import cidr_overlaps


def test_disjoint_networks():
    assert cidr_overlaps({"cluster-cidr": "10.42.0.0/16", "service-cidr": "10.43.0.0/16", "node": "192.168.1.5"}) == []


def test_overlap_is_named():
    found = cidr_overlaps({"cluster-cidr": "10.42.0.0/16", "service-cidr": "10.42.128.0/17"})
    assert found == ["cluster-cidr 10.42.0.0/16 overlaps service-cidr 10.42.128.0/17"]


def test_address_inside_a_network():
    assert cidr_overlaps({"cluster-cidr": "10.42.0.0/16", "node-ip": "10.42.3.4"}) == [
        "cluster-cidr 10.42.0.0/16 overlaps node-ip 10.42.3.4"]


def test_dual_stack_lists_compare_per_family():
    nets = {"cluster-cidr": "10.42.0.0/16,2001:cafe:42::/56", "service-cidr": "10.43.0.0/16,2001:cafe:42::/112"}
    assert cidr_overlaps(nets) == ["cluster-cidr 2001:cafe:42::/56 overlaps service-cidr 2001:cafe:42::/112"]


@pytest.mark.parametrize("bad", [{"cluster-cidr": "10.42.0.0/33"}, {"x": "not-a-net"}, ["10.0.0.0/8"]])
def test_bad_input_raises(bad):
    with pytest.raises(AnsibleFilterError, match="cidr_overlaps"):
        cidr_overlaps(bad)
