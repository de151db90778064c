"""Reading a response against the model: the session cookie it sets, the sessions it lists."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from .._signing import CookieSigner
from ..records import SessionRecord
from .app_model import CookieEffect, canonical
from .client import Reply

__all__ = ["assert_same_list", "assert_same_session", "cookie_effect"]


def cookie_effect(
    reply: Reply, cookie_name: str, signer: CookieSigner, what: str
) -> tuple[CookieEffect, str | None, str | None]:
    """What ``reply`` does to the session cookie: ``(effect, cookie value, session id)``.

    Fails unless there is at most one session cookie, it comes with ``Cache-Control:
    no-store`` and ``Vary: Cookie``, and a cookie that is set verifies with ``signer``.
    """
    ours = []
    for header in reply.header_values("set-cookie"):
        first, *attributes = header.split(";")
        name, _, value = first.strip().partition("=")
        if name == cookie_name:
            attrs = {k.strip().lower(): v.strip() for k, _, v in (a.partition("=") for a in attributes)}
            ours.append((value.strip(), attrs))
    if not ours:
        return "none", None, None
    assert len(ours) == 1, f"{what}: {len(ours)} session cookies in one response"
    assert "no-store" in (reply.header("cache-control") or ""), f"{what}: a cookie without Cache-Control: no-store"
    vary = [v.strip().lower() for v in (reply.header("vary") or "").split(",")]
    assert "cookie" in vary or "*" in vary, f"{what}: a cookie without Vary: Cookie"
    value, attrs = ours[0]
    if not value or attrs.get("max-age") == "0":
        return "clear", None, None
    verified = signer.verify(value)
    assert verified is not None, f"{what}: the response set a cookie that does not verify"
    return "set", value, verified.session_id


def assert_same_list(listed: Any, expected: list[SessionRecord], *, gone: Collection[str], with_data: bool) -> None:
    """The REST API's list of a user's sessions equals the model's, in order and in every field.

    :param gone: ids the model knows are closed or expired, named in the failure if listed.
    """
    assert isinstance(listed, list), f"the API listed {listed!r}"
    ids = [item.get("id") for item in listed]
    wanted = [record.id for record in expected]
    back = [sid[:8] for sid in ids if sid in gone]
    assert ids == wanted, f"the API lists {len(ids)} session(s), the model {len(wanted)}" + (
        f"; closed or expired ones came back: {back}" if back else ""
    )
    for item, record in zip(listed, expected, strict=True):
        assert_same_session(item, record, with_data=with_data)


def assert_same_session(item: Mapping[str, Any], record: SessionRecord, *, with_data: bool) -> None:
    """One Session object of the REST API equals the model's record (times to the millisecond)."""
    short = record.id[:8]
    assert item.get("id") == record.id
    for name in ("address", "client"):
        assert item.get(name) == getattr(record, name), f"session {short}…: {name} {item.get(name)!r}"
    assert item.get("user") == (None if record.user is None else dict(record.user)), f"session {short}…: user"
    for name in ("opened", "last_request"):
        when = datetime.fromisoformat(str(item.get(name))).timestamp()
        assert math.isclose(when, getattr(record, name), abs_tol=1e-3), (
            f"session {short}…: {name} is {item.get(name)}, expected {getattr(record, name)}"
        )
    if with_data:
        shown, data = item.get("data"), record.decoded_data()
        assert canonical(shown) == canonical(data), f"session {short}…: the API shows data {shown!r}, not {data!r}"
    else:
        assert item.get("data") is None, f"session {short}…: data shown to a non-admin"
