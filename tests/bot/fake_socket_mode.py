"""A local stand-in for Slack's Socket Mode endpoint: a WebSocket server on a loopback port (plain
TCP: slack_sdk's builtin client uses TLS only on port 443). It greets a connecting app with
`hello`, answers pings, records every message the app sends (the acknowledgements of envelopes),
and can push envelopes (slash commands, interactions, events) to the app.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class FakeSocketMode:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=test"
        self.received: list[dict[str, Any]] = []
        self.connections: list[socket.socket] = []
        self.lock = threading.Condition()
        self.send_lock = threading.Lock()
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.running = False
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()
        self.listener.close()

    def wait_connected(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while not self.connections:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the app did not connect in Socket Mode")
                self.lock.wait(left)

    def send(self, envelope: dict[str, Any]) -> None:
        data = _frame(0x1, json.dumps(envelope).encode())
        with self.send_lock:
            self.connections[-1].sendall(data)

    def wait_response(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for m in self.received:
                    if m.get("envelope_id") == envelope_id:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no acknowledgement of envelope {envelope_id}")
                self.lock.wait(left)

    # -- the server -----------------------------------------------------------------------------
    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                request += chunk
            headers = {}
            for line in request.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest())
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}}
            with self.send_lock:
                conn.sendall(_frame(0x1, json.dumps(hello).encode()))
            with self.lock:
                self.connections.append(conn)
                self.lock.notify_all()
            while self.running:
                b1, b2 = _recv_exact(conn, 2)
                opcode, masked, n = b1 & 0x0F, b2 & 0x80, b2 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", _recv_exact(conn, 2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", _recv_exact(conn, 8))[0]
                mask = _recv_exact(conn, 4) if masked else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_recv_exact(conn, n)))
                if opcode == 0x9:  # ping
                    with self.send_lock:
                        conn.sendall(_frame(0xA, payload))
                elif opcode == 0x8:  # close
                    return
                elif opcode == 0x1:
                    with self.lock:
                        self.received.append(json.loads(payload.decode()))
                        self.lock.notify_all()
        except (ConnectionError, OSError, KeyError):
            return
