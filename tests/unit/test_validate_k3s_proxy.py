"""k3s_proxy (HTTP proxy of the k3s units, roles/k3s/templates/k3s.service.env.j2) in the k3s
validator: the URL forms Go's net/http takes from HTTP_PROXY/HTTPS_PROXY
(golang.org/x/net/http/httpproxy: a URL with scheme http, https, socks5 or socks5h and a
host), NO_PROXY entries as httpproxy matches them (host, .domain, IP, CIDR, host:port, *),
and never a proxy password in a problem."""
import pytest
from test_validate_rules import _defaults, run  # the k3s defaults and context of the rule tests


def _problems(proxy):
    return run("k3s", {"k3s_proxy": proxy})


def test_default_is_no_proxy():
    assert _defaults("k3s")["k3s_proxy"] == {}
    assert _problems({}) == []


@pytest.mark.parametrize("proxy", [
    {"http_proxy": "http://proxy.site:3128", "https_proxy": "http://proxy.site:3128"},
    {"https_proxy": "https://user:p%40ss@proxy.site:8443/", "no_proxy": [".corp.example", "10.0.0.0/8"]},
    {"http_proxy": "socks5://10.1.1.1:1080", "no_proxy": ["*"]},
    {"http_proxy": "http://[fd00::1]:3128", "no_proxy": ["fd00::/8", "host.corp:8080", "fd00::5", "[fd00::6]:80"]},
])
def test_good_proxies(proxy):
    assert _problems(proxy) == []


@pytest.mark.parametrize("proxy,words", [
    ("http://proxy:3128", ["k3s_proxy must be a mapping", "is a str"]),
    ({"HTTP_PROXY": "http://proxy:3128"}, ["k3s_proxy: unknown keys HTTP_PROXY", "http_proxy, https_proxy, no_proxy"]),
    ({"http_proxy": "proxy.site:3128"}, ["k3s_proxy.http_proxy 'proxy.site:3128'", "scheme"]),
    ({"https_proxy": "ftp://proxy.site"}, ["k3s_proxy.https_proxy 'ftp://proxy.site'", "http, https, socks5"]),
    ({"http_proxy": "http://"}, ["k3s_proxy.http_proxy 'http://'", "host"]),
    ({"http_proxy": "http://proxy site:3128"}, ["k3s_proxy.http_proxy 'http://proxy site:3128'"]),
    ({"http_proxy": "http://proxy.site:99999"}, ["k3s_proxy.http_proxy 'http://proxy.site:99999'", "port"]),
    ({"http_proxy": "http://proxy.site:3128/path"}, ["k3s_proxy.http_proxy", "no path"]),
    ({"http_proxy": 3128}, ["k3s_proxy.http_proxy '3128'", "a str"]),
    ({"no_proxy": "10.0.0.0/8,.corp"}, ["k3s_proxy.no_proxy must be a list", "is a str"]),
    ({"no_proxy": ["a b", "x,y", "10.0.0.0/40"]}, ["k3s_proxy.no_proxy: a b, x,y, 10.0.0.0/40", "host"]),
])
def test_bad_proxies_named(proxy, words):
    found = _problems(proxy)
    assert any(all(w in p for w in words) for p in found), f"{words} not in one of {found}"
    assert all("[rule: " in p for p in found)


def test_proxy_password_never_printed():
    found = _problems({"http_proxy": "http://bob:s3cret-pw@proxy.site:3128/x", "https_proxy": "gopher://bob:s3cret-pw@p"})
    assert len(found) == 2 and not [p for p in found if "s3cret-pw" in p], found
    assert "http://bob:***@proxy.site:3128/x" in found[0]
