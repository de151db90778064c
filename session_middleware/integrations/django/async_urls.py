"""URLconf of the ``/sessions`` REST API on the store's async methods (ASGI deployments)."""

from __future__ import annotations

from django.urls import re_path

from .views import asessions_api

app_name = "sessions_api"
urlpatterns = [re_path(r"^(?P<rest>.*)$", asessions_api, name="sessions")]
