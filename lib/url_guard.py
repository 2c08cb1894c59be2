"""Server-side request forgery (SSRF) guard for outbound calls.

Endpoint URLs are typed by administrators and partners; without a check, one
could point the hub at the cloud metadata service (169.254.169.254), at the
database on localhost or at any machine on the internal network, and the
exchange log would show the answer. ``check_url`` refuses such addresses
unless the backend explicitly allows private targets (local simulators,
test systems).

Every resolved address is checked, not only the first, because the HTTP
client may connect to any of them. A DNS answer can still change between the
check and the connection (DNS rebinding); callers that need to close that gap
connect to the checked address themselves.

>>> def resolver(host, port):
...     return {"erp.example": ["93.184.215.14"], "evil.example": ["10.0.0.5"]}[host]
>>> check_url("https://erp.example/orders", resolver=resolver)
>>> check_url("https://evil.example/", resolver=resolver)
Traceback (most recent call last):
...
lib.url_guard.UnsafeURLError: the host evil.example resolves to 10.0.0.5, \
a private network address; outbound calls may only go to public addresses
>>> same_origin("https://erp.example/a", "https://ERP.example:443/b")
True
"""

import ipaddress
import re
import socket
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
# never a legitimate endpoint, not even on a test system
CLOUD_METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
METADATA_KIND = "the cloud metadata service"
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

# inet_aton accepts "2130706433", "0x7f.1" or "0177.0.0.1" for 127.0.0.1
_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")


class UnsafeURLError(ValueError):
    """The URL must not be called; the message is meant for the administrator."""


def _looks_numeric(host):
    parts = host.split(".")
    return 1 <= len(parts) <= 4 and all(_NUMERIC_PART.fullmatch(p) for p in parts)


def _literal_address(host):
    """The IP address written in ``host``, None for a name.

    Only the usual notations are accepted; decimal, hexadecimal, octal or
    shortened IPv4 forms are refused outright: they exist to fool filters.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        address = None  # a name, or a disguised number (checked below)
    if _looks_numeric(host):
        raise UnsafeURLError(
            f"the host {host} is an IP address in an unusual notation; "
            "write it as four decimal numbers (such as 203.0.113.10) or use a name"
        )
    return address


def _embedded_ipv4(address):
    """IPv4 address carried inside an IPv6 one (6to4, Teredo, NAT64)."""
    if address.version != 6:
        return None
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _non_public_kind(address):
    """Why ``address`` is not on the public internet, None when it is."""
    if address in CLOUD_METADATA_ADDRESSES:
        return METADATA_KIND
    if address.version == 6 and address.ipv4_mapped:
        # "::ffff:127.0.0.1" reaches 127.0.0.1: the IPv4 address decides
        kind = _non_public_kind(address.ipv4_mapped)
        return f"{kind} (written as IPv6)" if kind else None
    embedded = _embedded_ipv4(address)
    embedded_kind = _non_public_kind(embedded) if embedded else None
    if embedded_kind:
        return f"{embedded_kind} (tunnelled in IPv6)"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address (this machine)"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private network address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public internet address"),
    )
    for flagged, kind in checks:
        if flagged:
            return kind
    return None


def _addresses(resolved):
    """Addresses from getaddrinfo tuples or from plain address strings."""
    for entry in resolved:
        text = entry[4][0] if isinstance(entry, tuple) else entry
        # drop an IPv6 zone ("fe80::1%eth0"): the address decides, not the link
        yield ipaddress.ip_address(str(text).split("%", 1)[0])


def _default_resolver(host, port):
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _split(url):
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURLError("the endpoint URL is empty")
    if _FORBIDDEN_CHARACTERS.search(url):
        raise UnsafeURLError(
            "the endpoint URL contains spaces, control characters or backslashes"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"the endpoint URL is not valid: {exc}") from None
    return parts, port


def check_url(url, allow_private=False, resolver=None):
    """Raise :class:`UnsafeURLError` unless ``url`` may be called.

    ``resolver(host, port)`` returns ``socket.getaddrinfo``-style tuples or
    plain address strings (the default is ``socket.getaddrinfo``). A failed
    DNS lookup raises the resolver's own ``OSError`` unchanged: it is a
    connection problem to retry, not an unsafe URL.
    """
    parts, port = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f", not {scheme}://" if scheme else ""
        raise UnsafeURLError(f"the endpoint URL must start with https://{shown}")
    if scheme == "http" and not allow_private:
        raise UnsafeURLError(
            "the endpoint URL must use https://; plain http:// is only allowed "
            "for local simulators and test systems"
        )
    if "@" in parts.netloc:
        raise UnsafeURLError(
            "the endpoint URL must not contain a user name or password; "
            "store credentials in the backend settings"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("the endpoint URL has no host name")
    literal = _literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        resolved = (resolver or _default_resolver)(host, port or DEFAULT_PORTS[scheme])
        addresses = list(_addresses(resolved))
        if not addresses:
            raise UnsafeURLError(f"the host {host} resolves to no address")
    for address in addresses:
        kind = _non_public_kind(address)
        # the metadata service hands out cloud credentials: never, not even in test
        if kind and (kind.startswith(METADATA_KIND) or not allow_private):
            where = (
                f"the host {host} resolves to"
                if literal is None
                else "the endpoint URL points to"
            )
            raise UnsafeURLError(
                f"{where} {address}, {kind}; outbound calls may only go to "
                "public addresses"
            )


def _origin(url):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or "").rstrip(".").lower(), port


def same_origin(url_a, url_b):
    """True when both URLs share scheme, host and port (redirects may follow).

    >>> same_origin("https://erp.example/a", "http://erp.example/a")
    False
    >>> same_origin("https://erp.example/a", "https://erp.example:8443/a")
    False
    """
    try:
        origin_a, origin_b = _origin(url_a), _origin(url_b)
    except (ValueError, AttributeError, TypeError):
        return False
    return bool(origin_a[1]) and origin_a == origin_b
