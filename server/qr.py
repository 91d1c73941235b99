"""QR codes for the links people scan at a table: an SVG document, made without I/O."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str, title: str = "", scale: int = 6) -> bytes:
    """A standalone SVG of `text` as a QR code, with a quiet zone a phone camera can find."""
    # Error level M survives a smudge on a printed card and keeps the code small.
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out, kind="svg", scale=scale, border=4, title=title or None, dark="#000", light="#fff"
    )
    return out.getvalue()
