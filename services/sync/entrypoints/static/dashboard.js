// The operators' dashboard: reads the admin endpoints with the token typed in (kept for this tab
// only) and redraws every two seconds. Values are written with textContent, never as HTML.
"use strict";

const ENDPOINTS = {
  links: "/admin/links",
  deadLetters: "/admin/dead-letters/summary",
  reconciliation: "/admin/reconciliation",
};
const REFRESH_MS = 2000;

function token() { return sessionStorage.getItem("liangdi-token") || ""; }

async function read(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : response.statusText);
  }
  return body;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      const value = cell && typeof cell === "object" ? cell.value : cell;
      td.textContent = value === null || value === undefined ? "" : String(value);
      if (typeof value === "number") td.className = "num";
      if (cell && typeof cell === "object" && cell.className) td.className = cell.className;
      tr.append(td);
    }
    return tr;
  }));
}

function counts(object) {
  return Object.entries(object || {}).map(([key, value]) => [key, value]);
}

async function refresh() {
  const status = document.getElementById("status");
  if (!token()) return;
  try {
    const [links, dead, reconciliation] = await Promise.all([
      read(ENDPOINTS.links), read(ENDPOINTS.deadLetters), read(ENDPOINTS.reconciliation),
    ]);
    fill("links", links.links.map((l) => [
      l.direction, l.from_place, l.to_place, { value: l.state, className: `state-${l.state}` },
      l.published, l.applied, l.duplicates, l.dead_lettered, l.parked, l.lag_messages,
      l.lag_seconds, l.throughput_per_second, l.last_error, l.in_stream, l.replay_gap,
      l.state_reason,
    ]));
    fill("dead-letters", dead.links.map((d) => [
      `${d.direction} ${d.from_place}→${d.to_place}`, d.open, d.oldest_age_seconds,
    ]));
    fill("assessments", counts(reconciliation.assessments.by_state));
    fill("mismatches", counts(reconciliation.mismatches.by_kind));
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    status.className = "";
  } catch (error) {
    status.textContent = `Cannot read the exchange: ${error.message}`;
    status.className = "error";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("liangdi-token", document.getElementById("token").value.trim());
    refresh();
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
});
