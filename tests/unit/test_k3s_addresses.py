"""k3s server URLs and the API port in the k3s validator: the forms k3s' --server takes
(docs.k3s.io/cli/agent: https://host:port; an IPv6 literal bracketed as RFC 3986 section
3.2.2 writes it) and k3s_api_port a TCP port (k3s https-listen-port)."""
import pytest
from test_validate_rules import _defaults, run  # the k3s defaults and context of the rule tests

AGENT = {"host": "a1", "groups": ["k3s_agent"], "is_first": False}


def _problems(params=None, **context):
    return run("k3s", params, dict(AGENT, **context))


@pytest.mark.parametrize("url", ["https://10.0.0.1:6443", "https://[fd00::1]:6443", "https://[fd00::1]",
                                 "https://k3s-api.site.test:443/", "https://s1"])
def test_server_urls_k3s_takes(url):
    assert _problems(url=url) == []


@pytest.mark.parametrize("url", ["https://fd00::1:6443", "http://10.0.0.1:6443", "https://10.0.0.1:6443/path",
                                 "https://[fd00::zz]:6443", "https://10.0.0.1:99999", "https://[10.0.0.1]:6443"])
def test_server_urls_refused(url):
    found = _problems(url=url)
    assert any("k3s_server_url" in p and url in p for p in found), found


def test_api_port():
    assert _defaults("k3s")["k3s_api_port"] == 6443
    assert _problems({"k3s_api_port": 7443}) == []
    for bad in (0, 70000, "https"):
        found = _problems({"k3s_api_port": bad})
        assert any("k3s_api_port must be a TCP port 1-65535" in p and "'%s'" % bad in p for p in found), found


def test_https_listen_port_is_k3s_api_port():
    found = _problems({"k3s_extra_config": {"https-listen-port": 7443}}, groups=["k3s_server"], is_first=True)
    assert any("keys set by the role itself: https-listen-port" in p for p in found), found
