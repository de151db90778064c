// "Your devices": lists this user's sessions through the REST API and signs devices out.
// The browser's own session cookie authorises these calls for its own user; fetch()
// sends an Origin header with DELETE, which the API checks against cross-site requests.
"use strict";

const card = document.getElementById("devices");
const list = card.querySelector("tbody");
const errorBox = card.querySelector(".error");
const othersButton = document.getElementById("sign-out-others");
const userUrl = `${card.dataset.api}/${encodeURIComponent(card.dataset.user)}`;
const current = card.dataset.current;

function describe(agent) {
  // A short, human name for a User-Agent string; the full string is shown below it.
  const browser = [["Edg/", "Edge"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"], ["Safari/", "Safari"],
    ["curl/", "curl"], ["python-httpx/", "httpx"]].find(([token]) => agent.includes(token));
  const system = [["Android", "Android"], ["iPhone", "iPhone"], ["iPad", "iPad"], ["Windows", "Windows"],
    ["Mac OS X", "macOS"], ["Linux", "Linux"]].find(([token]) => agent.includes(token));
  const name = browser ? browser[1] : "Unknown client";
  return system ? `${name} on ${system[1]}` : name;
}

function ago(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function cell(row, label, text, title) {
  const td = row.insertCell();
  td.dataset.label = label; // shown on narrow screens, where the table header is hidden
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

async function call(url, options) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, ...options });
  if (response.status === 401 || response.status === 403) {
    // Our own session is gone (signed out from another device): start over.
    window.location.assign("/?signed_out=1");
    return null;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.message || `The sessions API answered ${response.status}.`);
  }
  return response;
}

function render(sessions) {
  list.replaceChildren();
  for (const session of sessions) {
    const row = list.insertRow();
    row.dataset.sessionId = session.id;
    const device = cell(row, "Device", describe(session.client || ""));
    if (session.id === current) {
      row.classList.add("current");
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "this device";
      device.append(badge);
    }
    const agent = document.createElement("small");
    agent.textContent = session.client || "no User-Agent";
    agent.title = session.client || "";
    device.append(agent);
    cell(row, "Address", session.address || "unknown");
    cell(row, "Signed in", ago(session.opened), session.opened);
    cell(row, "Last active", ago(session.last_request), session.last_request);
    const actions = row.insertCell();
    if (session.id !== current) {
      const button = document.createElement("button");
      button.className = "secondary";
      button.textContent = "Sign out";
      button.addEventListener("click", () => signOut([session.id]));
      actions.append(button);
    }
  }
  othersButton.disabled = !sessions.some((s) => s.id !== current);
}

async function load() {
  try {
    const response = await call(userUrl);
    if (response) render(await response.json());
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

async function signOut(ids) {
  try {
    for (const id of ids) {
      await call(`${userUrl}?session_id=${encodeURIComponent(id)}`, { method: "DELETE" });
    }
  } catch (error) {
    showError(error.message);
  }
  await load();
}

othersButton.addEventListener("click", () => {
  const others = [...list.rows].map((row) => row.dataset.sessionId).filter((id) => id && id !== current);
  signOut(others);
});

load();
