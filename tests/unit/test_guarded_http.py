import doctest
import http.server
import threading

import pytest

from lib import guarded_http, url_guard
from lib.url_guard import Allowlist, UnsafeURLError


class _Answer(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):  # noqa: N802 - the standard library's name
        _Answer.seen.append(self.headers.get("Authorization"))
        body = b'{"internal": "version 18.0"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture
def internal_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Answer.seen.clear()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_module_examples_hold():
    result = doctest.testmod(guarded_http, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_a_connection_to_an_address_not_allow_listed_is_closed_before_sending(
    internal_server,
):
    session = guarded_session_for("")
    with pytest.raises(UnsafeURLError, match="loopback"):
        session.get(internal_server, headers={"Authorization": "Bearer secret"})
    assert _Answer.seen == []  # not a byte of the request reached the server


def test_a_name_rebound_to_an_internal_address_is_refused_at_connect_time(
    internal_server,
):
    port = internal_server.rsplit(":", 1)[1]
    # the check before the call saw a public address...
    url_guard.check_url(
        f"http://localhost:{port}/",
        Allowlist.parse("localhost"),
        resolver=lambda host, port: ["93.184.215.14"],
    )
    # ...the connection reaches 127.0.0.1: only the allow-listed name is trusted
    session = guarded_session_for("other.internal")
    with pytest.raises(UnsafeURLError, match="resolves to 127.0.0.1"):
        session.get(f"http://localhost:{port}/")
    assert _Answer.seen == []


def test_an_allow_listed_host_is_reached(internal_server):
    for allowed in ("127.0.0.1", "127.0.0.0/8"):
        answer = guarded_session_for(allowed).get(internal_server)
        assert answer.status_code == 200


def test_metadata_addresses_stay_refused_even_when_allow_listed():
    with pytest.raises(UnsafeURLError, match="never allowed"):
        url_guard.check_address(
            "169.254.169.254", None, Allowlist.parse("169.254.0.0/16")
        )


def guarded_session_for(allowlist_text):
    return guarded_http.guarded_session(Allowlist.parse(allowlist_text))


def test_an_allow_listed_port_does_not_open_the_other_ports(internal_server):
    port = int(internal_server.rsplit(":", 1)[1])
    reached = guarded_session_for(f"127.0.0.1:{port}").get(internal_server)
    assert reached.status_code == 200
    with pytest.raises(UnsafeURLError, match="loopback"):
        guarded_session_for(f"127.0.0.1:{port + 1}").get(internal_server)
