"""Reading ``settings.SESSION_MIDDLEWARE`` and Django's own session settings, once per process."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..._client_info import IPNetwork, parse_trusted_proxies
from ..._policy import DEFAULT_IDLE_TIMEOUT, MAX_TIMEOUT, RETRY_AFTER_SECONDS, Policy
from ..._signing import CookieSigner, VerifiedCookie, normalize_secret_keys
from ...stores.base import Store
from ...stores.memory import MemoryStore

__all__ = ["MAX_TIMEOUT", "RETRY_AFTER_SECONDS", "DjangoConfig", "DjangoSessionSettings", "get_config", "reset_config"]

#: Django engines whose sessions can be carried over (``migrate_from``).
MIGRATABLE_ENGINES = frozenset(
    {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.cached_db",
        "django.contrib.sessions.backends.signed_cookies",
        "django.contrib.sessions.backends.file",
    }
)

OPTIONS = (
    "store",
    "idle_timeout",
    "absolute_timeout",
    "touch_interval",
    "max_sessions_per_user",
    "trusted_proxies",
    "migrate_from",
    "api_token",
    "api_authorize",
    "redis_prefix",
)

#: Settings whose change (``override_settings`` in tests) rebuilds the configuration,
#: besides every ``SESSION_*`` setting.
_WATCHED = frozenset({"SECRET_KEY", "SECRET_KEY_FALLBACKS"})


@dataclass(frozen=True, slots=True)
class DjangoSessionSettings:
    """Django's own ``SESSION_*`` settings the middleware reads on every request.

    Read once with the rest of the configuration: an attribute of ``django.conf.settings``
    costs a Python-level ``__getattribute__``, and a read request needs several.
    """

    cookie_name: str
    cookie_path: str
    cookie_domain: str | None
    cookie_secure: bool
    cookie_httponly: bool
    cookie_samesite: Literal["Lax", "Strict", "None", False] | None
    save_every_request: bool

    @classmethod
    def from_settings(cls) -> DjangoSessionSettings:
        return cls(
            cookie_name=settings.SESSION_COOKIE_NAME,
            cookie_path=settings.SESSION_COOKIE_PATH,
            cookie_domain=settings.SESSION_COOKIE_DOMAIN,
            cookie_secure=bool(settings.SESSION_COOKIE_SECURE),
            cookie_httponly=bool(settings.SESSION_COOKIE_HTTPONLY),
            cookie_samesite=settings.SESSION_COOKIE_SAMESITE,
            save_every_request=bool(settings.SESSION_SAVE_EVERY_REQUEST),
        )


@dataclass(frozen=True, slots=True)
class DjangoConfig:
    """The validated configuration every SessionStore, the middleware and the API views share."""

    store: Store
    signer: CookieSigner
    idle_timeout: float
    absolute_timeout: float
    touch_interval: float
    max_sessions_per_user: int | None
    trusted_proxies: tuple[IPNetwork, ...]
    migrate_from: str | None
    api_token: str | Sequence[str] | None
    api_authorize: Callable[..., Any] | None
    django: DjangoSessionSettings
    #: Cookie values that verified, so that the middleware and the engine, which both see
    #: the value, and a browser's repeat requests pay for the HMAC once (bounded, cleared
    #: when full; a value that does not verify is never remembered).
    _verified: dict[str, VerifiedCookie] = field(default_factory=dict, compare=False, repr=False)

    def verify(self, value: str) -> VerifiedCookie | None:
        """The signer's verdict on a cookie value, remembered when it verified."""
        known = self._verified.get(value)
        if known is not None:
            return known
        verified = self.signer.verify(value)
        if verified is not None:
            if len(self._verified) >= VERIFIED_MEMO_SIZE:
                self._verified.clear()
            self._verified[value] = verified
        return verified


#: How many verified cookie values the configuration remembers.
VERIFIED_MEMO_SIZE = 4096

_lock = threading.Lock()
_config: DjangoConfig | None = None
# One process-wide store per kind: rebuilding the configuration (a changed setting) must
# not drop every session of the default memory store or open a new Redis pool each time.
_stores: dict[str, Store] = {}


def get_config() -> DjangoConfig:
    """The configuration, built from the settings on first use."""
    config = _config
    if config is None:
        with _lock:
            config = _config if _config is not None else _set(_build())
    return config


