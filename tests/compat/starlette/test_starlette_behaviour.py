"""What Starlette's own session tests check, against an app where only the import changed."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import Secret
from starlette.routing import Mount

from .support import FOURTEEN_DAYS, SECRET, ClientFactory, session_app, set_cookies, the_set_cookie


def test_data_round_trips_and_clearing_empties_it(client_factory: ClientFactory) -> None:
    client = client_factory(session_app())
    assert client.get("/view_session").json() == {"session": {}}

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    cookie = the_set_cookie(response)
    assert cookie.get("max-age") == str(FOURTEEN_DAYS)  # Starlette's default max_age
    assert cookie.get("path") == "/" and cookie.has("httponly") and cookie.samesite == "lax"
    assert "some" not in cookie.value and "data" not in cookie.value  # an id, not the data

    assert client.get("/view_session").json() == {"session": {"some": "data"}}
    response = client.post("/clear_session")
    assert response.json() == {"session": {}}
    assert the_set_cookie(response).clears
    assert client.get("/view_session").json() == {"session": {}}


def test_a_cleared_session_stays_cleared_even_if_the_old_cookie_comes_back(client_factory: ClientFactory) -> None:
    app = session_app()
    client = client_factory(app)
    value = the_set_cookie(client.post("/update_session", json={"some": "data"})).value
    client.post("/clear_session")
    replay = client_factory(app, cookies={"session": value})
    assert replay.get("/view_session").json() == {"session": {}}


def test_updates_accumulate_over_requests(client_factory: ClientFactory) -> None:
    client = client_factory(session_app())
    client.post("/update_session", json={"a": 1})
    client.post("/update_session", json={"b": [1, 2], "a": 3})
    assert client.get("/view_session").json() == {"session": {"a": 3, "b": [1, 2]}}


def test_a_negative_max_age_expires_the_session(client_factory: ClientFactory) -> None:
    app = session_app(max_age=-1)
    response = client_factory(app).post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    cookie = the_set_cookie(response)
    assert cookie.clears  # the browser drops it at once
    # A client that sends it anyway finds no session.
    replay = client_factory(app, cookies={"session": cookie.value})
    assert replay.get("/view_session").json() == {"session": {}}


def test_a_zero_max_age_reads_as_no_session(client_factory: ClientFactory) -> None:
    app = session_app(max_age=0)
    client = client_factory(app)
    cookie = the_set_cookie(client.post("/update_session", json={"some": "data"}))
    replay = client_factory(app, cookies={"session": cookie.value})
    assert replay.get("/view_session").json() == {"session": {}}


def test_https_only_cookies_are_secure_and_stay_off_plain_http(client_factory: ClientFactory) -> None:
    app = session_app(https_only=True)
    secure_client = client_factory(app, base_url="https://testserver")
    plain_client = client_factory(app, base_url="http://testserver")

    assert plain_client.get("/view_session").json() == {"session": {}}
    response = plain_client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    assert the_set_cookie(response).has("secure")  # Secure even over http, as Starlette
    assert plain_client.get("/view_session").json() == {"session": {}}  # never sent back over http

    assert secure_client.get("/view_session").json() == {"session": {}}
    response = secure_client.post("/update_session", json={"some": "data"})
    assert the_set_cookie(response).has("secure")
    assert secure_client.get("/view_session").json() == {"session": {"some": "data"}}
    assert secure_client.post("/clear_session").json() == {"session": {}}
    assert secure_client.get("/view_session").json() == {"session": {}}


def test_https_only_false_never_marks_the_cookie_secure(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(https_only=False), base_url="https://testserver")
    assert not the_set_cookie(client.post("/update_session", json={"a": 1})).has("secure")
    assert client.get("/view_session").json() == {"session": {"a": 1}}


def test_a_cookie_path_scopes_a_mounted_app(client_factory: ClientFactory) -> None:
    second_app = session_app(path="/second_app")
    app = Starlette(routes=[Mount("/second_app", app=second_app)])
    client = client_factory(app, base_url="http://testserver/second_app")
    response = client.post("/update_session", json={"some": "data"})
    assert response.status_code == 200
    assert the_set_cookie(response).get("path") == "/second_app"
    assert client.get("/view_session").json() == {"session": {"some": "data"}}


def test_an_invalid_cookie_is_an_empty_session_not_an_error(client_factory: ClientFactory) -> None:
    app = session_app()
    assert client_factory(app).post("/update_session", json={"some": "data"}).status_code == 200
    for bogus in ["invalid", "", "null", "a" * 5000, "eyJzb21lIjogImRhdGEifQ==.aaaaaa.bbbbbb"]:
        client = client_factory(app, cookies={"session": bogus})
        response = client.get("/view_session")
        assert response.status_code == 200
        assert response.json() == {"session": {}}


def test_a_tampered_cookie_is_an_empty_session(client_factory: ClientFactory) -> None:
    app = session_app()
    value = the_set_cookie(client_factory(app).post("/update_session", json={"some": "data"})).value
    flipped = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert client_factory(app, cookies={"session": flipped}).get("/view_session").json() == {"session": {}}
    other_key = the_set_cookie(
        client_factory(session_app(secret_key="another")).post("/update_session", json={"some": "data"})
    ).value
    assert client_factory(app, cookies={"session": other_key}).get("/view_session").json() == {"session": {}}


def test_max_age_none_is_a_browser_session_cookie(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(max_age=None))
    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    cookie = the_set_cookie(response)
    assert not cookie.has("max-age") and not cookie.has("expires")
    assert client.get("/view_session").json() == {"session": {"some": "data"}}
    client.cookies.delete("session")  # the browser closed
    assert client.get("/view_session").json() == {"session": {}}


def test_the_cookie_name_is_session_cookie(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(session_cookie="app_session"))
    response = client.post("/update_session", json={"some": "data"})
    assert set_cookies(response, "session") == []
    assert the_set_cookie(response, "app_session").value
    assert client.get("/view_session").json() == {"session": {"some": "data"}}
    assert the_set_cookie(client.post("/clear_session"), "app_session").clears


def test_the_domain_is_set_on_the_cookie(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(domain=".example.com"))
    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    assert the_set_cookie(response).get("domain") in (".example.com", "example.com")
    client.cookies.delete("session")
    assert client.get("/view_session").json() == {"session": {}}


def test_same_site_is_set_on_the_cookie(client_factory: ClientFactory) -> None:
    for same_site in ("strict", "lax"):
        response = client_factory(session_app(same_site=same_site)).post("/update_session", json={"a": 1})
        assert the_set_cookie(response).samesite == same_site
    # SameSite=None: browsers accept it only Secure, as https_only makes it.
    response = client_factory(session_app(same_site="none", https_only=True)).post("/update_session", json={"a": 1})
    cookie = the_set_cookie(response)
    assert cookie.samesite == "none" and cookie.has("secure")


def test_partitioned_is_set_on_the_cookie(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(partitioned=True), base_url="https://testserver")
    cookie = the_set_cookie(client.post("/update_session", json={"some": "data"}))
    assert cookie.has("partitioned") and cookie.has("secure")
    assert client.get("/view_session").json() == {"session": {"some": "data"}}


def test_the_secret_may_be_positional_or_a_starlette_secret(client_factory: ClientFactory) -> None:
    for app in (session_app(SECRET), session_app(Secret(SECRET)), session_app(secret_key=Secret(SECRET))):
        client = client_factory(app)
        client.post("/update_session", json={"some": "data"})
        assert client.get("/view_session").json() == {"session": {"some": "data"}}
