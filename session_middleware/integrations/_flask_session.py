"""``flask.session`` under ``init_app``: the tracked session with Flask's session attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from flask.sessions import SessionMixin, session_json_serializer

from .._session import Session as TrackedSession
from ._flask_codec import TaggedJSONCodec

if TYPE_CHECKING:
    from ..records import SessionRecord
    from ._flask_requests import RequestState


class FlaskSession(TrackedSession, SessionMixin):
    """``flask.session`` under :func:`init_app`: the request's tracked session
    (:class:`session_middleware.Session`: ``id``, ``user``, ``login()``, ``logout()`` ...)
    with Flask's session attributes, as Flask defines them.

    ``accessed`` and ``modified`` may be set by Flask and the app, as on Flask's own
    sessions; setting ``modified`` re-sends the cookie (nested changes are found anyway).
    ``new`` is true until the session is stored. ``permanent`` is the ``_permanent`` key.
    """

    __slots__ = ("_modified_flag", "_request")

    codec = TaggedJSONCodec(session_json_serializer)
    #: ``permanent`` of a session that never set it: Flask's is not, Flask-Session's
    #: ``SESSION_PERMANENT`` (true unless set otherwise) is.
    default_permanent: ClassVar[bool] = False

    def __init__(
        self,
        record: SessionRecord | None,
        now: float,
        origin: Callable[[], tuple[str, str]],
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self._modified_flag = False
        self._request: RequestState | None = None
        TrackedSession.__init__(self, record, now, origin, data)

    @property
    def accessed(self) -> bool:
        return self._accessed

    @accessed.setter
    def accessed(self, value: bool) -> None:
        self._accessed = bool(value)  # Flask 3.1.3 marks the session accessed through its request context

    @property
    def modified(self) -> bool:
        return self._modified_flag or super().modified

    @modified.setter
    def modified(self, value: bool) -> None:
        self._modified_flag = bool(value)

    # Flask's sessions count any write as a modification, even of an equal value; the
    # cookie is then re-sent (with a fresh expiry when permanent), so these do too.

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._modified_flag = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._modified_flag = True

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._modified_flag = True
        return item

    def clear(self) -> None:
        super().clear()
        self._modified_flag = True

    @property
    def new(self) -> bool:
        return self.is_new

    @new.setter
    def new(self, value: bool) -> None:
        raise AttributeError("new is true until the session is stored; it cannot be set")

    @property
    def permanent(self) -> bool:
        return bool(self.get("_permanent", self.default_permanent))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    @property
    def sid(self) -> str:
        """Flask-Session's name for :attr:`id`."""
        return self.id

    def _is_permanent(self) -> bool:
        """``permanent``, read without marking the session accessed (the save reads it)."""
        if not dict.__contains__(self, "_permanent"):  # most sessions never set it
            return self.default_permanent
        return bool(self.peek("_permanent"))
