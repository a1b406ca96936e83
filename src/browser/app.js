// The tierkv data browser: plain DOM, no framework, no build. Every piece of data reaches the
// page through textContent or a form field's value, never as markup.

const API = "/api/kv";
const TOKEN_KEY = "tierkv.browser.token";
const POLL_MS = 2000;

const $ = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element;
};

/** An answer of the API that is not a success: its status and the envelope's code and message. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let token = sessionStorage.getItem(TOKEN_KEY);
/** While a sign-in checks a token, a refusal is its answer, not a reason to sign out. */
let signingIn = false;

/** Calls the native API with the token; answers `result` or throws an ApiError. */
async function api(method, endpoint, { query, body, raw = false } = {}) {
  const url = new URL(endpoint.startsWith("/") ? endpoint : `${API}/${endpoint}`, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, value);
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "NETWORK", "the server cannot be reached");
  }
  const text = await response.text();
  if (response.ok && raw) return text;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(response.status, "INTERNAL", `unexpected answer (HTTP ${response.status})`);
  }
  if (response.ok) return parsed.result;
  const error = parsed?.error ?? {};
  if (response.status === 401 && token !== null && !signingIn)
    signOut("The token was refused: sign in again.");
  throw new ApiError(response.status, error.code ?? "INTERNAL", error.message ?? `HTTP ${response.status}`);
}

// ---- sign in ----

