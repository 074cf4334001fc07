"""The signature of a delivery, as its receiver checks it (docs/api.md, "Webhooks")."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Maillage-Signature` header: HMAC-SHA256 of "<timestamp>.<body>" with the
    hook's secret. The timestamp is signed with the body so that a captured delivery
    cannot be replayed later under a fresh timestamp."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"
