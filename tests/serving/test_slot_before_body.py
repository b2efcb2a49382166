"""A request refused for want of a job slot is refused before its body is read (security probe, item 3).

30 concurrent 60 MB uploads took a server from 1.09 to 2.25 GB: each body was read into memory and
only then refused 503. Here a real uvicorn server (in a thread, a stub model, one job slot) has its
slot held by an upload whose body is still arriving; every other large request must be answered 503
at once, before the client has sent a byte of its body (the raw sockets below never send one).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from exclusion_risk.features import registry
from exclusion_risk.serving.process import free_port

BIG = 50 * 1024 * 1024  # declared, never sent


class _Scorer:
    model_version = "1"
    feature_names = registry.feature_names()

    def info(self) -> dict:
        return {"name": "exclusion-risk", "version": self.model_version}


@pytest.fixture
def server(stub_app):
    """(port, token): a real server with one job slot and a stub model."""
    app, token, _ = stub_app(_Scorer, max_concurrent_jobs=1)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    app.state.model.load_initial()
    yield port, token
    server.should_exit = True  # noqa: V101 (uvicorn's loop reads it)
    thread.join(timeout=10)


def _open(port: int, token: str, path: str, content_type: str, length: int,
          body: bytes = b"") -> socket.socket:
    """A request with its headers (and `body`, of the declared `length`) sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: test\r\nX-API-Key: {token}\r\nContent-Type: {content_type}"
                 f"\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n".encode() + body)
    return sock


def _answer(sock: socket.socket) -> str:
    """The whole response (the server closes after it); a timeout if it is waiting for the body."""
    received = b""
    with sock:
        while chunk := sock.recv(65536):
            received += chunk
    return received.decode("latin-1")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/score/file", "text/csv"), ("/score/file", "multipart/form-data; boundary=x"),
     ("/score", "application/json"), ("/explain", "application/json"),
     ("/explain/file", "multipart/form-data; boundary=x")],
)  # fmt: skip
def test_a_request_beyond_the_job_slots_is_refused_before_its_body_is_read(server, path, content_type):
    port, token = server
    holder = _open(port, token, "/score/file", "text/csv", 1_000_000, b"UPN,Surname\n")  # body still coming
    try:
        time.sleep(0.5)  # the holder is in the slot, reading its body
        started = time.monotonic()
        head = _answer(_open(port, token, path, content_type, BIG))  # not a byte of the body sent
        assert head.startswith("HTTP/1.1 503"), head
        assert "retry-after: 5" in head.lower()
        assert time.monotonic() - started < 5
    finally:
        holder.close()  # the holder's client goes: its slot is given back


def test_small_feature_records_need_no_slot_and_the_slot_comes_back(server):
    port, token = server
    holder = _open(port, token, "/score/file", "text/csv", 1_000_000, b"UPN,Surname\n")
    time.sleep(0.5)
    body = b'{"pupils": []}'
    head = _answer(_open(port, token, "/score", "application/json", len(body), body))
    assert not head.startswith("HTTP/1.1 503"), head  # declared small: read and answered without a slot
    holder.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the disconnected holder's slot is released
        answer = _answer(_open(port, token, "/score/file", "text/csv", 12, b"UPN,Surname\n"))
        if "already scoring" not in answer:
            break
        time.sleep(0.2)
    assert "already scoring" not in answer and answer.startswith("HTTP/1.1 "), answer
