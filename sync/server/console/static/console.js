// The console's own JavaScript: forms that keep what was typed, fragments fetched and swapped in, the signing key
// (WebCrypto Ed25519, non-extractable, kept in IndexedDB), signing, and chunked uploads that resume. Pages work
// without it wherever a plain form can do the job.
"use strict";

const csrf = () => document.body.dataset.csrf || "";
// Every fetch says so: without a session it then gets 401 (and goes to the log-in page) rather than a redirect.
const call = (url, options = {}) => fetch(url, { ...options, headers: { "X-Console-Fetch": "1", "X-CSRF-Token": csrf(), ...(options.headers || {}) } });

// --- forms keep what was typed (a reload, a cut, an expired session) until they are saved ----------------------
function keepKey(form) { return "kiosk-keep:" + (form.dataset.keep || form.getAttribute("action") || location.pathname); }

function keepForms() {
  for (const form of document.querySelectorAll("form[data-keep]")) {
    const key = keepKey(form);
    if (form.dataset.saved === "yes") { sessionStorage.removeItem(key); continue; }
    const kept = sessionStorage.getItem(key);
    if (kept) {
      for (const [name, value, checked] of JSON.parse(kept)) {
        // checkboxes (weekday chips, stacking languages) share a name: each is found by its value
        const box = [...form.elements].find((f) => f.name === name && f.type === "checkbox" && f.value === value);
        if (box) { box.checked = !!checked; continue; }
        const field = form.elements.namedItem(name);
        if (field && "value" in field && field.type !== "hidden" && field.type !== "checkbox") field.value = value;
      }
      form.dispatchEvent(new Event("input"));
    }
    const keep = () => {
      const values = [];
      for (const field of form.elements) {
        if (!field.name || field.type === "hidden" || field.type === "password" || !("value" in field)) continue;
        values.push(field.type === "checkbox" ? [field.name, field.value, field.checked] : [field.name, field.value]);
      }
      sessionStorage.setItem(key, JSON.stringify(values));
    };
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
  }
}

// --- fragments: a link or form with data-swap="#target" replaces #target with what the server answers ----------
async function swap(target, response) {
  if (response.status === 401) { location.href = response.headers.get("X-Console-Login") || "/console/login"; return; }
  const node = document.querySelector(target);
  if (node) node.outerHTML = await response.text();
  wire(document);
}

function wire(root) {
  for (const form of root.querySelectorAll("form[data-swap]")) {
    if (form.dataset.wired) continue;
    form.dataset.wired = "1";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = form.querySelector(".status");
      if (status) status.textContent = document.body.dataset.lang === "vi" ? "Đang xử lý…" : "Working…";
      const body = new URLSearchParams(new FormData(form, event.submitter));
      await swap(form.dataset.swap, await call(form.action, { method: "POST", body }));
    });
  }
  for (const node of root.querySelectorAll("[data-refresh]")) {
    if (node.dataset.wired) continue;
    node.dataset.wired = "1";
    const every = Number(node.dataset.every || 10) * 1000;
    setTimeout(async function again() {
      if (!document.querySelector("#" + node.id)) return;
      try {
        const response = await call(node.dataset.refresh);
        // the new fragment is wired again by swap, and so sets its own next refresh
        if (response.ok || response.status === 401) { await swap("#" + node.id, response); return; }
      } catch (error) {
        // the server restarting or the office link dropping: keep the last table and try again
      }
      setTimeout(again, every);
    }, every);
  }
  for (const area of root.querySelectorAll("textarea[maxlength], input[maxlength]")) {
    const counter = area.parentElement.querySelector(".counter");
    if (!counter) continue;
    const show = () => { counter.textContent = area.value.length + " / " + area.maxLength; };
    area.addEventListener("input", show);
    show();
  }
  for (const button of root.querySelectorAll("button[data-insert]")) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const field = document.getElementById(button.dataset.field);
      if (!field) return;
      const at = Number(button.dataset.at);
      field.value = field.value.slice(0, at) + button.dataset.insert + field.value.slice(at);
      field.dispatchEvent(new Event("input", { bubbles: true }));
      button.closest("form").requestSubmit(button.closest("form").querySelector("button[name=action][value=save]"));
    });
  }
}

// --- the signing key ------------------------------------------------------------------------------------------
const DB_NAME = "kiosk-console", STORE = "keys";

function openKeys() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function keyStore(mode, action) {
  const db = await openKeys();
  return new Promise((resolve, reject) => {
    const request = action(db.transaction(STORE, mode).objectStore(STORE));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

async function describe(stored) {
  const id = hex(await crypto.subtle.digest("SHA-256", unb64(stored.public))).slice(0, 16);
  return { id, public: stored.public, name: stored.name, key: stored.key };
}

async function currentKey() {
  const stored = await keyStore("readonly", (s) => s.get("publisher"));
  return stored ? describe(stored) : null;
}

async function keepKey_(name, privateKey, publicRaw) {
  await keyStore("readwrite", (s) => s.put({ name, key: privateKey, public: b64(publicRaw) }, "publisher"));
}

async function makeKey(name) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  await keepKey_(name, pair.privateKey, await crypto.subtle.exportKey("raw", pair.publicKey));
}

async function importKey(name, pemText) {
  const body = pemText.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = unb64(body);
  // Imported once as extractable only to read its public half (JWK "x"); what is kept cannot be exported.
  const open = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", open);
  const publicRaw = unb64(jwk.x.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - jwk.x.length % 4) % 4));
  const kept = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  await keepKey_(name, kept, publicRaw);
}

