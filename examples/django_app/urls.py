"""The example's pages: a visit counter, sign in and out, the devices of the signed-in user."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home),
    path("login", views.login),
    path("logout", views.logout),
    path("devices", views.devices),
    path("devices/sign-out-others", views.sign_out_others),
    path("sessions", include("session_middleware.integrations.django.urls")),
]
