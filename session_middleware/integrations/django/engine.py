"""Django's session engine on this package's stores: ``SESSION_ENGINE = "session_middleware.integrations.django"``.

:class:`SessionStore` is a :class:`~django.contrib.sessions.backends.base.SessionBase`,
so ``request.session`` keeps Django's whole API, its async twins included. What it keeps
is a :class:`~session_middleware.SessionRecord`: each key's value as JSON text, saved per
key, with the session's user, address and client, so the REST API lists and closes it
like any other session of the package.

``session_key`` is the cookie value: the session id signed with ``SECRET_KEY``. Django's
test client and any code that hands a session key around keep working; a key that does
not verify (guessed, forged, signed with a retired key) is no key at all. The bare id,
the public handle the REST API shows, is :attr:`SessionStore.session_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.utils.module_loading import import_string

from ...records import DataChanges, SessionRecord, decode_value, encode_value, new_session_id, validate_user
from ._ops import Create, Delete, Flow, Load, SaveChanges, arun, run
from .config import MAX_TIMEOUT, get_config
from .lifetime import lifetime

T = TypeVar("T")

logger = logging.getLogger("session_middleware")
security_logger = logging.getLogger("session_middleware.security")

#: Django's data key for ``set_expiry``; Django's auth keys that say who is logged in.
EXPIRY_KEY = "_session_expiry"
AUTH_USER_KEY = "_auth_user_id"


def _no_origin() -> tuple[str, str]:
    return ("", "")


#: JSON values that cannot change in place.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def encode_data(data: Mapping[str, Any]) -> dict[str, str]:
    """Each value as JSON text; a key or value JSON cannot carry is a ``TypeError`` naming the key."""
    return {key: encode_value(key, value) for key, value in data.items()}


class SessionStore(SessionBase):
    """``request.session`` backed by the store of ``settings.SESSION_MIDDLEWARE``.

    Differences from Django's engines, each for a reason given in ``docs/django.md``:
    values must be JSON (``TypeError`` naming the key otherwise); a save changes only the
    keys this request changed, so concurrent requests merge; a session closed while a
    request held it is never written back (``save`` raises ``UpdateError``); logging in
    gives the session a new id tagged with its user.
    """

    # Per-object state, with the values a new object starts from: only what a request
    # changes is set on the instance (a read request builds one of these).
    _sid: str | None = None
    _signed: str | None = None
    #: The cookie verified with a fallback key: the response re-signs it with SECRET_KEY.
    resign = False
    _record: SessionRecord | None = None
    _stored: Mapping[str, str] = MappingProxyType({})
    _user: dict[str, Any] | None = None
    _pending_user: dict[str, Any] | None = None
    _cleared = False
    #: Closed in the store while this object held it: never written again.
    _gone = False
    #: Whether the async methods run on the server's event loop; the sync middleware
    #: (WSGI) clears it, since Django runs async views there in short-lived loops.
    server_loop = True

    def __init__(self, session_key: str | None = None) -> None:
        # SessionBase.__init__ is not called: it imports SESSION_SERIALIZER for every
        # object, which this engine never uses (see ``serializer``); what else it sets is
        # set here (tests/django_engine checks the two stay in step).
        self._config = get_config()
        #: ``(address, client)`` of the request, for a session this request opens.
        self.origin: Callable[[], tuple[str, str]] = _no_origin
        self.accessed = False
        self.modified = False
        if session_key is not None:
            self._set_signed_key(session_key)

    @cached_property
    def serializer(self) -> Any:
        """Django's ``SESSION_SERIALIZER``: unused here (values are stored as JSON per key),
        kept for code that reads it from a ``SessionBase``."""
        return import_string(settings.SESSION_SERIALIZER)

    async def _arun(self, flow: Flow[T]) -> T:
        return await arun(flow, self._config.store, server_loop=self.server_loop)

    # -- the key: a signed id ----------------------------------------------------------

    def _get_signed_key(self) -> str | None:
        return self._signed

    def _set_signed_key(self, value: str | None) -> None:
        self._sid = self._signed = None
        self.resign = False
        if not value or not isinstance(value, str):
            return
        verified = self._config.verify(value)
        if verified is None:
            return
        self._sid = verified.session_id
        self._signed = value if verified.current_key else self._config.signer.sign(verified.session_id)
        self.resign = not verified.current_key

    def _set_id(self, session_id: str | None) -> None:
        self._sid = session_id
        self._signed = None if session_id is None else self._config.signer.sign(session_id)
        self.resign = False

    session_key = property(_get_signed_key)
    _session_key = property(_get_signed_key, _set_signed_key)

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and self._config.verify(str(key)) is not None

    def _get_new_session_key(self) -> str:
        return self._config.signer.sign(new_session_id())

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    # -- what the package adds -----------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        """The bare session id: the handle the REST API lists (it is no credential)."""
        return self._sid

    @property
    def user(self) -> dict[str, Any] | None:
        """The user this session is bound to (``{"id", "name"}``), or ``None``.

        Outside a request (the middleware loads sessions before the view) reading it loads
        the session first, with the store's sync methods.
        """
        self.preload()
        user = self._pending_user or self._user
        return None if user is None else dict(user)

    @property
    def gone(self) -> bool:
        """Whether the session was closed in the store while this object held it."""
        return self._gone

    @property
    def record(self) -> SessionRecord | None:
        """The record as loaded or last written by this object (loaded first, as :attr:`user`)."""
        self.preload()
        return self._record

    def bind_user(self, user: Mapping[str, Any]) -> None:
        """Bind the session to ``user`` (a mapping with a string ``id``, optional ``name``).

        The next save gives it a new id tagged with the user and a fresh lifetime, as
        every login does; the ``user_logged_in`` receiver calls this.
        """
        self._pending_user = validate_user(user)
        self.modified = True

    def adopt_data(self, data: Mapping[str, Any]) -> None:
        """Take ``data`` as this new session's content (a migration); checks it is JSON.

        :raises TypeError: naming a key whose value JSON cannot carry.
        """
        encode_data(data)
        self._session_cache = dict(data)
        self.modified = True

    # -- loading -------------------------------------------------------------------------

    def _load_flow(self) -> Flow[dict[str, Any]]:
        sid = self._sid
        if sid is None or self._gone:
            return {}
        config = self._config
        interval = config.touch_interval
        before = config.store.clock()
        record = yield Load(sid, None, interval)
        # The store skips the refresh within touch_interval; a session whose own idle
        # timeout (set_expiry(seconds)) is that short needs it now.
        if record is not None and record.idle_timeout / 10 < interval:
            if record.idle_timeout / 10 < before - record.last_request < interval:
                record = yield Load(sid)
        return self._adopt(record)

    def _adopt(self, record: SessionRecord | None) -> dict[str, Any]:
        if record is not None:
            try:
                data = {key: decode_value(text) for key, text in record.data.items()}
            except ValueError:
                security_logger.warning("session data that is not JSON; treated as no session")
                record = None
        if record is None:
            self._forget()
            return {}
        self._record = record
        self._stored = dict(record.data)
        self._user = None if record.user is None else dict(record.user)
        self._cleared = False
        return data

    def _forget(self) -> None:
        """No session any more: the next save opens a new one (with a new id)."""
        self._set_id(None)
        self._record = None
        self._stored = {}
        self._user = None
        self._cleared = False

    def load(self) -> dict[str, Any]:
        return run(self._load_flow(), self._config.store)

    async def aload(self) -> dict[str, Any]:
        return await self._arun(self._load_flow())

    def preload(self) -> None:
        """Load now, without marking the session accessed (the middleware does this
        before the view runs, so a store outage is a 503 rather than an error mid-view)."""
        if self._sid is not None and not hasattr(self, "_session_cache"):
            self._session_cache = self.load()

    async def apreload(self) -> None:
        if self._sid is not None and not hasattr(self, "_session_cache"):
            self._session_cache = await self.aload()

    def exists(self, session_key: str | None) -> bool:
        return run(self._exists_flow(session_key), self._config.store)

    async def aexists(self, session_key: str | None) -> bool:
        return await self._arun(self._exists_flow(session_key))

    def _exists_flow(self, session_key: str | None) -> Flow[bool]:
        verified = self._config.verify(session_key) if session_key else None
        if verified is None:
            return False
        # An interval no stored session can reach: a read that refreshes nothing.
        return (yield Load(verified.session_id, touch_interval=MAX_TIMEOUT)) is not None

    # -- saving --------------------------------------------------------------------------

    def _changes(self, encoded: Mapping[str, str]) -> DataChanges:
        stored = self._stored
        if self._cleared:
            return DataChanges(updated=dict(encoded), clear=True)
        updated = {key: text for key, text in encoded.items() if stored.get(key) != text}
        return DataChanges(updated=updated, removed=frozenset(stored.keys() - encoded.keys()))

    def has_changes(self) -> bool:
        """Whether the data differs from what was loaded (nested mutations included)."""
        if not hasattr(self, "_session_cache"):
            return False
        if self._pending_user is not None:
            return True
        cache = self._session_cache
        if not self.modified and not self._cleared:
            # Nothing was set or removed: only a list or dict can have changed, in place.
            cache = {key: value for key, value in cache.items() if type(value) not in _SCALARS}
            if not cache:
                return False
            return any(self._stored.get(key) != text for key, text in encode_data(cache).items())
        return bool(self._changes(encode_data(cache)))

    def _save_flow(self, data: Mapping[str, Any], must_create: bool) -> Flow[None]:
        encoded = encode_data(data)
        if self._gone:
            raise UpdateError
        sid = self._sid
        if must_create and sid is not None:
            raise CreateError
        if sid is None:
            yield from self._open_flow(encoded, replaces=None)
            return
        if self._reissues(encoded):
            if not (yield from self._open_flow(encoded, replaces=sid)):
                raise UpdateError
            return
        changes = self._changes(encoded)
        if changes:
            if not (yield SaveChanges(sid, changes)):
                logger.info("session closed during the request; not saved")
                self._gone = True
                raise UpdateError
            self._stored = encoded
            self._cleared = False

    def _reissues(self, encoded: Mapping[str, str]) -> bool:
        """Whether the save needs a new record (so a new id) rather than per-key changes:
        a login, a logout by removing Django's auth keys, or a new ``set_expiry``."""
        if self._pending_user is not None:
            return True
        if self._user is not None and AUTH_USER_KEY in self._stored:
            if encoded.get(AUTH_USER_KEY) != self._stored[AUTH_USER_KEY]:
                self._user = None  # Django's auth no longer says who this is: unbind
                return True
        return encoded.get(EXPIRY_KEY) != self._stored.get(EXPIRY_KEY)

    def _open_flow(self, encoded: Mapping[str, str], replaces: str | None) -> Flow[bool]:
        """Store this session's data under a new id; ``False`` if ``replaces`` is gone."""
        config = self._config
        now = config.store.clock()
        login = self._pending_user is not None
        user = self._pending_user if login else self._user
        base = self._record
        if login or base is None:
            opened = now
            address, client = self.origin()
        else:
            opened, address, client = base.opened, base.address, base.client
        expiry = decode_value(encoded[EXPIRY_KEY]) if EXPIRY_KEY in encoded else None
        idle, absolute = lifetime(expiry, now=now, opened=opened, config=config)
        if absolute <= now:  # set_expiry in the past: the session is over
            if replaces is not None:
                yield Delete(replaces)
            self._forget()
            self._pending_user = None
            return True
        record = SessionRecord(
            id=new_session_id(None if user is None else str(user["id"])),
            opened=opened,
            last_request=now,
            idle_timeout=idle,
            absolute_expiry=absolute,
            address=address,
            client=client,
            user=user,
            data=dict(encoded),
        )
        cap = config.max_sessions_per_user if user is not None else None
        if not (yield Create(record, replaces=replaces, max_per_user=cap)):
            logger.info("session closed during the request; not given a new id")
            self._forget()
            self._gone = True
            return False
        self._set_id(record.id)
        self._record = record
        self._stored = dict(encoded)
        self._user = None if user is None else dict(user)
        self._pending_user = None
        self._cleared = False
        return True

    # SessionBase's lazy loaders (``_session`` and friends) are private: untyped in the stubs.
    def _data(self, no_load: bool = False) -> dict[str, Any]:
        base: Any = self
        data: dict[str, Any] = base._get_session(no_load=no_load)
        return data

    async def _adata(self, no_load: bool = False) -> dict[str, Any]:
        base: Any = self
        data: dict[str, Any] = await base._aget_session(no_load=no_load)
        return data

    def save(self, must_create: bool = False) -> None:
        data = self._data(no_load=must_create)
        run(self._save_flow(data, must_create), self._config.store)

    async def asave(self, must_create: bool = False) -> None:
        data = await self._adata(no_load=must_create)
        await self._arun(self._save_flow(data, must_create))

    def create(self) -> None:
        """Open a new session with this object's data and a new id (the old one stays)."""
        data = self._start_new()
        run(self._open_flow(encode_data(data), replaces=None), self._config.store)
        self.modified = True

    async def acreate(self) -> None:
        data = self._start_new()
        await self._arun(self._open_flow(encode_data(data), replaces=None))
        self.modified = True

    def _start_new(self) -> dict[str, Any]:
        data: dict[str, Any] = getattr(self, "_session_cache", {})
        self._session_cache = data
        self._set_id(None)
        self._record = None
        self._stored = {}
        self._gone = False
        return data

    def cycle_key(self) -> None:
        """A new id for the same data (and user); the old id stops working at once."""
        data = self._data()
        run(self._cycle_flow(data), self._config.store)

    async def acycle_key(self) -> None:
        data = await self._adata()
        await self._arun(self._cycle_flow(data))

    def _cycle_flow(self, data: Mapping[str, Any]) -> Flow[None]:
        if self._gone:
            return
        yield from self._open_flow(encode_data(data), replaces=self._sid)
        self.modified = True

    # -- closing -------------------------------------------------------------------------

    def _delete_flow(self, session_key: str | None) -> Flow[None]:
        if session_key is None:
            sid = self._sid
        else:
            verified = self._config.verify(session_key) if session_key else None
            sid = None if verified is None else verified.session_id
        if sid is None:
            return
        yield Delete(sid)
        if sid == self._sid:
            self._record = None
            self._stored = {}

    def delete(self, session_key: str | None = None) -> None:
        """Close the session in the store (``flush()`` and ``auth.logout()`` call this)."""
        run(self._delete_flow(session_key), self._config.store)

    async def adelete(self, session_key: str | None = None) -> None:
        await self._arun(self._delete_flow(session_key))

    def clear(self) -> None:
        super().clear()
        self._cleared = True
        self._pending_user = None

    def flush(self) -> None:
        super().flush()
        self._forget()

    async def aflush(self) -> None:
        await super().aflush()
        self._forget()

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: every store drops expired sessions by itself (Redis expires its
        keys, the memory store reclaims them as it goes), so ``clearsessions`` is a no-op."""

    @classmethod
    async def aclear_expired(cls) -> None:
        """See :meth:`clear_expired`."""
