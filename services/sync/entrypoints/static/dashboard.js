// The exchange's dashboard: links, charts of throughput and lag, dead letters, receivers,
// anti-entropy and reconciliation. It reads the admin API every two seconds with the operator's
// token; every button calls the admin API and shows its answer (docs/operations.md, "Dashboard").

const REFRESH_MS = 2000;
const KEEP_SAMPLES = 150; // five minutes at one sample every two seconds
const throughput = new Samples(KEEP_SAMPLES);
const lag = new Samples(KEEP_SAMPLES);
// What each table was last drawn from: a table with text fields is redrawn only when its data
// changes, so that a reason being typed is not wiped by the next refresh.
const drawn = new Map();

const linkPath = (l) => `${l.direction}/${l.from_place}/${l.to_place}`;
const linkLabel = (l) => `${placeText(l.from_place)} → ${placeText(l.to_place)}`;
const receiverSide = (direction) => (direction === "o2h" ? "inflow" : "outflow");

// A receiver's reason starts with its class ("malformed: attribute ..."): the class is shown
// by its label, the technical rest as it is.
function explain(text) {
  const match = /^([a-z_]+): ([\s\S]*)$/.exec(text || "");
  return match && `reason.${match[1]}` in MESSAGES[language] ? `${label("reason", match[1])}：${match[2]}` : text || "";
}

function isAdmin() { return claims().role === "sync_admin"; }

function button(key, onClick, className = "") {
  const b = element("button", { type: "button", text: t(key), className });
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await onClick();
    } catch (error) {
      notify(t("notice.failed", { message: error.message }), "error");
    } finally {
      b.disabled = false;
      refresh();
    }
  });
  return b;
}

function changed(table, data) {
  const signature = JSON.stringify([language, isAdmin(), data]);
  if (drawn.get(table) === signature) return false;
  drawn.set(table, signature);
  return true;
}

// The links table is redrawn at every refresh (its counters move), in place: a link's row and
// its button stay the same nodes while its action is the same, so an operator's click on them is
// never lost to a refresh (`fillKeyed`).
const linkActions = new Map();

function linkAction(l) {
  const paused = l.paused === "link";
  const path = `/admin/links/${linkPath(l)}`;
  const key = `${paused} ${language}`;
  const kept = linkActions.get(linkPath(l));
  if (kept && kept.key === key) return kept.node;
  const act = paused
    ? button("action.resume", async () => {
      await call("POST", `${path}/resume`);
      notify(t("notice.resumed", { what: linkLabel(l) }));
    })
    : button("action.pause", async () => {
      await call("POST", `${path}/pause`, { reason: "" });
      notify(t("notice.paused", { what: linkLabel(l) }));
    });
  const node = element("span", { className: "admin actions" }, act);
  linkActions.set(linkPath(l), { key, node });
  return node;
}

function drawLinks(links) {
  fillKeyed("links", links, linkPath, (l) => {
    const state = l.paused ? `${label("state", l.state)}（${label("paused", l.paused)}）` : label("state", l.state);
    return [
      label("direction", l.direction), placeCell(l.from_place), placeCell(l.to_place),
      { text: state, className: `state state-${l.state}`, title: l.state_reason || "" },
      l.published, l.applied, l.duplicates, l.dead_letters_open, l.parked, l.lag_messages,
      l.lag_seconds, l.throughput_per_second, { text: explain(l.last_error), className: "error-text" },
      linkAction(l),
    ];
  });
}

function sample(links) {
  const at = Date.now();
  for (const l of links) {
    throughput.add(at, linkPath(l), linkLabel(l), l.throughput_per_second);
    lag.add(at, linkPath(l), linkLabel(l), l.lag_seconds);
  }
  drawCharts();
}

function drawCharts() {
  drawLineChart(document.getElementById("throughput-chart"), throughput, t("chart.throughput"));
  drawLineChart(document.getElementById("lag-chart"), lag, t("chart.lag"));
}

