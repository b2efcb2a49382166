"""Security headers on every response: the page loads only its own files, and nothing is cached.

Pupil-level scores must not linger in shared or browser caches, so every response is `no-store`
(the static files are small; caching them is not worth the rule's exception).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
_NAMES = {name for name, _ in SECURITY_HEADERS}


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The optional Swagger UI (off by default) pulls its assets from a CDN: no CSP on that page only.
        headers = SECURITY_HEADERS[1:] if scope["path"] == "/docs" else SECURITY_HEADERS

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message["headers"] = existing + list(headers)
            await send(message)

        await self.app(scope, receive, send_wrapper)
