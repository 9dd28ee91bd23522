// The console of `firelane up`: every figure and list on the page is what the JSON API under
// /_console/api/ answers; the page refreshes when the stream endpoint says something changed.
"use strict";

const API = "/_console/api/";
const STAGES = ["accepted", "rejected", "enriched", "delivered", "failed"];
let selected = null; // the id of the event whose forms are shown

function get(path) {
  return fetch(API + path, { cache: "no-store" }).then((r) => {
    if (!r.ok) throw new Error(path + ": " + r.status);
    return r.json();
  });
}

// h builds an element; children are nodes or text (never parsed as HTML).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function pretty(v) {
  if (v === undefined || v === null) return "";
  return JSON.stringify(v, null, 2);
}

function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

function time(s) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function reasonsOf(ev) {
  return (ev.reasons || []).map((r) =>
    h("span", { class: "reason" }, r.location || r.keyword ? [h("code", { title: "JSON pointer" }, r.location || "(root)"), " "] : "", r.message));
}

function eventButton(ev, stage) {
  const id = ev.id;
  return h("li", {}, h("button", {
    type: "button", class: "ev", "data-id": id, "data-stage": stage,
    "aria-pressed": selected === id ? "true" : "false",
    onclick: () => select(id),
  },
  h("span", { class: "id" }, id || "(no id)"),
  h("span", { class: "meta" }, [ev.type || "", " · ", time(ev.updated_at || ev.at)].join("")),
  stage === "delivered" && ev.s3_key ? h("span", { class: "meta mono" }, ev.s3_key) : "",
  stage === "rejected" || stage === "failed" ? reasonsOf(ev) : ""));
}

function fill(el, nodes, empty) {
  el.replaceChildren(...(nodes.length ? nodes : [h("li", { class: "empty" }, empty)]));
}

function renderCounts(counts, types) {
  const c = counts.events || {};
  const cards = ["events", "accepted", "rejected", "delivered", "failed"].map((k) =>
    h("div", { class: "card " + k, id: "count-" + k, "data-count": c[k] ?? 0 },
      h("span", { class: "n" }, c[k] ?? 0), k === "accepted" ? "accepted, in flight" : k));
  document.getElementById("stage-counts").replaceChildren(...cards);

  const rows = Object.keys(types.types || {}).sort().map((t) => {
    const x = types.types[t];
    return h("tr", { "data-type": t }, h("td", { class: "mono" }, t || "(unknown)"),
      ...["events", "accepted", "rejected", "delivered", "failed"].map((k) => h("td", { class: "num" }, x[k])));
  });
  document.querySelector("#type-counts tbody").replaceChildren(...(rows.length ? rows :
    [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "no events yet"))]));

  const p = counts.pipeline || {};
  const items = [];
  if (p.stream) items.push(["stream " + p.stream.name, plural(p.stream.records, "record", "records")]);
  if (p.mapping) {
    const m = p.mapping;
    items.push(["enrich mapping", plural(m.invocations, "invocation", "invocations") + ", " + plural(m.records_succeeded, "record", "records") + " through enrich"]);
    items.push(["", m.records_pending + " read, not done · " + (m.records_unread < 0 ? "unknown" : m.records_unread) + " unread · " + m.batches_retried + " batches retried · " + m.records_discarded + " discarded"]);
  }
  for (const [name, n] of Object.entries(p.delivery_buffered || {}).sort()) items.push(["delivery stream " + name, n + " buffered"]);
  if (p.on_failure_queue) items.push(["on-failure queue " + p.on_failure_queue.name, p.on_failure_queue.messages + " messages"]);
  document.getElementById("pipeline").replaceChildren(...items.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function renderStages(lists) {
  for (const s of STAGES) {
    const evs = lists[s];
    fill(document.getElementById("list-" + s), evs.map((ev) => eventButton(ev, s)), "none");
  }
}

function renderFailed(evs) {
  const rows = evs.map((ev) => h("tr", {}, h("td", {}, time(ev.updated_at)),
    h("td", {}, h("button", { type: "button", class: "ev", "data-id": ev.id, "data-stage": "failed-table", onclick: () => select(ev.id) }, h("span", { class: "id" }, ev.id))),
    h("td", { class: "mono" }, ev.type || ""), h("td", {}, reasonsOf(ev))));
  document.querySelector("#failed-table tbody").replaceChildren(...(rows.length ? rows :
    [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "no failed events"))]));
}

function renderLake(lake) {
  document.getElementById("lake-name").textContent = (lake.lake || "") + (lake.objects !== undefined ? " · " + plural(lake.objects, "object", "objects") : "");
  const parts = (lake.partitions || []).map((p, i) => h("details", { open: i < 3, "data-prefix": p.prefix },
    h("summary", { class: "mono" }, p.prefix, " ", h("small", {}, plural(p.objects.length, "object", "objects"))),
    p.objects.map((o) => h("div", { class: "object" },
      h("div", { class: "key mono" }, o.key),
      h("small", {}, [o.format, o.size + " bytes", o.format === "json" ? plural(o.rows, "row", "rows") : "", time(o.modified)].filter(Boolean).join(" · ")),
      o.preview && o.preview.length ? h("pre", { class: "preview" }, o.preview.map((r) => JSON.stringify(r)).join("\n")) :
        o.format === "parquet" ? h("p", { class: "empty" }, "Parquet: no preview") : ""))));
  const el = document.getElementById("lake-parts");
  el.replaceChildren(...(parts.length ? parts : [h("p", { class: "empty" }, lake.note || "the lake is empty")]));
}

