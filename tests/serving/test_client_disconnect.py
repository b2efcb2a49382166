"""A client that goes away mid-upload is not a server error: no ERROR line with a traceback, and the
audit log records 499 (client closed the request), not 500.

Before: a live upload abandoned after its first 1,200 bytes (Content-Length 1,000,000) was logged
"ERROR ... unhandled ClientDisconnect (reference ...)" with its frames and audited as a 500, for
POST /score/file and POST /score alike: a cancelled upload read as the service failing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from exclusion_risk.serving.errors import CLIENT_CLOSED


class _Scorer:
    model_version = "1"
    feature_names = ["nc_year"]


def _abandoned(app, token: str, path: str, content_type: bytes) -> list[dict]:
    """The messages the app sends for a request whose client disconnects after its first chunk."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"test"), (b"x-api-key", token.encode()), (b"content-type", content_type),
                    (b"content-length", b"1000000")],
        "client": ("127.0.0.1", 50000), "server": ("test", 80),
    }  # fmt: skip
    incoming = [{"type": "http.request", "body": b"UPN,Surname\n" * 100, "more_body": True},
                {"type": "http.disconnect"}]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


@pytest.mark.parametrize(("path", "content_type"), [("/score/file", b"text/csv"),
                                                    ("/score", b"application/json")])
def test_an_abandoned_upload_is_audited_499_and_logged_as_no_error(stub_app, caplog, path, content_type):
    app, token, database = stub_app(_Scorer)
    app.state.model.load_initial()
    with caplog.at_level(logging.INFO):
        _abandoned(app, token, path, content_type)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT status FROM audit_log WHERE route = ?", (path,)).fetchall()
    statuses = [status for (status,) in rows]
    assert statuses == [CLIENT_CLOSED] == [499]
