"""Signing session ids for the cookie, with key rotation (itsdangerous)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import Signer

from .records import SESSION_ID_LENGTH, TAGGED_SESSION_ID_LENGTH, is_session_id

#: The signer's purpose: a value signed for anything else never verifies as a session cookie.
COOKIE_SALT = b"session_middleware.cookie"
MIN_SECRET_BYTES = 32
security_logger = logging.getLogger("session_middleware.security")
HOW_TO_MAKE_A_KEY = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
#: Characters of the base64 SHA-256 signature after the id and its ".".
SIGNATURE_LENGTH = 43
#: id + "." + signature, for an anonymous (43) and a logged-in (47) id; nothing else is ours.
COOKIE_VALUE_LENGTHS = {n + 1 + SIGNATURE_LENGTH: n for n in (SESSION_ID_LENGTH, TAGGED_SESSION_ID_LENGTH)}


def normalize_secret_keys(secret_key: str | bytes | Sequence[str | bytes]) -> list[bytes]:
    """The configured secret(s) as a list of bytes, oldest to newest.

    A key shorter than 32 bytes still works, as Starlette's and Flask's do, so that an app
    moving here keeps its sessions; it is logged as a warning (once per call: once per
    middleware) on the ``session_middleware.security`` logger, since a short key can be guessed.

    :raises ValueError: if there is no key, or a key is empty.
    """
    # Anything else whose str() is the key (Starlette's Secret) is a key too.
    keys = list(secret_key) if isinstance(secret_key, (list, tuple)) else [secret_key]
    if not keys or any(k is None for k in keys):
        raise ValueError(f"secret_key must not be empty; {HOW_TO_MAKE_A_KEY}")
    encoded = [bytes(k) if isinstance(k, (bytes, bytearray)) else str(k).encode() for k in keys]
    if not all(encoded):
        raise ValueError(f"secret_key must not be empty; {HOW_TO_MAKE_A_KEY}")
    short = sorted({len(key) for key in encoded if len(key) < MIN_SECRET_BYTES})
    if short:
        lengths = ", ".join(map(str, short))
        security_logger.warning(
            "secret_key of %s bytes is shorter than %d bytes of random data and could be guessed; %s",
            lengths,
            MIN_SECRET_BYTES,
            HOW_TO_MAKE_A_KEY,
        )
    return encoded


@dataclass(frozen=True, slots=True)
class VerifiedCookie:
    session_id: str
    #: False when an older key signed it: the next write re-signs with the newest.
    current_key: bool


class CookieSigner:
    """Signs session ids with the newest key and verifies with every key.

    Keys are derived and cookies signed by itsdangerous; verification recomputes the same
    HMAC-SHA256 and compares it with ``hmac.compare_digest``. A value is checked for
    length and shape before any cryptography, and an id is only accepted if it has the
    exact shape this package generates.
    """

    def __init__(self, secret_keys: Sequence[bytes]) -> None:
        kwargs = {"salt": COOKIE_SALT, "digest_method": hashlib.sha256}
        self._newest = Signer(secret_keys[-1], **kwargs)  # type: ignore[arg-type]
        # itsdangerous derives the HMAC key from each secret on every call; derive once
        # (newest first, the order keys are tried in) and verify with the same HMAC-SHA256
        # its HMACAlgorithm computes, compared in constant time.
        self._keys = [self._newest.derive_key(key) for key in reversed(secret_keys)]

    def sign(self, session_id: str) -> str:
        return self._newest.sign(session_id).decode()

    def verify(self, value: str) -> VerifiedCookie | None:
        """The session id in a cookie value, or ``None`` if it is not a valid signature."""
        id_length = COOKIE_VALUE_LENGTHS.get(len(value))
        if id_length is None or not value.isascii() or value[id_length] != ".":
            return None
        session_id = value[:id_length]
        if not is_session_id(session_id):
            return None
        message, signature = session_id.encode(), value[id_length + 1 :].encode()
        for index, key in enumerate(self._keys):
            expected = urlsafe_b64encode(hmac.digest(key, message, "sha256")).rstrip(b"=")
            if hmac.compare_digest(expected, signature):
                return VerifiedCookie(session_id, current_key=index == 0)
        return None
