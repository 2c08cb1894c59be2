"""Server-side request forgery (SSRF) guard for outbound calls.

Endpoint URLs are typed by administrators and partners; without a check, one
could point the hub at the cloud metadata service (169.254.169.254), at the
database on localhost or at any machine on the internal network, and the
exchange log would show the answer. ``check_url`` refuses such addresses
unless a system administrator allow-listed the host (local simulators, test
systems inside the network): an :class:`Allowlist` of host names, IP
addresses and networks (CIDR).

Some ranges are never allowed, whatever the allow-list says: the cloud
metadata services and the link-local and carrier-grade NAT ranges they live
in, unspecified and multicast addresses. They hand out cloud credentials.

Every resolved address is checked, not only the first, because the HTTP
client may connect to any of them. A DNS answer can still change between the
check and the connection (DNS rebinding): ``check_address`` is also called on
the address actually connected to (see ``lib/guarded_http.py``).

>>> def resolver(host, port):
...     return {"erp.example": ["93.184.215.14"], "evil.example": ["10.0.0.5"]}[host]
>>> check_url("https://erp.example/orders", resolver=resolver)
>>> check_url("https://evil.example/", resolver=resolver)
Traceback (most recent call last):
...
lib.url_guard.UnsafeURLError: the host evil.example resolves to 10.0.0.5, \
a private network address; outbound calls may only go to public addresses \
(an administrator may allow-list a host of your own network)
>>> check_url("https://evil.example/", Allowlist.parse("10.0.0.0/8"), resolver)
>>> check_url("http://169.254.169.254/", Allowlist.parse("169.254.0.0/16"))
Traceback (most recent call last):
...
lib.url_guard.UnsafeURLError: the endpoint URL points to 169.254.169.254, \
the cloud metadata service; this address is never allowed
>>> same_origin("https://erp.example/a", "https://ERP.example:443/b")
True
"""

import ipaddress
import re
import socket
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
# never a legitimate endpoint, not even on a test system or if allow-listed
CLOUD_METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task credentials
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
METADATA_KIND = "the cloud metadata service"
NEVER_ALLOWED_NETWORKS = (
    (ipaddress.ip_network("169.254.0.0/16"), "a link-local address"),
    (ipaddress.ip_network("fe80::/10"), "a link-local address"),
    (ipaddress.ip_network("100.64.0.0/10"), "a carrier-grade NAT address"),
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
PUBLIC_ONLY = (
    "outbound calls may only go to public addresses (an administrator may "
    "allow-list a host of your own network)"
)

# inet_aton accepts "2130706433", "0x7f.1" or "0177.0.0.1" for 127.0.0.1
_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_-]{1,63})*$"
)


class UnsafeURLError(ValueError):
    """The URL must not be called; the message is meant for the administrator."""


