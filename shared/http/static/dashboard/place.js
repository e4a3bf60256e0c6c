// The page of one origin county's or host district's own service: whether it is ready and
// connected to the exchange (its public readiness), its read models (position, lag, halts) with
// their lag over time, and how many members it holds by status. Read only: the ways back after a
// halted read model are in docs/operations.md ("Read models").

const PLACE_REFRESH_MS = 5000;
const modelLag = new Samples(60); // five minutes at one sample every five seconds
// The member statuses each side's list can be filtered by.
const STATUSES = {
  outflow: ["at_home", "departed", "returned", "lost", "suspended", "removed", "transferred"],
  inflow: ["expected", "reported", "received", "left"],
};
let service = null;

async function readiness() {
  // Public, and 503 while not ready: the body says why either way.
  const response = await fetch("/readyz");
  return response.json();
}

async function memberCount(status) {
  const query = status ? `?status=${status}&limit=1` : "?limit=1";
  return (await read(`/api/v1/members${query}`)).total;
}

function drawReadiness(ready) {
  service = ready.service;
  const where = document.getElementById("where");
  where.replaceChildren(
    document.createTextNode(`${label("service", ready.service)} · `), placeCell(ready.place),
  );
  fill("readiness", [[
    { text: label("readiness", ready.status), className: `state state-${ready.status === "ready" ? "running" : "error"}` },
    label("store", ready.store), label("nats", ready.nats), ready.reason || "",
  ]]);
}

async function load() {
  const ready = await readiness();
  drawReadiness(ready);
  const models = (await read("/admin/read-models")).read_models;
  fill("read-models", models.map((m) => [
    label("model", m.name),
    { text: label("state", m.state), className: `state state-${m.state}` },
    m.position, m.head, m.lag, m.handled_since_start,
    m.failure ? `${m.failure.event_type}: ${m.failure.error}` : "",
  ]));
  const at = Date.now();
  for (const m of models) modelLag.add(at, m.name, label("model", m.name), m.lag);
  drawLineChart(document.getElementById("lag-chart"), modelLag, t("place.chart"));
  await drawCounts(STATUSES[ready.service] || []);
}

async function drawCounts(statuses) {
  let totals;
  try {
    totals = await Promise.all([memberCount(null), ...statuses.map(memberCount)]);
  } catch (error) {
    // A sync admin may see the read models but not the members: no counts, nothing to forget.
    if (!(error instanceof AuthError) || claims().role !== "sync_admin") throw error;
    fill("counts", []);
    return;
  }
  fill("counts", [
    [t("count.total"), totals[0]],
    ...statuses.map((status, i) => [label("member", status), totals[i + 1]]),
  ]);
}

function forget() {
  clearTables();
  modelLag.clear();
  drawLineChart(document.getElementById("lag-chart"), modelLag, t("place.chart"));
}

function refresh() { return guarded(load, forget); }

document.addEventListener("DOMContentLoaded", () => {
  readiness().then(drawReadiness).catch(() => {});
  forget();
  startPage({ refresh, forget, everyMs: PLACE_REFRESH_MS });
});
