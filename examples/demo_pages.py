"""The demo's HTML: plain server-rendered pages (every value escaped), styled by static/demo.css."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from session_middleware import Session
from session_middleware.events import SessionEvent

#: How the activity list words each event.
_WHAT = {
    ("logged_in", None): "Signed in",
    ("closed", "logout"): "Signed out",
    ("closed", "revoked"): "Signed out from another device",
    ("closed", "evicted"): "Signed out: too many devices",
}


def _time(moment: datetime) -> str:
    return f'<time datetime="{moment.isoformat()}">{moment:%Y-%m-%d %H:%M:%S} UTC</time>'


def layout(session: Session, title: str, body: str, *, active: str, script: str = "") -> str:
    """A full page: header with navigation and the signed-in user, then ``body``."""
    user = session.user
    links = [("/", "This session"), ("/playground", "Playground"), ("/devices", "Your devices")]
    nav = "".join(
        f'<a href="{href}"{" aria-current=page" if href == active else ""}>{label}</a>' for href, label in links
    )
    if user is None:
        who = '<span class="who">Not signed in</span>'
    else:
        who = (
            f'<span class="who">Signed in as <b data-testid="user">{escape(user.get("name") or user["id"])}</b></span>'
            '<form method="post" action="/logout"><button class="link">Sign out</button></form>'
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · session-middleware demo</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/demo.css"></head>
<body><header><strong class="brand">session-middleware</strong><nav>{nav}</nav><div class="account">{who}</div></header>
<main><h1>{escape(title)}</h1>{body}</main>{script}</body></html>"""


def sign_in_form() -> str:
    return """<section class="card"><h2>Sign in</h2>
<p class="muted">Any name will do: this demo has no passwords. Sign in with the same name from a
second browser (or a private window) to see two devices.</p>
<form method="post" action="/login" class="row"><input name="name" placeholder="Your name" required maxlength="64"
 autocomplete="off" aria-label="Your name"><button>Sign in</button></form></section>"""


def home_page(session: Session, *, notice: str | None = None) -> str:
    stored = "new: nothing stored, no cookie sent yet" if session.is_new else "stored on the server"
    user = session.user
    rows = [
        ("Status", escape(stored)),
        ("User", escape(f"{user.get('name')} (id {user['id']})") if user else "anonymous"),
        ("Opened", _time(session.opened)),
        ("Last request", _time(session.last_request)),
        ("Address", escape(session.address) or "unknown"),
        ("Client", escape(session.client) or "unknown"),
        ("Data keys", escape(", ".join(session) or "none")),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    body = f'<p class="notice">{escape(notice)}</p>' if notice else ""
    if user is None:
        body += sign_in_form()
    body += f"""<section class="card"><table class="facts" data-testid="session">{table}</table>
<p class="muted">The cookie holds only a signed, random id; everything above lives on the server. Each request
refreshes <i>last request</i>; a session idle for a day, or two weeks old, is gone.</p></section>"""
    return layout(session, "This session", body, active="/")


def playground_page(session: Session, todos: list[dict[str, Any]], *, error: str | None = None) -> str:
    items = "".join(
        f"""<li class="{"done" if item.get("done") else ""}"><form method="post" action="/todos">
<input type="hidden" name="index" value="{i}"><button name="action" value="toggle" class="check"
 aria-label="toggle">{"&#10003;" if item.get("done") else "&nbsp;"}</button></form><span>{escape(item["text"])}</span>
<form method="post" action="/todos"><input type="hidden" name="index" value="{i}">
<button name="action" value="remove" class="link">remove</button></form></li>"""
        for i, item in enumerate(todos)
    )
    data = json.dumps(dict(session), indent=2, ensure_ascii=False)
    body = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body += f"""<section class="card"><h2>To-do list</h2><p class="muted">Kept in the session as a list of objects;
changing one item is a nested mutation, saved without any call from the handler.</p>
<ul class="todos" data-testid="todos">{items or '<li class="muted">Nothing to do.</li>'}</ul>
<form method="post" action="/todos" class="row"><input name="text" placeholder="Something to do" required
 maxlength="200" aria-label="New to-do"><button name="action" value="add">Add</button>
<button name="action" value="clear-done" class="secondary" formnovalidate>Clear done</button></form></section>
<section class="card"><h2>Nested data</h2><p class="muted">Any JSON value under any key: objects, lists, numbers,
text. Anything that is not JSON is refused.</p>
<form method="post" action="/data" class="grid"><input name="key" placeholder="key" required maxlength="40"
 aria-label="Key"><textarea name="value" rows="3" placeholder='{{"theme": "dark", "tags": ["a", "b"]}}'
 aria-label="JSON value"></textarea><div class="row"><button name="action" value="set">Set</button>
<button name="action" value="delete" class="secondary">Delete key</button></div></form>
<h3>Everything in this session</h3><pre data-testid="data">{escape(data)}</pre></section>"""
    return layout(session, "Playground", body, active="/playground")


def activity_card(activity: Sequence[SessionEvent]) -> str:
    """The user's recent sign-ins and sign-outs, as the middleware's ``on_event`` hook saw them."""
    rows = "".join(
        f"<tr><td>{_time(event.at)}</td><td>{escape(_WHAT.get((event.kind, event.reason), event.kind))}</td>"
        f'<td><small title="{escape(event.client)}">{escape(event.client) or "unknown"}</small></td>'
        f"<td>{escape(event.address) or 'unknown'}</td></tr>"
        for event in activity
    )
    empty = '<tr><td colspan="4" class="muted">Nothing yet.</td></tr>'
    return f"""<section class="card"><h2>Recent activity</h2>
<p class="muted">Sign-ins and sign-outs of your account, newest first, reported by the middleware to the app's
<code>on_event</code> hook.</p>
<table class="activity"><thead><tr><th>When</th><th>What</th><th>Device</th><th>Address</th></tr></thead>
<tbody data-testid="activity">{rows or empty}</tbody></table></section>"""


def devices_page(session: Session, *, api_path: str, activity: Sequence[SessionEvent] = ()) -> str:
    if session.user_id is None:
        return layout(session, "Your devices", sign_in_form(), active="/devices")
    # The session id is the REST API's public handle (useless without the server's key);
    # the page needs it to tell this device from the others.
    body = f"""<section class="card" id="devices" data-api="{escape(api_path)}"
 data-user="{escape(session.user_id)}" data-current="{escape(session.id)}">
<p class="muted">Every browser where you are signed in, listed by <code>GET {escape(api_path)}/{{user_id}}</code>.
Signing a device out closes its session on the server; its next request is anonymous.</p>
<table class="devices"><thead><tr><th>Device</th><th>Address</th><th>Signed in</th><th>Last active</th><th></th>
</tr></thead><tbody data-testid="device-list"><tr><td colspan="5" class="muted">Loading…</td></tr></tbody></table>
<p class="error" role="alert" hidden></p>
<div class="row"><button id="sign-out-others" class="danger">Sign out everywhere else</button></div></section>
{activity_card(activity)}"""
    return layout(
        session, "Your devices", body, active="/devices", script='<script src="/static/devices.js" defer></script>'
    )
