"""Views the integration tests drive through Django's test clients."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sessions", include("session_middleware.integrations.django.urls")),
    path("asessions", include("session_middleware.integrations.django.async_urls", namespace="async_sessions_api")),
    path("set/<str:key>/<str:value>", views.set_value),
    path("aset/<str:key>/<str:value>", views.aset_value),
    path("get/<str:key>", views.get_value),
    path("aget/<str:key>", views.aget_value),
    path("get-varying/<str:key>", views.get_value_varying),
    path("dump", views.dump),
    path("plain", views.plain),
    path("login/<str:username>", views.login_view),
    path("alogin/<str:username>", views.alogin_view),
    path("logout", views.logout_view),
    path("alogout", views.alogout_view),
    path("whoami", views.whoami),
    path("password/<str:password>", views.change_password),
    path("apassword/<str:password>", views.achange_password),
    path("expiry/<int:seconds>", views.set_expiry),
    path("fail", views.fail),
    path("append/<str:value>", views.append),
    path("close-then-write", views.close_then_write),
    path("address", views.address),
    path("message/<str:text>", views.add_message),
    path("messages", views.read_messages),
    path("barrier-set/<str:key>/<str:value>", views.barrier_set),
]
