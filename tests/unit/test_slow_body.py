"""Issue #13, finding 7: a body trickled one byte at a time is cut off."""

import socket
import threading
import time

import pytest

from lib.bounded_read import BodyIncomplete, BodyTimeout, read_within


def trickle(sock, data, interval):
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(interval)


def test_a_trickled_body_is_cut_off_at_the_deadline_not_at_its_end():
    server, client = socket.socketpair()
    with server, client:
        sender = threading.Thread(
            target=trickle, args=(client, b"x" * 100, 0.2), daemon=True
        )
        sender.start()
        started = time.monotonic()
        with pytest.raises(BodyTimeout):
            read_within(server.makefile("rb"), 100, seconds=1, sock=server)
        # 100 bytes at 0.2 s would take 20 s
        assert time.monotonic() - started < 1.5
        # the connection's own timeout is given back
        assert server.gettimeout() is None


def test_a_body_that_arrives_in_time_is_read_whole():
    server, client = socket.socketpair()
    with server, client:
        threading.Thread(
            target=trickle, args=(client, b"abcdef", 0.01), daemon=True
        ).start()
        assert read_within(server.makefile("rb"), 6, seconds=2, sock=server) == (
            b"abcdef"
        )


def test_a_sender_that_hangs_up_early_is_an_incomplete_body():
    server, client = socket.socketpair()
    with server:
        client.sendall(b"abc")
        client.close()
        with pytest.raises(BodyIncomplete):
            read_within(server.makefile("rb"), 10, seconds=2, sock=server)