def _set(config: DjangoConfig) -> DjangoConfig:
    global _config
    _config = config
    return config


def reset_config() -> None:
    """Forget the configuration; the next use reads the settings again (stores are kept)."""
    global _config
    with _lock:
        _config = None


@receiver(setting_changed, dispatch_uid="session_middleware.integrations.django.config")
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _WATCHED or setting.startswith("SESSION_"):
        reset_config()


def _options() -> dict[str, Any]:
    options = getattr(settings, "SESSION_MIDDLEWARE", None) or {}
    if not isinstance(options, dict):
        raise ImproperlyConfigured("SESSION_MIDDLEWARE must be a dict of options")
    for name in options:
        if name not in OPTIONS:
            close = difflib.get_close_matches(str(name), OPTIONS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ImproperlyConfigured(f"unknown SESSION_MIDDLEWARE option {name!r}{hint}")
    return options


def _signer() -> CookieSigner:
    """Django's SECRET_KEY signs; SECRET_KEY_FALLBACKS still verify (rotation)."""
    fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []) or [])
    try:
        return CookieSigner(normalize_secret_keys([*fallbacks, settings.SECRET_KEY]))
    except ValueError as exc:
        raise ImproperlyConfigured(f"SECRET_KEY / SECRET_KEY_FALLBACKS: {exc}") from None


def _store(spec: object, prefix: str | None) -> Store:
    if isinstance(spec, Store):
        return spec
    if spec is None or spec == "memory":
        key = "memory"
    elif isinstance(spec, str) and spec.split("://", 1)[0] in ("redis", "rediss", "unix"):
        key = f"{spec} {prefix}"
    else:
        raise ImproperlyConfigured(
            "SESSION_MIDDLEWARE['store'] must be a store (MemoryStore(), RedisStore(...)), a redis:// URL, or 'memory'"
        )
    known = _stores.get(key)
    if known is not None:
        return known
    made: Store
    if key == "memory":
        made = MemoryStore()
    else:
        from ...stores.redis import RedisStore

        assert isinstance(spec, str)
        made = RedisStore(spec, prefix=prefix or "session:")
    _stores[key] = made
    return made


def _authorize(value: object) -> Callable[..., Any] | None:
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        found = import_string(value)
        if callable(found):
            return found  # type: ignore[no-any-return]
    raise ImproperlyConfigured("SESSION_MIDDLEWARE['api_authorize'] must be a callable or its dotted path")


def _proxies(value: object) -> tuple[IPNetwork, ...]:
    try:
        return parse_trusted_proxies(value if isinstance(value, str) else list(value))  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"SESSION_MIDDLEWARE['trusted_proxies']: {exc}") from None


def _build() -> DjangoConfig:
    options = _options()
    try:
        policy = Policy.make(
            idle_timeout=options.get("idle_timeout", DEFAULT_IDLE_TIMEOUT),
            # Django's SESSION_COOKIE_AGE is the lifetime a Django site already promised its users.
            absolute_timeout=options.get("absolute_timeout", settings.SESSION_COOKIE_AGE),
            touch_interval=options.get("touch_interval"),
            max_sessions_per_user=options.get("max_sessions_per_user"),
        )
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"SESSION_MIDDLEWARE: {exc}") from None
    migrate_from = options.get("migrate_from")
    if migrate_from is not None and migrate_from not in MIGRATABLE_ENGINES:
        raise ImproperlyConfigured(
            f"SESSION_MIDDLEWARE['migrate_from'] must be one of {', '.join(sorted(MIGRATABLE_ENGINES))}"
        )
    prefix = options.get("redis_prefix")
    return DjangoConfig(
        store=_store(options.get("store"), prefix),
        signer=_signer(),
        idle_timeout=policy.idle_timeout,
        absolute_timeout=policy.absolute_timeout,
        touch_interval=policy.touch_interval,
        max_sessions_per_user=policy.max_sessions_per_user,
        trusted_proxies=_proxies(options.get("trusted_proxies", ())),
        migrate_from=migrate_from,
        api_token=options.get("api_token"),
        api_authorize=_authorize(options.get("api_authorize")),
        django=DjangoSessionSettings.from_settings(),
    )