class Allowlist:
    """Hosts of the own network that outbound calls may reach.

    Written one entry a line (or separated by commas or spaces): a host name
    (exact, case-insensitive), an IP address or a network in CIDR notation.
    A host name or an address may end with ``:port`` to allow that port only
    (``127.0.0.1:8071`` is the simulator, not the Odoo server on 8069).

    >>> allowed = Allowlist.parse("sim.internal, 127.0.0.1:8071\\n10.1.0.0/16")
    >>> allowed.permits_host("SIM.internal", 443), allowed.permits_host("sim", 443)
    (True, False)
    >>> allowed.permits_address(ipaddress.ip_address("10.1.2.3"), 22)
    True
    >>> allowed.permits_address(ipaddress.ip_address("10.2.0.1"), 22)
    False
    >>> loopback = ipaddress.ip_address("127.0.0.1")
    >>> allowed.permits_address(loopback, 8071), allowed.permits_address(loopback, 8069)
    (True, False)
    >>> Allowlist.parse("http://sim/")
    Traceback (most recent call last):
    ...
    ValueError: 'http://sim/' is not a host name, IP address or network \
(CIDR such as 10.0.0.0/24), with an optional :port (1 to 65535)
    >>> str(Allowlist.parse(" a.example  127.0.0.1 [fd00::5]:8443 sim:8071"))
    'a.example\\nsim:8071\\n127.0.0.1\\n[fd00::5]:8443'
    >>> bool(Allowlist.parse(""))
    False
    """

    def __init__(self, names=(), networks=()):
        self.names = tuple(names)  # (name, port or None)
        self.networks = tuple(networks)  # (network, port or None)

    @classmethod
    def parse(cls, text):
        names, networks = [], []
        for entry in re.split(r"[\s,;]+", text or ""):
            entry = entry.strip().lower()
            if not entry:
                continue
            host, port = _entry_port(entry)
            host = host.rstrip(".")
            try:
                network = ipaddress.ip_network(host, strict=False)
            except ValueError:
                network = None
            if network is not None and not (port and "/" in host):
                networks.append((network, port))
                continue
            if (
                network is not None
                or _looks_numeric(host)
                or not _HOST_NAME.match(host)
            ):
                raise ValueError(
                    f"'{entry}' is not a host name, IP address or network "
                    "(CIDR such as 10.0.0.0/24), with an optional :port"
                )
            names.append((host, port))
        return cls(names, networks)

    def __bool__(self):
        return bool(self.names or self.networks)

    def __str__(self):
        lines = [name + (f":{port}" if port else "") for name, port in self.names]
        for network, port in self.networks:
            text = (
                str(network.network_address)
                if network.num_addresses == 1
                else str(network)
            )
            if port:
                text = f"[{text}]:{port}" if network.version == 6 else f"{text}:{port}"
            lines.append(text)
        return "\n".join(lines)

    def permits_host(self, host, port=None):
        host = (host or "").rstrip(".").lower()
        return any(
            name == host and allowed in (None, port) for name, allowed in self.names
        )

    def permits_address(self, address, port=None):
        return any(
            address.version == network.version
            and address in network
            and allowed in (None, port)
            for network, allowed in self.networks
        )


def _entry_port(entry):
    """(host, port or None) of an allow-list entry."""
    bracketed = re.fullmatch(r"\[([0-9a-f:.]+)\](?::(\d{1,5}))?", entry)
    if bracketed:
        return bracketed[1], _port(entry, bracketed[2])
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, _port(entry, port)
    return entry, None


def _port(entry, text):
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise _bad_entry(entry)
    return int(text)


def _bad_entry(entry):
    return ValueError(
        f"'{entry}' is not a host name, IP address or network "
        "(CIDR such as 10.0.0.0/24), with an optional :port (1 to 65535)"
    )


NOTHING_ALLOWED = Allowlist()


def _as_allowlist(allowlist):
    if allowlist is None:
        return NOTHING_ALLOWED
    if isinstance(allowlist, Allowlist):
        return allowlist
    return Allowlist.parse(allowlist)


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
    """IPv4 address carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64)."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _forbidden_kind(address):
    """Why ``address`` is never allowed, None when an allow-list may permit it."""
    if address in CLOUD_METADATA_ADDRESSES:
        return METADATA_KIND
    for network, kind in NEVER_ALLOWED_NETWORKS:
        if address.version == network.version and address in network:
            return kind
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    return None


def _non_public_kind(address):
    """Why ``address`` is not on the public internet, None when it is."""
    checks = (
        (address.is_loopback, "a loopback address (this machine)"),
        (address.is_private, "a private network address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public internet address"),
    )
    for flagged, kind in checks:
        if flagged:
            return kind
    return None


def _verdict(address):
    """(never allowed?, kind) of ``address``, the IPv4 inside an IPv6 one
    deciding when there is one; (False, None) for a public address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        never, kind = _verdict(embedded)
        if kind:
            how = "written as IPv6" if address.ipv4_mapped else "tunnelled in IPv6"
            return never, f"{kind} ({how})"
    kind = _forbidden_kind(address)
    if kind:
        return True, kind
    return False, _non_public_kind(address)