/** A random key no one uses, for the write-permission probe (works outside secure contexts too). */
function probeKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `__tierkv_browser_probe__:${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Checks that the token is the full one: `/metrics` needs a valid token, and deleting a key that
 * does not exist (it removes nothing) needs write access, which the read-only token lacks.
 */
async function verify() {
  signingIn = true;
  try {
    await api("GET", "/metrics", { raw: true });
    await api("DELETE", "delete", { query: { key: probeKey() } });
  } finally {
    signingIn = false;
  }
}

function loginMessage(error) {
  if (error.status === 401) return "Wrong token: the server refused it.";
  if (error.status === 403)
    return "This is the read-only token: the data browser needs the full token (KV_TOKEN).";
  if (error.status === 429) return `Too many requests: ${error.message}`;
  return `Cannot sign in: ${error.message}`;
}

function showLogin(message) {
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  const box = $("login-error");
  box.textContent = message ?? "";
  box.hidden = !message;
  $("token").focus();
}

function signOut(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stopLive();
  showLogin(message);
}

async function signIn(candidate) {
  token = candidate;
  try {
    await verify();
  } catch (error) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(loginMessage(error));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  $("token").value = "";
  $("login").hidden = true;
  $("login-error").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  startLive();
  await search();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token").value.trim();
  if (value !== "") void signIn(value);
});
$("logout").addEventListener("click", () => signOut());

// ---- status line ----

function say(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

function fail(error) {
  say(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error), true);
}

// ---- search and paging ----

/** The cursors of the pages seen so far: `cursors[i]` opens page i + 1 (null: the first). */
let cursors = [null];
let nextCursor = null;

async function search() {
  cursors = [null];
  await loadPage();
}

async function loadPage() {
  const cursor = cursors[cursors.length - 1];
  const query = { pattern: $("pattern").value || "*", limit: $("limit").value };
  if (cursor !== null) query.cursor = cursor;
  const list = $("keys");
  list.setAttribute("aria-busy", "true");
  let page;
  try {
    page = await api("GET", "keys", { query });
  } catch (error) {
    list.setAttribute("aria-busy", "false");
    fail(error);
    return;
  }
  nextCursor = page.cursor;
  list.replaceChildren(
    ...page.keys.map((key) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "key";
      button.textContent = key;
      button.addEventListener("click", () => void openKey(key));
      item.append(button);
      return item;
    }),
  );
  const n = cursors.length;
  $("pager").hidden = n === 1 && nextCursor === null;
  $("prev").disabled = n === 1;
  $("next").disabled = nextCursor === null;
  $("page-info").textContent =
    `Page ${n} · ${page.keys.length} key${page.keys.length === 1 ? "" : "s"}` +
    (nextCursor === null ? " · last page" : "");
  say(page.keys.length === 0 && n === 1 ? "No key matches." : "");
  list.setAttribute("aria-busy", "false");
}

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void search();
});
$("next").addEventListener("click", () => {
  if (nextCursor === null) return;
  cursors.push(nextCursor);
  void loadPage();
});
$("prev").addEventListener("click", () => {
  if (cursors.length === 1) return;
  cursors.pop();
  void loadPage();
});

// ---- one key ----

/** The key on display: its name and type. */
let current = null;

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

function describeTtl(ms) {
  if (ms === -1) return "no expiry";
  if (ms === -2) return "missing";
  const s = ms / 1000;
  const human =
    s < 60
      ? `${s.toFixed(1)} s`
      : s < 3600
        ? `${(s / 60).toFixed(1)} min`
        : s < 86400
          ? `${(s / 3600).toFixed(1)} h`
          : `${(s / 86400).toFixed(1)} d`;
  return `${human} (${ms.toLocaleString("en")} ms)`;
}

async function showTtl(key) {
  const ms = await api("GET", "ttl", { query: { key } });
  $("detail-ttl").textContent = describeTtl(ms);
  return ms;
}

async function openKey(key) {
  const detail = $("detail");
  detail.setAttribute("aria-busy", "true");
  try {
    await showKey(key);
  } finally {
    detail.setAttribute("aria-busy", "false");
  }
}

async function showKey(key) {
  say("");
  let value;
  let type = "string";
  try {
    value = await api("GET", "get", { query: { key } });
  } catch (error) {
    if (error.code === "NOT_FOUND") {
      say(`The key ${JSON.stringify(key)} no longer exists.`, true);
      $("detail").hidden = true;
      return;
    }
    if (error.code !== "WRONGTYPE") {
      fail(error);
      return;
    }
    type = "hash";
  }
  try {
    if (type === "hash") value = await api("GET", "hgetall", { query: { key } });
    current = { key, type };
    $("detail-key").textContent = key;
    $("detail-type").textContent = type;
    $("detail").hidden = false;
    $("string-view").hidden = type !== "string";
    $("hash-view").hidden = type !== "hash";
    $("ttl-input").value = "";
    if (type === "string") {
      $("value-edit").value = pretty(value);
      document.querySelector('input[name="value-mode"][value="json"]').checked = true;
    } else {
      renderFields(value);
      $("field-name").value = "";
      $("field-value").value = "";
    }
    await showTtl(key);
  } catch (error) {
    fail(error);
  }
}

function renderFields(fields) {
  const rows = Object.entries(fields).map(([field, value]) => {
    const row = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = field;
    name.className = "field";
    const cell = document.createElement("td");
    const pre = document.createElement("pre");
    pre.textContent = pretty(value);
    cell.append(pre);
    const actions = document.createElement("td");
    const edit = document.createElement("button");
    edit.type = "button";
    edit.textContent = "Edit";
    edit.addEventListener("click", () => {
      $("field-name").value = field;
      $("field-value").value = pretty(value);
      $("field-value").focus();
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Delete";
    remove.className = "danger";
    remove.addEventListener("click", () => void deleteField(field));
    actions.append(edit, " ", remove);
    row.append(name, cell, actions);
    return row;
  });
  $("fields").replaceChildren(...rows);
}

/** The JSON a text holds, or the text itself as a JSON string when it is not JSON. */
function jsonOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

$("save-value").addEventListener("click", async () => {
  if (current?.type !== "string") return;
  const { key } = current;
  say("Saving…");
  const text = $("value-edit").value;
  const mode = document.querySelector('input[name="value-mode"]:checked').value;
  let value = text;
  if (mode === "json") {
    try {
      value = JSON.parse(text);
    } catch (error) {
      say(`Not valid JSON (${error.message}). Choose "a JSON string" to save the text as is.`, true);
      return;
    }
  }
  try {
    // `set` without ttlMs would drop the expiry: pass what is left of it.
    const ttl = await api("GET", "ttl", { query: { key } });
    await api("POST", "set", { body: ttl > 0 ? { key, value, ttlMs: ttl } : { key, value } });
    $("value-edit").value = pretty(value);
    await showTtl(key);
    say(`Saved ${JSON.stringify(key)}${ttl > 0 ? " (TTL kept)" : ""}.`);
  } catch (error) {
    fail(error);
  }
});

$("field-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (current?.type !== "hash") return;
  const { key } = current;
  const field = $("field-name").value;
  const value = jsonOrText($("field-value").value);
  say("Saving…");
  try {
    await api("POST", "hset", { body: { key, field, value } });
    renderFields(await api("GET", "hgetall", { query: { key } }));
    say(`Saved field ${JSON.stringify(field)}.`);
  } catch (error) {
    fail(error);
  }
});

async function deleteField(field) {
  if (current?.type !== "hash") return;
  const { key } = current;
  if (!confirm(`Delete field ${JSON.stringify(field)} of ${JSON.stringify(key)}?`)) return;
  say("Deleting…");
  try {
    await api("POST", "hdel", { body: { key, fields: [field] } });
    const fields = await api("GET", "hgetall", { query: { key } });
    if (Object.keys(fields).length === 0) {
      $("detail").hidden = true;
      current = null;
      await loadPage();
      say(`Deleted the last field: ${JSON.stringify(key)} no longer exists.`);
      return;
    }
    renderFields(fields);
    say(`Deleted field ${JSON.stringify(field)}.`);
  } catch (error) {
    fail(error);
  }
}

$("ttl-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (current === null) return;
  const { key } = current;
  const ttlMs = Number($("ttl-input").value);
  say("Saving…");
  if (!Number.isInteger(ttlMs) || ttlMs < 1) {
    say("A TTL is a whole number of milliseconds, 1 or more.", true);
    return;
  }
  try {
    const existed = await api("POST", "expire", { body: { key, ttlMs } });
    if (!existed) say(`The key ${JSON.stringify(key)} no longer exists.`, true);
    else say(`TTL of ${JSON.stringify(key)} set.`);
    await showTtl(key);
  } catch (error) {
    fail(error);
  }
});

$("delete-key").addEventListener("click", async () => {
  if (current === null) return;
  const { key } = current;
  if (!confirm(`Delete the key ${JSON.stringify(key)}? This cannot be undone.`)) return;
  say("Deleting…");
  try {
    const removed = await api("DELETE", "delete", { query: { key } });
    $("detail").hidden = true;
    current = null;
    await loadPage();
    say(removed === 1 ? `Deleted ${JSON.stringify(key)}.` : `${JSON.stringify(key)} was already gone.`);
  } catch (error) {
    fail(error);
  }
});

// ---- live panel ----

let timer;
let previous;

/** The samples of a Prometheus text page, as `name{labels}` → value. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match !== null) samples.push({ name: match[1], labels: match[2] ?? "", value: Number(match[3]) });
  }
  const sum = (name, keep = () => true) =>
    samples.filter((s) => s.name === name && keep(s.labels)).reduce((total, s) => total + s.value, 0);
  return {
    at: performance.now(),
    requests: sum("tierkv_requests_total", (labels) => !labels.includes('endpoint="metrics"')),
    hits: sum("tierkv_l1_hits_total"),
    misses: sum("tierkv_l1_misses_total"),
    entries: sum("tierkv_l1_entries"),
    trips: sum("tierkv_database_round_trips_total"),
    tripSeconds: sum("tierkv_database_round_trip_seconds_total"),
  };
}

function ratio(hits, misses) {
  return hits + misses === 0 ? "no lookups" : `${((100 * hits) / (hits + misses)).toFixed(1)} %`;
}

function latency(seconds, trips) {
  return trips === 0 ? "no round trips" : `${((1000 * seconds) / trips).toFixed(2)} ms`;
}

async function poll() {
  let now;
  try {
    now = parseMetrics(await api("GET", "/metrics", { raw: true }));
  } catch {
    $("live-rps").textContent = "unavailable";
    return;
  }
  $("live-entries").textContent = String(now.entries);
  if (previous === undefined) {
    $("live-hit").textContent = ratio(now.hits, now.misses);
    $("live-db").textContent = latency(now.tripSeconds, now.trips);
  } else {
    const seconds = (now.at - previous.at) / 1000;
    const hits = now.hits - previous.hits;
    const misses = now.misses - previous.misses;
    const trips = now.trips - previous.trips;
    $("live-rps").textContent = ((now.requests - previous.requests) / seconds).toFixed(1);
    if (hits + misses > 0) $("live-hit").textContent = ratio(hits, misses);
    if (trips > 0) $("live-db").textContent = latency(now.tripSeconds - previous.tripSeconds, trips);
  }
  previous = now;
}

function startLive() {
  stopLive();
  void poll();
  timer = setInterval(() => void poll(), POLL_MS);
}

function stopLive() {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  previous = undefined;
}

// ---- start ----

if (token !== null) void signIn(token);
else showLogin();
