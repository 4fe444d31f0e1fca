"""Loopback servers for transport tests: raw sockets for misbehaving servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest


class RawServer:
    """A socket server on 127.0.0.1 that misbehaves on purpose.

    Modes: ``hang`` reads the request and never answers; ``close_mid`` sends
    half a response and closes; ``ok`` answers 200 and closes. Every request
    head is recorded in ``requests``.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> bytes:
        conn.settimeout(2.0)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = self._read_request(conn)
            except OSError:
                return
            self.requests.append(request)
            if self.mode == "hang":
                self._stop.wait(30.0)
            elif self.mode == "close_mid":
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id":')
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        self._accept.join(2.0)
        for thread in self._threads:
            thread.join(2.0)


@pytest.fixture
def raw_server() -> Iterator[type[RawServer]]:
    """A factory of RawServers, all stopped at the end of the test."""
    servers: list[RawServer] = []

    class Factory(RawServer):
        def __init__(self, mode: str) -> None:
            super().__init__(mode)
            servers.append(self)

    yield Factory
    for server in servers:
        server.stop()


@pytest.fixture
def dead_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver listens on 127.0.0.1 only (never a name that may resolve elsewhere)."""
    return ("127.0.0.1", 0)
