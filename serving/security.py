"""API keys with roles: created by `exclusion-risk keys add`, stored hashed, checked on every request.

A key is `erk.<key_id>.<secret>`: the key id (also the audit log's "who") finds the row, the
secret is checked against HMAC-SHA256(salt, secret) with a per-key random salt. The secret is 256
random bits, so a slow KDF would add latency to every request without adding any protection: the
slow hash is for low-entropy passwords, which these are not. A key may have a last day (`expires_on`,
UTC): from the next day it is refused with a 401 that says it has expired.

The audit log gets the key id only once the key has verified (`unknown` before): what an anonymous
caller claims is not a fact worth storing. A client (by address) whose keys keep failing is answered
429 for a while without its key being looked at (`FailedAuthThrottle`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from exclusion_risk.serving.audit import UNKNOWN_KEY
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.school_scope import loaded_schools, school_id, stored_schools

ROLES = ("scorer", "admin")
_RANK = {"scorer": 1, "admin": 2}  # an admin key may do everything a scorer key may
KEY_PREFIX = "erk"
API_KEY_HEADER = "X-API-Key"
# Failed key checks one client address may make in AUTH_WINDOW_SECONDS before it is answered 429. A
# person mistyping a key fails a few times; a script guessing keys fails hundreds. Default of the
# service setting `auth_failures_per_minute`.
AUTH_FAILURES_PER_MINUTE = 10
AUTH_WINDOW_SECONDS = 60.0
# Client addresses the throttle remembers at once; the least recently failing is forgotten first, so
# a flood of spoofed or rotating addresses costs bounded memory (and at worst forgets a guesser).
THROTTLE_MAX_CLIENTS = 10_000
# `keys list` counts each key's pupils scored without their UPN's history over this many days.
WITHHELD_DAYS = 30


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    # the schools (URN or LAEstab) the key is for; None: the whole authority (serving.school_scope)
    schools: frozenset[str] | None = None


@dataclass(frozen=True)
class NewKey:
    key_id: str
    role: str
    label: str
    token: str  # shown once, never stored
    expires_on: date | None = None
    schools: frozenset[str] | None = None


class KeyExpired(Exception):
    """A key whose secret is right but whose last day (UTC) has passed; the message gives that day."""


def today() -> date:
    """Today in UTC: a key works through its `expires_on` day (the tests freeze this)."""
    return datetime.now(UTC).date()


def _digest(salt: bytes, secret: str) -> bytes:
    return hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).digest()


def expired(expires_on: str | None) -> bool:
    """Whether a key's last day (as stored, YYYY-MM-DD; None: none) has passed, in UTC."""
    return expires_on is not None and today().isoformat() > expires_on


