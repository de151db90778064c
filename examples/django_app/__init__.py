"""A small Django site on server-side sessions: sign in, see your devices, sign the others out.

Run it (a development server on the memory store)::

    python examples/django_app/manage.py migrate
    python examples/django_app/manage.py runserver

``REDIS_URL=redis://127.0.0.1:6379/0`` keeps the sessions in Redis instead. The REST API
is at ``/sessions``; ``/devices`` lists the signed-in user's sessions. The ``POST`` views
are CSRF-protected as usual: ``GET /`` sets the ``csrftoken`` cookie, whose value goes in
an ``X-CSRFToken`` header.
"""
