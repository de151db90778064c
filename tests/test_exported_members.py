"""The public names of ``session_middleware``: ``__all__`` lists exactly them, all importable."""

from __future__ import annotations

import types

import pytest

import session_middleware
import session_middleware.stores

#: The names the documentation promises users (docs/configuration.md).
SPEC_NAMES = {"SessionMiddleware", "WSGISessionMiddleware", "Session", "MemoryStore", "RedisStore"}


def _defined_here(value: object) -> bool:
    return str(getattr(value, "__module__", "")).startswith("session_middleware")


def test_all_is_sorted_and_unique() -> None:
    names = session_middleware.__all__
    assert names == sorted(names) and len(set(names)) == len(names)


def test_every_public_name_is_in_all() -> None:
    public = {
        name
        for name, value in vars(session_middleware).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and _defined_here(value)
    }
    assert public <= set(session_middleware.__all__)
    lazy = set(session_middleware.__all__) - public
    assert lazy == {"RedisStore"}  # imported on first use: it needs the redis extra


@pytest.mark.parametrize("name", session_middleware.__all__)
def test_each_exported_name_is_importable(name: str) -> None:
    value = getattr(session_middleware, name)
    assert _defined_here(value) and value.__name__ == name
    namespace: dict[str, object] = {}
    exec(f"from session_middleware import {name}", namespace)  # noqa: S102
    assert namespace[name] is value


def test_spec_names_are_exported() -> None:
    assert set(session_middleware.__all__) >= SPEC_NAMES


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from session_middleware import *", namespace)  # noqa: S102
    assert set(namespace) - {"__builtins__"} == set(session_middleware.__all__)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        session_middleware.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from session_middleware import NoSuchThing", {})  # noqa: S102


@pytest.mark.parametrize("name", session_middleware.stores.__all__)
def test_store_names_are_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from session_middleware.stores import {name}", namespace)  # noqa: S102
    assert namespace[name] is getattr(session_middleware.stores, name)


def test_the_stores_are_the_same_objects_everywhere() -> None:
    assert session_middleware.MemoryStore is session_middleware.stores.MemoryStore
    assert session_middleware.RedisStore is session_middleware.stores.RedisStore
    assert session_middleware.Store is session_middleware.stores.Store
