"""Django: a read of one session key, in-process, ours against Django's ``cache`` engine.

``python -m benchmarks.django_read`` builds three WSGI handlers of one Django project that
differ only in their session layer: none (the floor), Django's ``SessionMiddleware`` with
the ``cache`` engine on ``LocMemCache`` (the fastest engine Django ships that keeps sessions
on the server), and this package's engine and middleware on the memory store. Each
repetition times them interleaved, request by request, so a slow moment of the machine
hits every cell alike; the table reports medians of the per-repetition medians and the
paired ratio of the overheads (a cell's median minus the floor's in the same repetition).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from .drive import consume, cookie_from, fresh_environ, start_response_noop, wsgi_environ, wsgi_request
from .stats import Summary, median_ns, overheads, paired_ratios

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]

COMMON = ["django.middleware.common.CommonMiddleware"]
STACKS = {
    "floor": COMMON,
    "django-cache": ["django.contrib.sessions.middleware.SessionMiddleware", *COMMON],
    "ours": ["session_middleware.integrations.django.SessionMiddleware", *COMMON],
}
ENGINES = {
    "floor": "django.contrib.sessions.backends.cache",
    "django-cache": "django.contrib.sessions.backends.cache",
    "ours": "session_middleware.integrations.django",
}


def _configure() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="benchmark-secret-key-0123456789-abcdefghijklmnop",
            ALLOWED_HOSTS=["bench.local"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=["django.contrib.sessions"],
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            SESSION_MIDDLEWARE={"store": "memory"},
            MIDDLEWARE=[],
            USE_TZ=True,
        )
        django.setup()


def _views() -> list[Any]:
    from django.http import HttpRequest, HttpResponse
    from django.urls import path

    def write(request: HttpRequest) -> HttpResponse:
        request.session["k"] = 1
        return HttpResponse(b"ok")

    def read(request: HttpRequest) -> HttpResponse:
        return HttpResponse(json.dumps(request.session.get("k")).encode())

    def untouched(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"ok")

    return [path("w", write), path("b", read), path("a", untouched)]


urlpatterns: list[Any] = []


def _handler(name: str) -> WSGIApp:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=STACKS[name], SESSION_ENGINE=ENGINES[name]):
        return WSGIHandler()  # the middleware chain and its session engine are read here


def _cell_environ(app: WSGIApp, name: str) -> dict[str, Any]:
    if name == "floor":
        return wsgi_environ("/a", None)  # no session layer to read from: the same request, untouched
    cookie = cookie_from(wsgi_request(app, "/w", None), "sessionid")
    template = wsgi_environ("/b", cookie)
    assert json.loads(wsgi_request(app, "/b", cookie).body) == 1, f"{name}: the session did not read back"
    return template


def run(repetitions: int, requests: int, warmup: int) -> dict[str, Summary]:
    """The overheads (µs) of ours and Django's cache engine, and their paired ratio."""
    _configure()
    urlpatterns[:] = _views()
    apps = {name: _handler(name) for name in STACKS}
    templates = {name: _cell_environ(app, name) for name, app in apps.items()}
    medians: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(repetitions):
        samples: dict[str, list[int]] = {name: [] for name in apps}
        for _ in range(warmup):
            for name, app in apps.items():
                consume(app(fresh_environ(templates[name]), start_response_noop))
        gc.disable()
        try:
            for _ in range(requests):
                for name, app in apps.items():
                    environ = fresh_environ(templates[name])
                    start = time.perf_counter_ns()
                    consume(app(environ, start_response_noop))
                    samples[name].append(time.perf_counter_ns() - start)
        finally:
            gc.enable()
        for name in apps:
            medians[name].append(median_ns(samples[name]))
    ours = overheads(medians["ours"], medians["floor"])
    peer = overheads(medians["django-cache"], medians["floor"])
    return {
        "floor": Summary.of(medians["floor"]),
        "ours": Summary.of(ours),
        "django-cache": Summary.of(peer),
        "ratio": Summary.of(paired_ratios(ours, peer)),
    }


def table(result: dict[str, Summary]) -> str:
    return "\n".join(
        [
            "| Django, read one key (cookie sent) | µs per request |",
            "| --- | --- |",
            f"| Django without sessions (floor) | {result['floor'].fmt(1)} |",
            f"| Django `cache` engine on LocMemCache: overhead | +{result['django-cache'].fmt(1)} |",
            f"| ours, memory store: overhead | +{result['ours'].fmt(1)} |",
            f"| ours / Django `cache`, paired | {result['ratio'].fmt(2, 'x')} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.django_read", description=__doc__)
    parser.add_argument("--repetitions", type=int, default=11)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    print(table(run(args.repetitions, args.requests, args.warmup)))


if __name__ == "__main__":
    main()
