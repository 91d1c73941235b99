"""The languages an event's participant pages can speak. Pure.

The pages translate themselves on the client; the server only stores the facilitator's choice
and refuses a language no page has words for.
"""

from __future__ import annotations

from .protocol import ErrorCode, ProtocolError

LANGUAGES: tuple[str, ...] = ("en", "fr", "de")
# Each in its own language: a facilitator picks the one their participants read.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
# What a numbered table is called on its participants' pages ("Tisch 3").
TABLE_WORD: dict[str, str] = {"en": "Table", "fr": "Table", "de": "Tisch"}


def check_language(code: str) -> str:
    """`code` if participant pages can speak it; otherwise an `invalid` error naming the choices."""
    if code not in LANGUAGES:
        allowed = ", ".join(f"{c} ({LANGUAGE_NAMES[c]})" for c in LANGUAGES)
        raise ProtocolError(
            ErrorCode.INVALID, f"language must be one of {allowed}; {code[:20]!r} is not"
        )
    return code