async function signWith(key, kind, payloadB64) {
  const payload = unb64(payloadB64);
  const message = new Uint8Array(kind.length + 1 + payload.length);
  message.set(new TextEncoder().encode(kind + "\n"));
  message.set(payload, kind.length + 1);
  return b64(await crypto.subtle.sign({ name: "Ed25519" }, key.key, message));
}

async function showKey() {
  const panel = document.querySelector("[data-key-panel]");
  if (!panel) return;
  const key = window.isSecureContext && window.crypto && crypto.subtle ? await currentKey() : null;
  const set = (name, value) => { for (const n of panel.querySelectorAll(`[data-key=${name}]`)) n.textContent = value; };
  panel.querySelector("[data-key-none]").hidden = !!key;
  panel.querySelector("[data-key-some]").hidden = !key;
  if (!key) return;
  set("id", key.id);
  set("name", key.name);
  set("pub", key.public);
  set("add", `--add ${key.name}=${key.name}.pub`);
  const listed = (panel.dataset.listed || "").split(" ").filter(Boolean);
  for (const node of panel.querySelectorAll("[data-listed-yes]")) node.hidden = !listed.includes(key.id);
  for (const node of panel.querySelectorAll("[data-listed-no]")) node.hidden = listed.includes(key.id);
}

function wireKeys() {
  const make = document.querySelector("form[data-make-key]");
  if (make) make.addEventListener("submit", async (event) => {
    event.preventDefault();
    await makeKey(make.elements.namedItem("name").value.trim() || "office");
    await showKey();
  });
  const load = document.querySelector("form[data-import-key]");
  if (load) load.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = load.elements.namedItem("file").files[0];
    const status = load.querySelector(".status");
    try {
      await importKey(file.name.replace(/\.key$/, ""), await file.text());
      status.textContent = "";
    } catch (error) { status.textContent = String(error); }
    await showKey();
  });
  for (const form of document.querySelectorAll("form[data-sign]")) {
    form.addEventListener("submit", async (event) => {
      if (form.elements.namedItem("signature").value) return;
      event.preventDefault();
      const status = form.querySelector(".status");
      const key = await currentKey().catch(() => null);
      if (!key) { status.textContent = form.dataset.noKey; return; }
      form.elements.namedItem("signature").value = await signWith(key, form.dataset.sign, form.elements.namedItem("payload").value);
      form.elements.namedItem("key_id").value = key.id;
      form.submit();
    });
  }
}

// --- uploads: 8 MB chunks, each PUT at its offset; after a cut the server says how far it got -------------------
const CHUNK = 8 * 1024 * 1024;

async function upload(form) {
  const file = form.elements.namedItem("file").files[0];
  const bar = form.querySelector("progress"), status = form.querySelector(".status");
  if (!file) return;
  const remember = "kiosk-upload:" + file.name + ":" + file.size + ":" + file.lastModified;
  let id = localStorage.getItem(remember);
  if (id) {
    const known = await call(`/console/uploads/${id}`);
    if (!known.ok) id = null;
  }
  if (!id) {
    const body = new URLSearchParams({ csrf: csrf(), name: file.name, size: String(file.size), channel: form.dataset.channel });
    const started = await call("/console/uploads", { method: "POST", body });
    if (!started.ok) { status.textContent = await started.text(); return; }
    id = (await started.json()).id;
    localStorage.setItem(remember, id);
  }
  let offset = (await (await call(`/console/uploads/${id}`)).json()).received;
  let tries = 0;
  while (offset < file.size) {
    bar.value = offset / file.size;
    try {
      const answer = await call(`/console/uploads/${id}?offset=${offset}`, {
        method: "PUT", body: file.slice(offset, offset + CHUNK) });
      if (!answer.ok) throw new Error(await answer.text());
      offset = (await answer.json()).received;
      tries = 0;
    } catch (error) {
      if (++tries > 20) { status.textContent = String(error); return; }
      await new Promise((r) => setTimeout(r, Math.min(30000, 500 * 2 ** tries)));
      const where = await call(`/console/uploads/${id}`).catch(() => null);
      if (where && where.ok) offset = (await where.json()).received;
    }
  }
  bar.value = 1;
  const body = new URLSearchParams({ csrf: csrf(), channel: form.dataset.channel });
  const done = await call(`/console/uploads/${id}/finish`, { method: "POST", body });
  status.textContent = await done.text();
  if (done.ok) { localStorage.removeItem(remember); location.reload(); }
}

// a file chosen beside a textarea fills it (the channel profile): staff pick the screen's kiosk.yaml, not paste it
function wireFills() {
  for (const input of document.querySelectorAll("input[type=file][data-fill]")) {
    input.addEventListener("change", async () => {
      const target = document.getElementById(input.dataset.fill);
      if (target && input.files.length) target.value = await input.files[0].text();
    });
  }
}

function wireUploads() {
  for (const form of document.querySelectorAll("form[data-upload]")) {
    form.addEventListener("submit", (event) => { event.preventDefault(); upload(form); });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const banner = document.getElementById("insecure");
  if (banner && !window.isSecureContext) banner.hidden = false;
  keepForms();
  wire(document);
  wireKeys();
  wireUploads();
  wireFills();
  showKey();
});
window.kioskConsole = { currentKey, makeKey, importKey, signWith, upload };
