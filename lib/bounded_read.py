"""Reading a request body within a deadline.

A sender that announces a body and then trickles it, one byte now and then,
holds an HTTP worker for as long as it likes when the body is read in one
blocking call: each byte resets the socket's idle timeout. Here the whole
body must arrive before a deadline; the socket's timeout is set to the time
left before every read, and every read takes what has arrived (at most one
``recv``), so the deadline holds however the bytes are spread.

>>> import io
>>> read_within(io.BufferedReader(io.BytesIO(b"hello world")), 5, seconds=1)
b'hello'
>>> read_within(io.BufferedReader(io.BytesIO(b"hi")), 5, seconds=1)
Traceback (most recent call last):
...
lib.bounded_read.BodyIncomplete: the body ended after 2 of 5 bytes
>>> ticks = iter([0.0, 0.5, 1.5])
>>> class Trickle(io.RawIOBase):
...     def readable(self):
...         return True
...     def readinto(self, buffer):
...         buffer[0:1] = b"x"
...         return 1
>>> read_within(io.BufferedReader(Trickle(), 1), 5, seconds=1,
...             clock=lambda: next(ticks))
Traceback (most recent call last):
...
lib.bounded_read.BodyTimeout: the body did not arrive within 1 s (1 of 5 bytes)
"""

import contextlib
import time

CHUNK = 64 * 1024


class BodyTimeout(Exception):
    """The body did not arrive before the deadline."""


class BodyIncomplete(Exception):
    """The sender closed the connection before the announced length."""


def read_within(stream, length, seconds, sock=None, clock=time.monotonic):
    """Read exactly ``length`` bytes of ``stream`` within ``seconds``.

    ``stream`` is the server's buffered socket file (or any buffered reader);
    ``sock``, when given, is the connection whose timeout bounds each read.
    Raises :class:`BodyTimeout` or :class:`BodyIncomplete`.
    """
    deadline = clock() + seconds
    try:
        read_some = stream.read1  # one recv at most: what has arrived
    except AttributeError:
        read_some = stream.read
    previous = sock.gettimeout() if sock is not None else None
    parts, received = [], 0
    try:
        while received < length:
            left = deadline - clock()
            if left <= 0:
                raise BodyTimeout(
                    f"the body did not arrive within {seconds:g} s "
                    f"({received} of {length} bytes)"
                )
            if sock is not None:
                sock.settimeout(left)
            try:
                chunk = read_some(min(CHUNK, length - received))
            except TimeoutError as exc:  # socket.timeout too
                raise BodyTimeout(
                    f"the body did not arrive within {seconds:g} s "
                    f"({received} of {length} bytes)"
                ) from exc
            except OSError as exc:  # reset by the sender, or read after timeout
                raise BodyIncomplete(
                    f"the connection failed after {received} of {length} bytes"
                ) from exc
            if not chunk:
                raise BodyIncomplete(
                    f"the body ended after {received} of {length} bytes"
                )
            parts.append(chunk)
            received += len(chunk)
    finally:
        if sock is not None:
            # the connection may be gone: nothing left to restore then
            with contextlib.suppress(OSError):
                sock.settimeout(previous)
    return b"".join(parts)
