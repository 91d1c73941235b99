"""Signed participant tokens and facilitator secrets. Pure (stdlib crypto only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from .protocol import ROLES, Role


class TokenError(Exception):
    """The token is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class Claims:
    participant_id: str
    event_id: str
    role: Role
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """HMAC-SHA256 over a compact JSON body; the result is safe inside a subprotocol name."""

    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        self._key = key
        self._ttl = ttl_seconds

    def issue(self, participant_id: str, event_id: str, role: Role, now: float) -> str:
        body = json.dumps(
            {"p": participant_id, "e": event_id, "r": role, "x": int(now) + self._ttl},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{_b64(self._sign(body))}"

    def verify(self, token: str, now: float) -> Claims:
        try:
            body_part, sig_part = token.split(".", 1)
            body = _unb64(body_part)
            sig = _unb64(sig_part)
        except ValueError:
            raise TokenError("malformed token") from None
        if not hmac.compare_digest(sig, self._sign(body)):
            raise TokenError("bad signature")
        try:
            data = json.loads(body)
            claims = Claims(str(data["p"]), str(data["e"]), data["r"], int(data["x"]))
        except (ValueError, KeyError, TypeError):
            raise TokenError("malformed token") from None
        if claims.role not in ROLES:
            raise TokenError("unknown role")
        if claims.expires_at < now:
            raise TokenError("token expired")
        return claims

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(18)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, 100_000)
    return f"pbkdf2${_b64(salt)}${_b64(digest)}"


def check_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2":
        return False
    got = hashlib.pbkdf2_hmac("sha256", secret.encode(), _unb64(salt), 100_000)
    return hmac.compare_digest(got, _unb64(digest))
