"""Avatars drawn locally from a keyed hash of the email: never MD5, never a third party."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def avatar_key(email: str) -> str:
    """HMAC-SHA256 of the normalised email under the server secret (first 32 hex digits)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


PALETTE = [
    "#e76f51",
    "#2a9d8f",
    "#264653",
    "#e9c46a",
    "#8e7dbe",
    "#f4a261",
    "#6a994e",
    "#457b9d",
    "#bc4749",
    "#588157",
]


def identicon_svg(key: str, size: int = 48) -> str:
    """A 5×5 symmetric identicon for a key, as SVG (cacheable, no email inside)."""
    digest = bytes.fromhex(key.ljust(32, "0")[:32])
    colour = PALETTE[digest[0] % len(PALETTE)]
    cell = size / 5
    rects = []
    for row in range(5):
        for col in range(3):
            if (digest[1 + row * 3 + col] if 1 + row * 3 + col < 16 else digest[row]) & 1:
                for c in {col, 4 - col}:
                    rects.append(
                        f'<rect x="{c * cell:.1f}" y="{row * cell:.1f}" '
                        f'width="{cell:.1f}" height="{cell:.1f}"/>'
                    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}"><rect width="100%" height="100%" fill="#f1efe9"/>'
        f'<g fill="{colour}">{"".join(rects)}</g></svg>'
    )
