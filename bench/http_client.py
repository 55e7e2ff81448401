"""The load generator's HTTP/1.1 client: pre-built POST requests on keep-alive sockets.

Responses are parsed only as far as the status line and Content-Length, so the client costs as
little CPU as possible and the same for every system it measures.
"""

from __future__ import annotations

import socket

RECV_SIZE = 65536


class ResponseError(Exception):
    """The server's answer could not be read as an HTTP/1.1 response with a Content-Length."""


def build_request(path: str, body: bytes, headers: dict[str, str] | None = None, host: str = "127.0.0.1") -> bytes:
    """A complete POST request with a JSON body, ready to send on a keep-alive connection."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive connection; `request` sends pre-built bytes and returns (status, body)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def connect(self) -> None:
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def request(self, payload: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.sock.sendall(payload)
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer += self._recv()
        status, length, close = _head(buffer[:end].decode("latin-1"))
        start = end + 4
        while len(buffer) < start + length:
            buffer += self._recv()
        body = buffer[start : start + length]
        self.buffer = buffer[start + length :]
        if close:
            self.close()
        return status, body

    def _recv(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(RECV_SIZE)
        if not chunk:
            raise ResponseError("connection closed by the server")
        return chunk


def _head(head: str) -> tuple[int, int, bool]:
    """A response head's status, Content-Length and whether the server closes the connection after it."""
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ResponseError(f"not an HTTP/1.x status line: {status_line!r}")
    length, close = None, False
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding":
            raise ResponseError("chunked responses are not supported by this client")
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length is None:
        raise ResponseError("response without Content-Length")
    return int(parts[1]), length, close
