"""onprem.stack.k3s_registries: registries.yaml for k3s (docs.k3s.io private-registry format)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.registries import k3s_registries


def test_mirrors_every_public_registry_to_the_site_registry():
    out = k3s_registries("registry.site:5000", "/etc/rancher/k3s/site-ca.crt", username="k3s", password="pw")
    assert set(out["mirrors"]) == {"docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "nvcr.io",
                                   "registry.site:5000"}
    assert all(m == {"endpoint": ["https://registry.site:5000"]} for m in out["mirrors"].values())
    assert out["configs"] == {"registry.site:5000": {
        "tls": {"ca_file": "/etc/rancher/k3s/site-ca.crt"}, "auth": {"username": "k3s", "password": "pw"}}}


def test_anonymous_and_custom_list():
    out = k3s_registries("10.0.0.5:5000", "/ca.crt", mirrored=["docker.io"])
    assert set(out["mirrors"]) == {"docker.io", "10.0.0.5:5000"}
    assert "auth" not in out["configs"]["10.0.0.5:5000"]


@pytest.mark.parametrize("kwargs,message", [
    ({"site_registry": "https://reg:5000"}, "host[:port]"),
    ({"site_registry": "reg:5000", "ca_file": ""}, "ca_file"),
    ({"site_registry": "reg:5000", "username": "u"}, "both username and password"),
    ({"site_registry": "reg:5000", "mirrored": ["docker.io/library"]}, "not a registry host"),
])
def test_bad_input(kwargs, message):
    args = {"ca_file": "/ca.crt"}
    args.update(kwargs)
    site = args.pop("site_registry")
    with pytest.raises(AnsibleFilterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        k3s_registries(site, **args)
