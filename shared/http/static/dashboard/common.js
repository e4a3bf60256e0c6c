// What every page does: keep the operator's token for this tab only, call the service with it,
// write values with textContent (never as HTML), and forget everything shown when the service
// refuses the token, so that a page never goes on showing data its reader may no longer see.

const TOKEN_KEY = "liangdi-token";

class AuthError extends Error {}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

// The token's own claims (role, place), to offer only the actions it may take; the service
// checks every call regardless.
function claims() {
  try {
    const part = token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

async function call(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${token()}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let payload = null;
  try { payload = await response.json(); } catch { payload = null; }
  if (!response.ok) {
    const error = payload && payload.error;
    const message = error ? `${error.code}: ${error.message}` : `${response.status} ${response.statusText}`;
    throw new (response.status === 401 || response.status === 403 ? AuthError : Error)(message);
  }
  return payload;
}

const read = (path) => call("GET", path);

function element(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function number(value) {
  return value === null || value === undefined ? "" : Number(value).toLocaleString(language === "zh" ? "zh-CN" : "en-GB");
}

// One row per item: each cell a text, a number, a DOM node, or {text, className, title}.
function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      setCell(td, cell);
      tr.append(td);
    }
    return tr;
  }));
}

// As `fill`, for a table redrawn while an operator uses it: rows are keyed (`keyOf(item)`) and
// updated in place, each cell only where it changed. A button under the operator's pointer is
// never replaced or moved while its cell holds the same node: a press on one node and a release
// on another (or on the same node taken out and put back) is not a click.
function fillKeyed(tableId, items, keyOf, cellsOf) {
  const body = document.querySelector(`#${tableId} tbody`);
  const existing = new Map([...body.children].map((tr) => [tr.dataset.key, tr]));
  const wanted = new Set();
  items.forEach((item, i) => {
    const key = keyOf(item);
    wanted.add(key);
    let tr = existing.get(key);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.key = key;
    }
    const cells = cellsOf(item);
    while (tr.children.length < cells.length) tr.append(document.createElement("td"));
    while (tr.children.length > cells.length) tr.lastChild.remove();
    cells.forEach((cell, n) => setCell(tr.children[n], cell));
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
  });
  for (const [key, tr] of existing) if (!wanted.has(key)) tr.remove();
}

function setCell(td, cell) {
  if (cell instanceof Node) {
    if (td.firstChild !== cell || td.childNodes.length !== 1) td.replaceChildren(cell);
    td.className = "";
    return;
  }
  let text, className = "", title = "";
  if (typeof cell === "number") { text = number(cell); className = "num"; }
  else if (cell && typeof cell === "object") {
    text = cell.text ?? "";
    className = cell.className || "";
    title = cell.title || "";
  } else text = cell === null || cell === undefined ? "" : String(cell);
  if (td.firstChild instanceof Element || td.textContent !== text) td.textContent = text;
  if (td.className !== className) td.className = className;
  if ((td.getAttribute("title") || "") !== title) {
    if (title) td.title = title;
    else td.removeAttribute("title");
  }
}

function clearTables() {
  for (const body of document.querySelectorAll("table tbody")) body.replaceChildren();
}

function setStatus(text, kind = "") {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = kind;
}

function notify(text, kind = "ok") {
  const notice = document.getElementById("notice");
  notice.textContent = text;
  notice.className = kind;
}

// The header every page shares: the token form, sign out and the language switch.
function startPage({ refresh, forget, everyMs }) {
  applyLanguage();
  document.getElementById("language").addEventListener("click", () => {
    setLanguage(language === "zh" ? "en" : "zh");
    refresh();
  });
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
    forget();
    refresh();
  });
  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    document.getElementById("token").value = "";
    forget();
    setStatus(t("status.idle"));
  });
  refresh();
  setInterval(refresh, everyMs);
}

// The refresh wrapper: on a refused token, forget what is shown; on other errors say so.
async function guarded(load, forget) {
  if (!token()) {
    setStatus(t("status.idle"));
    return;
  }
  try {
    await load();
    setStatus(t("status.updated", { time: clock(Date.now()) }));
  } catch (error) {
    if (error instanceof AuthError) {
      forget();
      setStatus(t("status.auth", { message: error.message }), "error");
    } else {
      setStatus(t("status.failed", { message: error.message }), "error");
    }
  }
}
