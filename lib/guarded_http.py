"""HTTP sessions that check the address they actually connect to.

``url_guard.check_url`` looks the host up before the call, but the HTTP
client looks it up again when it connects: a DNS answer that changes in
between (DNS rebinding) would reach an internal address the check refused.
The connections of a :func:`guarded_session` therefore check the peer
address of their socket with ``url_guard.check_address`` right after it is
connected and before a byte is sent; a refused address closes the socket
and raises :class:`url_guard.UnsafeURLError`.

>>> session = guarded_session(url_guard.Allowlist.parse("sim.internal"))
>>> session.trust_env, type(session.get_adapter("https://x.example/")).__name__
(False, 'GuardedAdapter')
"""

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import url_guard


def _guarded_connection(connection_class, allowlist):
    class GuardedConnection(connection_class):
        def _new_conn(self):
            sock = super()._new_conn()
            try:
                peer = sock.getpeername()
                url_guard.check_address(peer[0], self.host, allowlist, peer[1])
            except BaseException:
                sock.close()
                raise
            return sock

    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    """Transport adapter whose connections pass the SSRF guard."""

    def __init__(self, allowlist=None, **kwargs):
        self.allowlist = url_guard._as_allowlist(allowlist)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "GuardedHTTPConnectionPool",
                (HTTPConnectionPool,),
                {"ConnectionCls": _guarded_connection(HTTPConnection, self.allowlist)},
            ),
            "https": type(
                "GuardedHTTPSConnectionPool",
                (HTTPSConnectionPool,),
                {"ConnectionCls": _guarded_connection(HTTPSConnection, self.allowlist)},
            ),
        }
        return result


def guarded_session(allowlist=None):
    """A ``requests.Session`` without proxies from the environment, whose
    every connection is checked against ``allowlist``."""
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment
    adapter = GuardedAdapter(allowlist)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
