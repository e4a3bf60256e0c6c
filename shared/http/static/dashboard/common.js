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
      if (cell instanceof Node) td.append(cell);
      else if (typeof cell === "number") { td.textContent = number(cell); td.className = "num"; }
      else if (cell && typeof cell === "object") {
        td.textContent = cell.text ?? "";
        if (cell.className) td.className = cell.className;
        if (cell.title) td.title = cell.title;
      } else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      tr.append(td);
    }
    return tr;
  }));
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