// A discard reason being typed, by dead letter: a redraw (another dead letter arrived, or one
// was retried meanwhile) must not wipe it.
function typedInDeadLetters() {
  const typed = new Map();
  for (const row of document.querySelectorAll("#dead-letters tbody tr[data-id]")) {
    typed.set(row.dataset.id, row.querySelector("input.why")?.value || "");
  }
  return typed;
}

function drawDeadLetters(items) {
  document.getElementById("no-dead-letters").hidden = items.length > 0;
  if (!changed("dead-letters", items.map((d) => [d.id, d.retries]))) return;
  const typed = typedInDeadLetters();
  fill("dead-letters", items.map((d) => {
    const why = element("input", { type: "text", className: "why", placeholder: t("dl.why") });
    why.value = typed.get(String(d.id)) || "";
    const actions = element(
      "span", { className: "admin actions" },
      button("action.retry", async () => {
        await call("POST", `/admin/dead-letters/${d.id}/retry`);
        notify(t("notice.retried", { id: d.id }));
      }, "retry"),
      why,
      button("action.discard", async () => {
        const reason = why.value.trim();
        if (reason.length < 3) throw new Error(t("notice.why"));
        await call("POST", `/admin/dead-letters/${d.id}/discard`, { reason });
        notify(t("notice.discarded", { id: d.id }));
      }, "discard"),
    );
    const row = [
      `${label("direction", d.direction)}：${placeText(d.from_place)} → ${placeText(d.to_place)}`,
      label("reason", d.reason_class), { text: explain(d.reason), title: d.subject || "" },
      new Date(d.received_at).toLocaleString(language === "zh" ? "zh-CN" : "en-GB"), d.retries, actions,
    ];
    return row;
  }));
  for (const [i, d] of items.entries()) {
    document.querySelectorAll("#dead-letters tbody tr")[i].dataset.id = d.id;
  }
}

function receiversOf(links) {
  const receivers = new Map();
  for (const l of links) {
    const key = `${l.direction}/${l.to_place}`;
    const known = receivers.get(key) || { direction: l.direction, place: l.to_place, paused: false };
    known.paused = known.paused || l.paused === "receiver";
    receivers.set(key, known);
  }
  return [...receivers.values()];
}

// What an operator has typed into a receiver's row, by receiver: a redraw (the receiver was
// paused or resumed meanwhile) must not wipe a sequence number about to be replayed from.
function typedInReceivers() {
  const typed = new Map();
  for (const row of document.querySelectorAll("#receivers tbody tr[data-key]")) {
    typed.set(row.dataset.key, {
      sequence: row.querySelector("input.sequence")?.value || "",
      allowGap: Boolean(row.querySelector("input.allow-gap")?.checked),
      reason: row.querySelector("input.reason")?.value || "",
    });
  }
  return typed;
}

function drawReceivers(receivers) {
  if (!changed("receivers", receivers)) return;
  const typed = typedInReceivers();
  fill("receivers", receivers.map((r) => {
    const path = `/admin/receivers/${r.direction}/${r.place}`;
    const what = `${t(`side.${receiverSide(r.direction)}`)} ${placeText(r.place)}`;
    const kept = typed.get(`${r.direction}/${r.place}`) || { sequence: "", allowGap: false, reason: "" };
    const sequence = element("input", { type: "number", min: "1", className: "sequence", placeholder: t("rx.sequence") });
    const allowGap = element("input", { type: "checkbox", className: "allow-gap" });
    const reason = element("input", { type: "text", className: "reason", placeholder: t("rx.reason") });
    sequence.value = kept.sequence;
    allowGap.checked = kept.allowGap;
    reason.value = kept.reason;
    const toggle = r.paused
      ? button("action.resume", async () => {
        await call("POST", `${path}/resume`);
        notify(t("notice.resumed", { what }));
      }, "resume")
      : button("action.pause", async () => {
        await call("POST", `${path}/pause`, { reason: "" });
        notify(t("notice.paused", { what }));
      }, "pause");
    const replay = button("action.replay", async () => {
      const from = Number(sequence.value);
      if (!Number.isInteger(from) || from < 1) throw new Error(t("notice.sequence"));
      const done = await call("POST", `${path}/replay`, {
        from_sequence: from, allow_gap: allowGap.checked, reason: reason.value.trim(),
      });
      notify(t("notice.replayed", { what, from: done.from_sequence, skipped: done.skipped }));
    }, "replay");
    return [
      { text: what }, label("direction", r.direction), r.paused ? t("yes") : t("no"),
      element("span", { className: "admin actions" }, toggle, sequence,
        element("label", {}, allowGap, document.createTextNode(t("rx.allow_gap"))), reason, replay),
    ];
  }));
  for (const [i, r] of receivers.entries()) {
    document.querySelectorAll("#receivers tbody tr")[i].dataset.key = `${r.direction}/${r.place}`;
  }
}

