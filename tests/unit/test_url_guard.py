import doctest
import re
import socket

import pytest

from lib import url_guard
from lib.url_guard import Allowlist, UnsafeURLError, check_url, same_origin

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"


def fake_resolver(table):
    """getaddrinfo stand-in: no DNS in tests; records what was asked."""
    calls = []

    def resolve(host, port):
        calls.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, 1, 6, "", (a, port))
            for a in table[host]
        ]

    resolve.calls = calls
    return resolve


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the test tried a real DNS lookup")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_module_examples_hold():
    result = doctest.testmod(url_guard, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_public_host_is_allowed_and_resolved_with_the_right_port():
    resolver = fake_resolver({"erp.example": [PUBLIC_V4, PUBLIC_V6]})
    check_url("https://erp.example/api/orders", resolver=resolver)
    check_url("https://erp.example:8443/", resolver=resolver)
    assert resolver.calls == [("erp.example", 443), ("erp.example", 8443)]


def test_plain_address_strings_from_the_resolver_are_accepted():
    check_url("https://erp.example/", resolver=lambda host, port: [PUBLIC_V4])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private network"),
        ("172.16.0.1", "private network"),
        ("192.168.1.10", "private network"),
        ("169.254.10.1", "link-local"),
        ("169.254.170.2", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("169.254.169.254", "cloud metadata"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("::1", "loopback"),
        ("fd12:3456::1", "private network"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback address (this machine) (written as IPv6)"),
        ("::ffff:10.0.0.1", "private network address (written as IPv6)"),
        ("2002:a00:1::1", "tunnelled in IPv6"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),
    ],
)
def test_every_non_public_range_is_refused(address, kind):
    resolver = fake_resolver({"internal.example": [address]})
    with pytest.raises(UnsafeURLError, match=re.escape(kind)):
        check_url("https://internal.example/", resolver=resolver)


def test_one_bad_address_among_good_ones_is_enough_to_refuse():
    resolver = fake_resolver({"mixed.example": [PUBLIC_V4, "10.0.0.7"]})
    with pytest.raises(UnsafeURLError, match="resolves to 10.0.0.7"):
        check_url("https://mixed.example/", resolver=resolver)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "https://017700000001/",
    ],
)
def test_numeric_ip_tricks_are_refused_even_when_allow_listed(url):
    resolver = fake_resolver({})
    with pytest.raises(UnsafeURLError, match="unusual notation"):
        check_url(url, Allowlist.parse("127.0.0.0/8"), resolver=resolver)
    assert resolver.calls == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1/", "points to 127.0.0.1, a loopback"),
        ("https://127.0.0.1./", "points to 127.0.0.1, a loopback"),
        ("https://[::1]:8443/", "points to ::1, a loopback"),
        ("https://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("https://[fe80::1%25eth0]/", "link-local"),
    ],
)
def test_ip_literals_are_checked_without_dns(url, message):
    resolver = fake_resolver({})
    with pytest.raises(UnsafeURLError, match=re.escape(message)):
        check_url(url, resolver=resolver)
    assert resolver.calls == []


def test_public_ip_literals_are_allowed():
    check_url(f"https://{PUBLIC_V4}/", resolver=fake_resolver({}))
    check_url(f"https://[{PUBLIC_V6}]/", resolver=fake_resolver({}))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://erp.example/orders.xml", "must start with https://, not ftp://"),
        ("file:///etc/passwd", "must start with https://, not file://"),
        ("gopher://erp.example/", "not gopher://"),
        ("erp.example/orders", "must start with https://"),
        ("http://erp.example/", "plain http:// is only allowed"),
        ("http://10.0.0.1/", "plain http:// is only allowed"),
        ("https://user:pass@erp.example/", "user name or password"),
        ("https://erp.example@10.0.0.1/", "user name or password"),
        ("https:///orders", "no host name"),
        ("https://erp.example:99999/", "not valid"),
        ("https://erp.example/a b", "spaces"),
        ("https://erp.example\\@10.0.0.1/", "backslashes"),
        ("", "empty"),
    ],
)
def test_malformed_or_disallowed_urls_are_refused(url, message):
    resolver = fake_resolver({"erp.example": [PUBLIC_V4]})
    with pytest.raises(UnsafeURLError, match=message):
        check_url(url, resolver=resolver)