def check_address(address, host=None, allowlist=None, port=None):
    """Raise :class:`UnsafeURLError` unless ``address`` (of ``host``) may be
    connected to on ``port``. Called before the connection and on the
    connected socket.

    >>> check_address("127.0.0.1", "localhost", Allowlist.parse("localhost"))
    >>> check_address("127.0.0.1", "evil.example", Allowlist.parse("localhost"))
    Traceback (most recent call last):
    ...
    lib.url_guard.UnsafeURLError: the host evil.example resolves to 127.0.0.1, \
a loopback address (this machine); outbound calls may only go to public \
addresses (an administrator may allow-list a host of your own network)
    >>> check_address("169.254.170.2", "ecs", Allowlist.parse("ecs 169.254.0.0/16"))
    Traceback (most recent call last):
    ...
    lib.url_guard.UnsafeURLError: the host ecs resolves to 169.254.170.2, \
the cloud metadata service; this address is never allowed
    """
    allowlist = _as_allowlist(allowlist)
    if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        # drop an IPv6 zone ("fe80::1%eth0"): the address decides, not the link
        address = ipaddress.ip_address(str(address).split("%", 1)[0])
    never, kind = _verdict(address)
    if not kind:
        return
    where = (
        f"the host {host} resolves to"
        if host and host != str(address)
        else "the endpoint URL points to"
    )
    if never:
        raise UnsafeURLError(
            f"{where} {address}, {kind}; this address is never allowed"
        )
    if allowlist.permits_address(address, port) or (
        host and allowlist.permits_host(host, port)
    ):
        return
    raise UnsafeURLError(f"{where} {address}, {kind}; {PUBLIC_ONLY}")


def _addresses(resolved):
    """Addresses from getaddrinfo tuples or from plain address strings."""
    for entry in resolved:
        text = entry[4][0] if isinstance(entry, tuple) else entry
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


def _host_is_allow_listed(host, literal, allowlist, port):
    if literal is not None:
        return allowlist.permits_address(literal, port)
    return allowlist.permits_host(host, port)


def check_url(url, allowlist=None, resolver=None):
    """Raise :class:`UnsafeURLError` unless ``url`` may be called.

    ``allowlist`` is an :class:`Allowlist` (or its text); plain ``http://``
    is only accepted for an allow-listed host. ``resolver(host, port)``
    returns ``socket.getaddrinfo``-style tuples or plain address strings (the
    default is ``socket.getaddrinfo``). A failed DNS lookup raises the
    resolver's own ``OSError`` unchanged: it is a connection problem to
    retry, not an unsafe URL.
    """
    allowlist = _as_allowlist(allowlist)
    parts, port = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f", not {scheme}://" if scheme else ""
        raise UnsafeURLError(f"the endpoint URL must start with https://{shown}")
    if "@" in parts.netloc:
        raise UnsafeURLError(
            "the endpoint URL must not contain a user name or password; "
            "store credentials in the backend settings"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("the endpoint URL has no host name")
    literal = _literal_address(host)
    port = port or DEFAULT_PORTS[scheme]
    if scheme == "http" and not _host_is_allow_listed(host, literal, allowlist, port):
        raise UnsafeURLError(
            "the endpoint URL must use https://; plain http:// is only allowed "
            "for hosts an administrator allow-listed (local simulators and test "
            "systems)"
        )
    if literal is not None:
        addresses = [literal]
    else:
        resolved = (resolver or _default_resolver)(host, port)
        addresses = list(_addresses(resolved))
        if not addresses:
            raise UnsafeURLError(f"the host {host} resolves to no address")
    for address in addresses:
        check_address(address, host if literal is None else None, allowlist, port)


def origin(url):
    """(scheme, host, port) of ``url``, lower case, default port filled in.

    >>> origin("HTTPS://ERP.example/api")
    ('https', 'erp.example', 443)
    """
    parts = urlsplit(url or "")
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
        origin_a, origin_b = origin(url_a), origin(url_b)
    except (ValueError, AttributeError, TypeError):
        return False
    return bool(origin_a[1]) and origin_a == origin_b