function renderSchemas(res) {
  const list = (res.schemas || []).map((s) => h("details", { "data-type": s.type },
    h("summary", {}, h("span", { class: "mono" }, s.type), " v" + s.version, " ", h("small", {}, s.path)),
    s.title || s.description ? h("p", {}, [s.title, s.description].filter(Boolean).join(": ")) : "",
    s.pii && Object.keys(s.pii).length ? h("p", {}, h("small", {}, "personal data: " + Object.entries(s.pii).map(([k, v]) => k + " (" + v + ")").join(", "))) : "",
    h("div", { class: "forms" },
      h("figure", {}, h("figcaption", {}, "Examples (" + s.examples.length + ")"), h("pre", {}, s.examples.map(pretty).join("\n\n") || "none")),
      h("figure", {}, h("figcaption", {}, "Invalid examples (" + s.invalid_examples.length + ")"), h("pre", {}, s.invalid_examples.map(pretty).join("\n\n") || "none")),
      h("figure", {}, h("figcaption", {}, "Schema"), h("pre", {}, pretty(s.source))))));
  document.getElementById("schema-list").replaceChildren(...(list.length ? list : [h("p", { class: "empty" }, "no schemas")]));
}

async function renderDetail() {
  const box = document.getElementById("detail");
  if (!selected) { box.hidden = true; return; }
  const f = await get("forms?id=" + encodeURIComponent(selected));
  const ev = f.event || {};
  box.hidden = false;
  document.getElementById("detail-h").textContent = "Event " + selected;
  document.getElementById("detail-meta").replaceChildren(
    h("span", { class: "status " + (ev.status || "") }, ev.status || "unknown"),
    ev.type ? " · " + ev.type : "", ev.request_id ? " · request " + ev.request_id : "",
    ev.received_at ? " · received " + time(ev.received_at) : "", ev.updated_at ? " · settled " + time(ev.updated_at) : "");
  const reasons = ev.reasons || [];
  const table = document.getElementById("detail-reasons");
  table.hidden = reasons.length === 0;
  table.tBodies[0].replaceChildren(...reasons.map((r) => h("tr", {},
    h("td", { class: "mono" }, r.location || (r.keyword ? "(root)" : "")), h("td", { class: "mono" }, r.keyword || ""), h("td", {}, r.message))));
  document.getElementById("form-raw").textContent = f.raw ? pretty(f.raw) : "(not kept)";
  document.getElementById("form-enriched").textContent = f.enriched ? pretty(f.enriched) : ev.status === "rejected" ? "(rejected: not enriched)" : "(not yet)";
  document.getElementById("form-row").textContent = f.row ? pretty(f.row) : "(not in the lake)";
  document.getElementById("form-key").textContent = ev.s3_key || "";
}

function select(id) {
  selected = id;
  for (const b of document.querySelectorAll(".ev[data-id]")) b.setAttribute("aria-pressed", b.dataset.id === id ? "true" : "false");
  renderDetail().catch(showError);
}

let refreshing = false, again = false;
async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const [counts, types, accepted, rejected, delivered, failed, enriched, lake] = await Promise.all([
      get("counts"), get("types"),
      get("events?status=accepted&limit=20"), get("events?status=rejected&limit=20"),
      get("events?status=delivered&limit=20"), get("events?status=failed&limit=50"),
      get("enriched?limit=20"), get("lake"),
    ]);
    const newest = (r) => r.events.slice().reverse();
    // The lists are rebuilt: keep the keyboard's place on the same event.
    const a = document.activeElement;
    const focus = a && a.classList.contains("ev") ? [a.dataset.stage, a.dataset.id] : null;
    renderCounts(counts, types);
    renderStages({ accepted: newest(accepted), rejected: newest(rejected), delivered: newest(delivered),
      failed: newest(failed).slice(0, 20), enriched: enriched.enriched });
    renderFailed(newest(failed));
    renderLake(lake);
    if (focus) {
      const b = [...document.querySelectorAll(".ev")].find((x) => x.dataset.stage === focus[0] && x.dataset.id === focus[1]);
      if (b) b.focus();
    }
    await renderDetail();
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  } catch (e) {
    showError(e);
  } finally {
    refreshing = false;
    if (again) { again = false; refresh(); }
  }
}

function showError(e) {
  const live = document.getElementById("live");
  live.textContent = "error: " + e.message;
  live.className = "live off";
}

function connect() {
  const live = document.getElementById("live");
  const es = new EventSource(API + "stream");
  es.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
  es.addEventListener("change", () => refresh());
  es.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live off"; });
}

// Keyboard: ↑ and ↓ move between the events of a list, Esc closes the event's forms.
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if (e.key === "Escape" && selected) {
    selected = null;
    renderDetail();
    for (const b of document.querySelectorAll(".ev[aria-pressed=true]")) b.setAttribute("aria-pressed", "false");
    return;
  }
  if ((e.key === "ArrowDown" || e.key === "ArrowUp") && t.classList && t.classList.contains("ev")) {
    const li = t.closest("li");
    const next = e.key === "ArrowDown" ? li && li.nextElementSibling : li && li.previousElementSibling;
    const b = next && next.querySelector(".ev");
    if (b) { b.focus(); e.preventDefault(); }
  }
});

document.getElementById("reset").addEventListener("click", async () => {
  await fetch(API + "reset", { method: "POST" });
  selected = null;
  refresh();
});

get("schemas").then(renderSchemas).catch(showError);
refresh();
connect();