def test_allow_listed_hosts_permit_loopback_simulators_over_http():
    resolver = fake_resolver({"localhost": ["127.0.0.1", "::1"], "sim": ["10.0.0.9"]})
    allowed = Allowlist.parse("127.0.0.1\nlocalhost, sim")
    check_url("http://127.0.0.1:8069/simulator", allowed, resolver=resolver)
    check_url("http://localhost:8069/", allowed, resolver=resolver)
    check_url("https://sim/", allowed, resolver=resolver)
    check_url("https://sim/", Allowlist.parse("10.0.0.0/24"), resolver=resolver)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://127.0.0.2:8069/", "127.0.0.1"),
        ("https://sim/", "10.0.1.0/24"),
        ("https://sim/", "simulator"),
        ("https://localhost/", "sim"),
    ],
)
def test_hosts_outside_the_allow_list_stay_refused(url, allowed):
    resolver = fake_resolver({"localhost": ["127.0.0.1"], "sim": ["10.0.0.9"]})
    with pytest.raises(UnsafeURLError, match="may only go to public addresses"):
        check_url(url, Allowlist.parse(allowed), resolver=resolver)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.170.2",
        "169.254.1.1",
        "100.100.100.200",
        "100.64.0.1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:169.254.170.2",
        "0.0.0.0",  # noqa: S104 - an address to refuse
        "224.0.0.1",
    ],
)
def test_metadata_and_link_local_are_never_allowed_even_when_allow_listed(address):
    everything = Allowlist.parse(
        "0.0.0.0/0 ::/0 169.254.0.0/16 100.64.0.0/10 fe80::/10 meta.internal"
    )
    resolver = fake_resolver({"meta.internal": [address]})
    with pytest.raises(UnsafeURLError, match="never allowed"):
        check_url("http://meta.internal/latest/", everything, resolver=resolver)


@pytest.mark.parametrize(
    "text", ["http://sim/", "10.0.0.0/33", "sim internal/path", "a..b", "0x7f.1"]
)
def test_an_allow_list_entry_that_is_not_a_host_is_refused(text):
    with pytest.raises(ValueError, match="not a host name"):
        Allowlist.parse(text)


def test_dns_failure_is_a_connection_problem_not_an_unsafe_url():
    with pytest.raises(socket.gaierror):
        check_url("https://unknown.example/", resolver=fake_resolver({}))


def test_host_without_address_is_refused():
    with pytest.raises(UnsafeURLError, match="resolves to no address"):
        check_url("https://void.example/", resolver=lambda host, port: [])


@pytest.mark.parametrize(
    ("url_a", "url_b", "expected"),
    [
        ("https://erp.example/a", "https://erp.example/b?x=1", True),
        ("https://erp.example/a", "https://ERP.example:443/b", True),
        ("http://sim:80/a", "http://sim/b", True),
        ("https://erp.example/a", "http://erp.example/a", False),
        ("https://erp.example/a", "https://erp.example:8443/a", False),
        ("https://erp.example/a", "https://evil.example/a", False),
        ("https://erp.example/a", "https://erp.example.evil.example/a", False),
        ("https://erp.example/a", "https://erp.example:bad/a", False),
        ("/relative", "/relative", False),
    ],
)
def test_same_origin(url_a, url_b, expected):
    assert same_origin(url_a, url_b) is expected


def test_cloud_metadata_written_as_ipv6_is_refused_even_when_allow_listed():
    with pytest.raises(UnsafeURLError, match="cloud metadata service \\(written as"):
        check_url("http://[::ffff:169.254.169.254]/", Allowlist.parse("::/0"))


def test_an_allow_listed_port_opens_that_port_only():
    resolver = fake_resolver({"sim": ["10.0.0.9"]})
    allowed = Allowlist.parse("127.0.0.1:8071\nsim:8443\n[fd00::5]:8443")
    check_url("http://127.0.0.1:8071/", allowed, resolver=resolver)
    check_url("https://sim:8443/", allowed, resolver=resolver)
    check_url("https://[fd00::5]:8443/", allowed, resolver=resolver)
    for url in (
        "http://127.0.0.1:8069/web/webclient/version_info",
        "https://sim/",
        "https://[fd00::5]/",
    ):
        with pytest.raises(UnsafeURLError):
            check_url(url, allowed, resolver=resolver)


@pytest.mark.parametrize("text", ["sim:0", "sim:65536", "sim:http", "[fd00::5]:x"])
def test_an_allow_list_entry_with_a_bad_port_is_refused(text):
    with pytest.raises(ValueError, match="optional :port"):
        Allowlist.parse(text)
