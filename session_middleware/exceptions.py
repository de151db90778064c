"""The package's exceptions."""

from __future__ import annotations


class SessionError(Exception):
    """Base class of every error this package raises on purpose."""


class StoreError(SessionError):
    """The session store could not be reached or failed; the request gets a 503.

    Stores raise it (chaining the driver's error) instead of answering as if a session
    were missing, so an outage never logs users out.
    """