def split_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyStore:
    def __init__(self, db: Database):
        self.db = db

    def add(self, role: str, label: str = "", expires_on: date | None = None,
            schools: frozenset[str] | None = None) -> NewKey:
        """A new key; `schools` (school ids as school_scope.school_id keeps them) holds a scorer key to
        those schools, None (or empty) leaves it for the whole authority. An admin key is never scoped."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        schools = frozenset(schools) if schools else None
        if schools is not None and role != "scorer":
            raise ValueError("only a scorer key can be for some schools: an admin key manages the whole "
                             "service")
        if schools is not None and any(school_id(s) != s for s in schools):
            raise ValueError("schools must be school URNs (6 digits) or LAEstab numbers (7 digits)")
        if expires_on is not None and expires_on < today():
            raise ValueError(f"the key's last day {expires_on.isoformat()} has passed")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)  # url-safe alphabet has no '.', so the token splits cleanly
        salt = secrets.token_bytes(16)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self.db.execute(
            "INSERT INTO api_keys (key_id, role, salt, digest, label, created_at, expires_on, schools) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key_id, role, salt, _digest(salt, secret), label, created,
             None if expires_on is None else expires_on.isoformat(), stored_schools(schools)),
        )
        return NewKey(key_id, role, label, f"{KEY_PREFIX}.{key_id}.{secret}", expires_on, schools)

    def list(self) -> list[dict]:
        """Each key, its last successful use and the census pupils its requests of the last
        WITHHELD_DAYS scored without the history their UPN names (`withheld_recently`): many of them
        under one key may be someone trying dates of birth for children's UPNs."""
        since = (datetime.now(UTC) - timedelta(days=WITHHELD_DAYS)).isoformat(timespec="milliseconds")
        rows = self.db.execute(
            "SELECT k.key_id, k.role, k.label, k.created_at, k.expires_on, k.revoked_at, k.schools, "
            "(SELECT MAX(a.at) FROM audit_log a WHERE a.key_id = k.key_id AND a.status < 400), "
            "(SELECT COALESCE(SUM(a.history_withheld), 0) FROM audit_log a WHERE a.key_id = k.key_id "
            "AND a.at >= ?) FROM api_keys k ORDER BY k.created_at, k.key_id",
            (since,),
        ).fetchall()
        cols = ("key_id", "role", "label", "created_at", "expires_on", "revoked_at", "schools", "last_used",
                "withheld_recently")  # fmt: skip
        keys = [dict(zip(cols, row, strict=True)) for row in rows]
        for key in keys:  # None: the whole authority
            key["schools"] = loaded_schools(key["schools"])
        return keys

    def revoke(self, key_id: str) -> bool:
        cur = self.db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (datetime.now(UTC).isoformat(timespec="seconds"), key_id),
        )
        return cur.rowcount == 1

    def verify(self, token: str) -> Principal | None:
        """The key's principal; None for a key that is not valid or revoked. Raises KeyExpired for a
        right secret past its last day (checked after the secret, so expiry tells a guesser nothing)."""
        parsed = split_token(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        row = self.db.execute(
            "SELECT role, salt, digest, expires_on, schools FROM api_keys WHERE key_id = ? "
            "AND revoked_at IS NULL",
            (key_id,),
        ).fetchone()
        if row is None:
            return None
        role, salt, digest, expires_on, schools = row
        if not hmac.compare_digest(_digest(salt, secret), digest):
            return None
        if expired(expires_on):
            raise KeyExpired(f"The API key has expired: its last day was {expires_on} (UTC). Ask an "
                             "administrator for a new key.")
        return Principal(key_id, role, loaded_schools(schools))


class FailedAuthThrottle:
    """Sliding window of failed key checks per client address, in process and bounded in memory.

    Each client keeps only the times of its last `limit` failures (all the window test needs), and at
    most `max_clients` clients are kept. Only failures are recorded: a valid key neither counts nor
    resets the count, so a client holding one key cannot use it to keep guessing another.
    """

    def __init__(self, limit: int = AUTH_FAILURES_PER_MINUTE, window: float = AUTH_WINDOW_SECONDS,
                 max_clients: int = THROTTLE_MAX_CLIENTS, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        # Used by the async key check only, so always on the event loop: no lock is needed.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not throttled."""
        times = self._failures.get(client)
        if times is None or len(times) < self.limit:
            return None
        wait = times[0] + self.window - self.clock()
        if wait <= 0:
            return None
        return max(1, math.ceil(wait))

    def record_failure(self, client: str) -> None:
        times = self._failures.pop(client, None) or deque(maxlen=self.limit)
        times.append(self.clock())
        self._failures[client] = times  # most recent last: eviction takes the oldest first
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)


def auth_throttle(app) -> FailedAuthThrottle:
    """The app's throttle, made on first use with the app's `auth_failures_per_minute` setting."""
    throttle = getattr(app.state, "auth_throttle", None)
    if throttle is None:
        throttle = app.state.auth_throttle = FailedAuthThrottle(app.state.settings.auth_failures_per_minute)
    return throttle


def client_address(request: Request) -> str:
    """The client's address: the connection's peer, or behind a proxy named in the `trusted_proxies`
    setting the address that proxy forwarded (uvicorn's proxy headers are on only then)."""
    return request.client.host if request.client else ""


# Declared through FastAPI's security scheme so the OpenAPI document names the header.
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key from `exclusion-risk keys add --role scorer|admin`.",
)


def require_role(role: str):
    """Dependency factory: the caller's key must be valid, unrevoked, unexpired and at least `role`."""
    if role not in ROLES:
        raise ValueError(role)

    # async: the lookup is one indexed SQLite read, cheaper than a hop to the thread pool.
    async def dependency(request: Request, token: str | None = Security(api_key_header)) -> Principal:
        audit = request.state.audit
        audit.enabled = True
        audit.key_id = UNKNOWN_KEY  # until the key verifies: a claimed id is not recorded
        throttle = auth_throttle(request.app)
        client = client_address(request)
        wait = throttle.retry_after(client)
        if wait is not None:  # answered before the key is looked at, so guessing gains nothing
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"Too many requests from this address with keys that are not valid (every key from "
                f"it is refused for now, a valid one too); try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        if not token:  # no key at all is not a guess: it is not counted
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=f"Send an API key in the {API_KEY_HEADER} header.",
                headers={"WWW-Authenticate": "APIKey"},
            )
        try:
            principal = request.app.state.keys.verify(token)
        except KeyExpired as exc:  # the right secret, so not a guess: not counted; audited as unknown
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, detail=str(exc), headers={"WWW-Authenticate": "APIKey"}
            ) from None
        if principal is None:
            throttle.record_failure(client)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="The API key is not valid or has been revoked.",
                headers={"WWW-Authenticate": "APIKey"},
            )
        audit.key_id = principal.key_id  # from the key table, so bounded and real
        request.state.principal = principal  # its schools, for the routes (serving.school_scope)
        if _RANK[principal.role] < _RANK[role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"This key has the {principal.role} role; this route needs {role}.",
            )
        return principal

    return dependency


require_scorer = require_role("scorer")
require_admin = require_role("admin")