function drawAntiEntropy(run) {
  const summary = document.getElementById("ae-summary");
  if (!run) {
    summary.textContent = t("ae.never");
    delete summary.dataset.run;
    summary.className = "";
    fill("ae-links", []);
    return;
  }
  const verdict = t(run.agreed ? "ae.agreed" : "ae.disagreed");
  let text = t("ae.result", { when: clock(run.finished_at * 1000), mode: label("ae.mode", run.mode), verdict });
  if (run.errors.length) text += `；${t("ae.errors", { errors: run.errors.join("; ") })}`;
  summary.textContent = text;
  summary.dataset.run = run.run_id;
  summary.className = run.agreed ? "ok" : "error";
  fill("ae-links", run.links.map((checked) => [
    `${label("direction", checked.direction)}：${linkLabel(checked)}`,
    checked.agreed ? t("yes") : t("no"), checked.streams_sent, checked.streams_applied,
    checked.buckets_differing, checked.missing.length, checked.receiver_ahead.length, checked.resent,
  ]));
}

async function latestRun() {
  try {
    return await read("/admin/antientropy/runs/latest");
  } catch (error) {
    if (error instanceof AuthError) throw error;
    return null; // none yet
  }
}

function counts(group, object) {
  return Object.entries(object || {}).map(([key, value]) => [label(group, key), value]);
}

function forget() {
  clearTables();
  drawn.clear();
  linkActions.clear();
  throughput.clear();
  lag.clear();
  drawCharts();
  drawAntiEntropy(null);
  document.getElementById("no-dead-letters").hidden = true;
  notify("", "");
}

async function load() {
  const [links, dead, reconciliation, run] = await Promise.all([
    read("/admin/links"), read("/admin/dead-letters?state=open&limit=200"),
    read("/admin/reconciliation"), latestRun(),
  ]);
  document.body.classList.toggle("read-only", !isAdmin());
  drawLinks(links.links);
  sample(links.links);
  drawDeadLetters(dead.items);
  drawReceivers(receiversOf(links.links));
  drawAntiEntropy(run);
  fill("assessments", counts("assessment", reconciliation.assessments.by_state));
  fill("mismatches", counts("mismatch", reconciliation.mismatches.by_kind));
  if (!isAdmin()) notify(t("status.readonly"), "quiet");
}

function refresh() { return guarded(load, forget); }

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("antientropy").addEventListener("submit", async (event) => {
    event.preventDefault();
    const run = document.getElementById("ae-run");
    run.disabled = true;
    document.getElementById("ae-summary").textContent = t("ae.running");
    try {
      drawAntiEntropy(await call("POST", "/admin/antientropy/runs", { mode: document.getElementById("ae-mode").value }));
    } catch (error) {
      notify(t("notice.failed", { message: error.message }), "error");
    } finally {
      run.disabled = false;
    }
  });
  document.addEventListener("liangdi-language", () => { drawn.clear(); drawCharts(); });
  drawCharts();
  startPage({ refresh, forget, everyMs: REFRESH_MS });
});
