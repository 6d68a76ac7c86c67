"""Serving the API with cheroot, shared by ``kingbird-api`` and the demo.

Plain cheroot hands a connection to a worker thread as soon as it is readable (a new
one at once), and the worker then reads the request line and headers blocking: a
client that sends one header line every few seconds, or connects and sends nothing,
holds a thread as long as it likes, and a few dozen such clients take them all. Here
cheroot's selector thread gathers each request's headers instead, without blocking:
a worker gets the connection only once the blank line that ends them has arrived.
A client has ``client_timeout`` seconds from the first byte of a request to send all
of it: headers not complete by then close the connection (cheroot's expiry of idle
connections), a body not complete by then is a 408 (``BodyLimit`` reads the body
and answers it). A response given before the whole body was read closes the
connection instead of waiting for the rest.

Production runs the API under gunicorn behind a buffering proxy (README, "Scale-out
mode"); this server is the one of ``kingbird-api`` and the demo.
"""

from __future__ import annotations

import io
import selectors
import socket
import threading
import time

from cheroot import server, wsgi
from cheroot.makefile import MakeFile, StreamReader

LISTEN_BACKLOG = 128
MAX_HEADER_BYTES = 65536  # request line and headers; beyond it cheroot answers 413/414
_GATHER_CHUNK = 65536
_END_OF_HEADERS = b"\r\n\r\n"


class _DeadlineSocketIO(socket.SocketIO):
    """The raw reads of one connection: the bytes the selector gathered first, then
    the socket, never past the current request's deadline."""

    def __init__(self, sock: socket.socket, reader: RequestReader):
        super().__init__(sock, "rb")
        self._reader = reader

    def readinto(self, buffer) -> int | None:
        gathered = self._reader.gathered
        if gathered:
            count = min(len(buffer), len(gathered))
            buffer[:count] = gathered[:count]
            del gathered[:count]
            return count
        deadline = self._reader.deadline
        if deadline is None:
            return super().readinto(buffer)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")  # what cheroot and BodyLimit know as a timeout
        sock = self._sock
        sock.settimeout(min(left, self._reader.timeout))
        try:
            return super().readinto(buffer)
        finally:
            sock.settimeout(self._reader.timeout)  # writes keep the whole timeout


class RequestReader(StreamReader):
    """cheroot's buffered reader of a connection, fed by ``gather`` between requests
    and bounded by ``deadline`` (monotonic seconds) while a request is read."""

    def __init__(self, sock: socket.socket, timeout: float,
                 bufsize: int = io.DEFAULT_BUFFER_SIZE):
        self.sock = sock
        self.timeout = timeout
        self.gathered = bytearray()
        self.started: float | None = None  # monotonic time of the request's first byte
        # StreamReader's own __init__ would build a plain SocketIO.
        super(StreamReader, self).__init__(_DeadlineSocketIO(sock, self), bufsize)
        self.bytes_read = 0

    @property
    def deadline(self) -> float | None:
        return None if self.started is None else self.started + self.timeout

    def has_data(self) -> bool:
        return super().has_data() or bool(self.gathered)

    def begin(self) -> None:
        """The request starts now unless its first byte came earlier."""
        if self.started is None:
            self.started = time.monotonic()

    def headers_in(self) -> bool:
        """Whether the unread bytes hold a whole request head (or more than a head may
        be, for cheroot to refuse)."""
        # peek() returns the whole buffer without reading the socket when it has data.
        unread = bytes(self.peek(1)) if super().has_data() else b""
        unread += self.gathered
        return _END_OF_HEADERS in unread or len(unread) > MAX_HEADER_BYTES

    def gather(self) -> bool:
        """Read what the socket holds, without waiting.

        :returns: False when the client closed or the read failed, else True.
        """
        try:
            self.sock.setblocking(False)
            data = self.sock.recv(_GATHER_CHUNK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            return False
        self.begin()
        self.gathered += data
        return True


class _Request(server.HTTPRequest):
    def send_headers(self):
        # An answer before the whole body was read (an error, or a Content-Length
        # that is negative): close instead of reading, or waiting for, the rest.
        if self.chunked_read or getattr(self.rfile, "remaining", 0) != 0:
            self.close_connection = True
        super().send_headers()


class _Connection(server.HTTPConnection):
    RequestHandlerClass = _Request

    def __init__(self, srv, sock, makefile=MakeFile):
        def files(sock, mode="r", bufsize=io.DEFAULT_BUFFER_SIZE):
            if "r" in mode:
                return RequestReader(sock, srv.timeout, bufsize)
            return makefile(sock, mode, bufsize)

        super().__init__(srv, sock, files)


class GatheringServer(wsgi.Server):
    """cheroot's WSGI server, handing a worker only requests whose headers are in."""

    ConnectionClass = _Connection

    def process_conn(self, conn):
        reader: RequestReader = conn.rfile
        if reader.has_data():  # bytes of the next request came with the last one
            reader.begin()
        still_open = reader.gather()
        if reader.headers_in():
            super().process_conn(conn)
        elif still_open:
            self._wait_for_more(conn)
        else:
            conn.close()

    def _wait_for_more(self, conn) -> None:
        # cheroot's selector closes a connection idle for longer than ``timeout``
        # since ``last_used``: counted from the request's first byte, that bounds the
        # time to send the headers (and the wait for them on a new connection).
        since_start = 0.0 if conn.rfile.started is None else (
            time.monotonic() - conn.rfile.started)
        conn.last_used = time.time() - since_start
        # put() would hand the connection straight back (has_data); register it.
        self._connections._selector.register(conn.socket.fileno(), selectors.EVENT_READ,
                                             data=conn)

    def put_conn(self, conn):
        conn.rfile.started = None  # the next request's clock starts at its first byte
        super().put_conn(conn)


class ApiServer:
    """A cheroot server running in a background thread.

    :param client_timeout: seconds a client has to send a whole request from its
        first byte, and the longest idle keep-alive connection (``[api]
        client_timeout``).
    """

    def __init__(self, app, host: str, port: int, threads: int, client_timeout: float = 10):
        # cheroot's listen backlog of 5 drops the SYNs of a burst of connections (each
        # then waits a second for its retransmission): room for bursts instead.
        self.server = GatheringServer((host, port), app, numthreads=threads,
                                      server_name="kingbird-api", timeout=client_timeout,
                                      request_queue_size=LISTEN_BACKLOG)
        self.server.max_request_header_size = MAX_HEADER_BYTES
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.server.prepare()  # binds now, so a busy port fails here, loudly
        self._thread = threading.Thread(target=self.server.serve, name="kingbird-api",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
