"""The ``/sessions`` REST API in Django's URLconf: the package's access rules with
Django's users, through the sync views (WSGI) and the async views (ASGI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test.utils import override_settings

from session_middleware.stores.base import Store

from .clients import Browser

NewBrowser = Callable[..., Browser]
TOKEN = "an-api-token-for-the-tests"


@pytest.fixture
def api(kind: str) -> str:
    """Where the API is mounted: the sync views for WSGI, the async ones for ASGI."""
    return "/sessions" if kind == "wsgi" else "/asessions"


def signed_in(new_browser: NewBrowser, username: str, agent: str = "Browser") -> tuple[Browser, User]:
    browser = new_browser(headers={"user-agent": agent})
    browser.get(f"/login/{username}")
    return browser, User.objects.get(username=username)


def sid(browser: Browser) -> str:
    value = browser.cookie()
    assert value is not None
    return value.rpartition(".")[0]


def test_a_user_lists_their_own_sessions_without_data(store: Store, new_browser: NewBrowser, api: str) -> None:
    phone, user = signed_in(new_browser, "dora", "Phone")
    laptop, _ = signed_in(new_browser, "dora", "Laptop")
    laptop.get("/set/secret/42")
    response = phone.get(f"{api}/{user.pk}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    listed = response.json()
    assert {s["id"] for s in listed} == {sid(phone), sid(laptop)}
    assert {s["client"] for s in listed} == {"Phone", "Laptop"}
    assert all(s.get("data") is None for s in listed)
    one = phone.get(f"{api}/{user.pk}?session_id={sid(laptop)}")
    assert one.status_code == 200 and one.json()["id"] == sid(laptop)


def test_a_user_signs_out_another_device(store: Store, new_browser: NewBrowser, api: str) -> None:
    phone, user = signed_in(new_browser, "erin")
    laptop, _ = signed_in(new_browser, "erin")
    response = phone.delete(f"{api}/{user.pk}?session_id={sid(laptop)}")
    assert response.status_code == 204
    assert laptop.get("/whoami").json() == {"user": None}
    assert phone.get("/whoami").json() == {"user": "erin"}
    assert [s["id"] for s in phone.get(f"{api}/{user.pk}").json()] == [sid(phone)]


def test_a_user_may_not_touch_other_users_or_open_or_write(store: Store, new_browser: NewBrowser, api: str) -> None:
    mine, me = signed_in(new_browser, "frank")
    theirs, them = signed_in(new_browser, "gina")
    assert mine.get(f"{api}/{them.pk}").status_code == 403
    assert mine.delete(f"{api}/{them.pk}?session_id={sid(theirs)}").status_code == 403
    assert theirs.get("/whoami").json() == {"user": "gina"}
    body = {"user": {"id": str(me.pk)}, "address": "1.2.3.4", "client": "x", "data": {}}
    opened = mine.post(api, data=json.dumps(body), content_type="application/json")
    assert opened.status_code == 403
    written = mine.post(
        f"{api}/{me.pk}?session_id={sid(mine)}", data=json.dumps({"data": {}}), content_type="application/json"
    )
    assert written.status_code == 403
    assert written.json()["code"] == "FORBIDDEN"


def test_anonymous_callers_get_401(store: Store, new_browser: NewBrowser, api: str) -> None:
    response = new_browser().get(f"{api}/1")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}, {"origin": "null"}],
)
def test_cross_site_requests_are_refused(
    store: Store, new_browser: NewBrowser, api: str, headers: dict[str, str]
) -> None:
    phone, user = signed_in(new_browser, "hank")
    laptop, _ = signed_in(new_browser, "hank")
    response = phone.delete(f"{api}/{user.pk}?session_id={sid(laptop)}", headers=headers)
    assert response.status_code == 403
    assert laptop.get("/whoami").json() == {"user": "hank"}
    same_site = phone.get(f"{api}/{user.pk}", headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"})
    assert same_site.status_code == 200


def test_csrf_protection_does_not_block_the_api(store: Store, new_browser: NewBrowser, api: str) -> None:
    phone, user = signed_in(new_browser, "ivy")
    laptop, _ = signed_in(new_browser, "ivy")
    strict = new_browser(enforce_csrf_checks=True)
    strict.set_cookie(phone.cookie() or "")
    response = strict.delete(f"{api}/{user.pk}?session_id={sid(laptop)}", headers={"origin": "http://testserver"})
    assert response.status_code == 204


def test_staff_get_everything_data_included(store: Store, new_browser: NewBrowser, api: str) -> None:
    worker, user = signed_in(new_browser, "jack")
    worker.get("/set/cart/3")
    admin, admin_user = signed_in(new_browser, "kate")
    admin_user.is_staff = True
    admin_user.save()
    listed = admin.get(f"{api}/{user.pk}")
    assert listed.status_code == 200
    [data] = [s["data"] for s in listed.json()]
    assert data["cart"] == "3" and data["_auth_user_id"] == str(user.pk)
    assert admin.delete(f"{api}/{user.pk}?session_id={sid(worker)}").status_code == 204
    assert worker.get("/whoami").json() == {"user": None}


def test_api_authorize_decides_from_the_django_request(store: Store, new_browser: NewBrowser, api: str) -> None:
    worker, user = signed_in(new_browser, "liam")
    calls: list[Any] = []

    def authorize(request: Any) -> bool:
        calls.append(request)
        return bool(request.headers.get("x-role") == "ops")

    with override_settings(SESSION_MIDDLEWARE={"store": store, "api_authorize": authorize}):
        outsider = new_browser()
        assert outsider.get(f"{api}/{user.pk}").status_code == 401
        assert outsider.get(f"{api}/{user.pk}", headers={"x-role": "ops"}).status_code == 200
    assert calls and all(hasattr(c, "META") for c in calls)  # Django's own request


def test_a_bearer_token_gives_everything(store: Store, new_browser: NewBrowser, api: str) -> None:
    with override_settings(SESSION_MIDDLEWARE={"store": store, "api_token": TOKEN}):
        service = new_browser(headers={"authorization": f"Bearer {TOKEN}"})
        body = {"user": {"id": "svc-user", "name": "S"}, "address": "10.0.0.1", "client": "cli", "data": {"a": 1}}
        opened = service.post(api, data=json.dumps(body), content_type="application/json")
        assert opened.status_code == 201
        assert opened.json()["user"] == {"id": "svc-user", "name": "S"}
        assert [s["data"] for s in service.get(f"{api}/svc-user").json()] == [{"a": 1}]
        wrong = new_browser(headers={"authorization": "Bearer nope"})
        assert wrong.get(f"{api}/svc-user").status_code == 401
    assert len(store.list_by_user("svc-user")) == 1


def test_the_mount_answers_its_own_paths_only(store: Store, new_browser: NewBrowser, kind: str) -> None:
    with override_settings(SESSION_MIDDLEWARE={"store": store, "api_token": TOKEN}):
        service = new_browser(headers={"authorization": f"Bearer {TOKEN}"})
        mount = "/sessions" if kind == "wsgi" else "/asessions"
        assert service.get(f"{mount}/nobody").json() == []
        assert service.get(f"{mount}nobody").status_code == 404
        assert service.get(mount).status_code == 405


def test_a_body_over_the_limit_is_413(store: Store, new_browser: NewBrowser, api: str) -> None:
    with override_settings(SESSION_MIDDLEWARE={"store": store, "api_token": TOKEN}):
        service = new_browser(headers={"authorization": f"Bearer {TOKEN}"})
        response = service.post(api, data=b"x" * (1024 * 1024 + 1), content_type="application/json")
        assert response.status_code == 413
        assert response.json()["code"] == "BODY_TOO_LARGE"
