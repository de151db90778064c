"""URLconf of the ``/sessions`` REST API, answered with the store's sync methods.

::

    urlpatterns = [path("sessions", include("session_middleware.integrations.django.urls"))]

Under ASGI include ``session_middleware.integrations.django.async_urls`` instead: the
same API on the store's async methods, without a thread per request.
"""

from __future__ import annotations

from django.urls import re_path

from .views import sessions_api

app_name = "sessions_api"
urlpatterns = [re_path(r"^(?P<rest>.*)$", sessions_api, name="sessions")]
