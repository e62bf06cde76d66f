/// The console's only script, served from `/console/static/approve.js` (the pages' CSP allows
/// scripts from this origin and nothing else). Written by hand: a few dozen lines of WebCrypto
/// and IndexedDB, which no library would make shorter or safer.
///
/// - "Create a signing key": `crypto.subtle.generateKey` makes a P-256 ECDSA pair whose private
///   half is not extractable; the public half (raw, 65 bytes) is sent with a signature over the
///   registration message the server names (proof of possession); the pair is kept in IndexedDB
///   under the principal's id, so only this browser can sign with it.
/// - "Approve and sign": signs the request's digest — the SHA-256 of its canonical JSON, the same
///   32 bytes the CLI signs — with ECDSA/SHA-256 (IEEE P1363 r‖s, which the server accepts) and
///   posts the signature. The outcome (or the refusal) is shown in `#approval-message`.
enum ConsoleScript {
    static let approve = #"""
        "use strict";
        (() => {
          const panel = document.getElementById("browser-key");
          if (!panel) return;
          const principal = panel.dataset.principal;
          const status = document.getElementById("key-status");
          const message = document.getElementById("approval-message");
          const algorithm = { name: "ECDSA", namedCurve: "P-256" };
          const signing = { name: "ECDSA", hash: "SHA-256" };
          const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
          const bytes = (text) => new Uint8Array((text.match(/../g) || []).map((pair) => parseInt(pair, 16)));
          // The page's language (the console shows one at a time).
          const ja = document.documentElement.lang === "ja";
          const pick = (japanese, english) => (ja ? japanese : english);
          function say(text, ok) {
            message.textContent = text;
            message.className = ok ? "good" : "bad";
            message.dataset.state = ok ? "ok" : "error";
          }
          function database() {
            return new Promise((resolve, reject) => {
              const opening = indexedDB.open("kinko-console", 1);
              opening.onupgradeneeded = () => opening.result.createObjectStore("keys");
              opening.onsuccess = () => resolve(opening.result);
              opening.onerror = () => reject(opening.error);
            });
          }
          async function stored() {
            const db = await database();
            return new Promise((resolve, reject) => {
              const reading = db.transaction("keys").objectStore("keys").get(principal);
              reading.onsuccess = () => resolve(reading.result);
              reading.onerror = () => reject(reading.error);
            });
          }
          async function keep(entry) {
            const db = await database();
            return new Promise((resolve, reject) => {
              const writing = db.transaction("keys", "readwrite");
              writing.objectStore("keys").put(entry, principal);
              writing.oncomplete = () => resolve();
              writing.onerror = () => reject(writing.error);
            });
          }
          async function call(url, body) {
            const response = await fetch(url, body === undefined ? { credentials: "same-origin" } : {
              method: "POST", credentials: "same-origin", body: JSON.stringify(body),
              headers: { "Content-Type": "application/json", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
            });
            const answer = await response.json().catch(() => ({}));
            if (!response.ok) throw new Error((answer.field ? answer.field + ": " : "") + (answer.detail || response.status));
            return answer;
          }
          async function show() {
            const entry = await stored();
            status.dataset.key = entry ? entry.keyID : "";
            const row = entry && document.querySelector(`tr.own-key[data-key-id="${entry.keyID}"]`);
            status.dataset.status = row ? row.dataset.status : "";
            status.textContent = entry ? pick(`鍵 ${entry.keyID} (${row ? row.dataset.status : "サーバー未登録"})`, `key ${entry.keyID} (${row ? row.dataset.status : "unknown to the server"})`)
              : pick("このブラウザに鍵はありません", "no key in this browser");
          }
          async function createKey() {
            const pair = await crypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
            const publicKey = hex(await crypto.subtle.exportKey("raw", pair.publicKey));
            const { message: registration } = await call(`/console/api/keys/registration-message?algorithm=p256&public_key=${publicKey}`);
            const proof = hex(await crypto.subtle.sign(signing, pair.privateKey, bytes(registration)));
            const key = await call("/console/api/keys", { algorithm: "p256", public_key: publicKey, proof });
            await keep({ keyID: key.id, publicKey, pair });
            return key;
          }
          async function approve(button) {
            const entry = await stored();
            if (!entry) throw new Error(pick("このブラウザに署名鍵がありません。先に作成してください", "no signing key in this browser: create one first"));
            const signature = hex(await crypto.subtle.sign(signing, entry.pair.privateKey, bytes(button.dataset.digest)));
            return call(`/console/api/approvals/${button.dataset.request}`, { key_id: entry.keyID, signature });
          }
          document.getElementById("create-key").addEventListener("click", async (event) => {
            event.target.disabled = true;
            try {
              const key = await createKey();
              say(key.message, true);
              status.dataset.key = key.id;
              status.dataset.status = key.status;
              status.textContent = pick(`鍵 ${key.id} (${key.status})`, `key ${key.id} (${key.status})`);
            } catch (error) {
              say(String(error.message || error), false);
            } finally {
              event.target.disabled = false;
            }
          });
          for (const button of document.querySelectorAll("button.approve")) {
            button.addEventListener("click", async () => {
              message.dataset.state = "busy";
              try {
                say((await approve(button)).message, true);
              } catch (error) {
                say(String(error.message || error), false);
              }
            });
          }
          show().catch((error) => say(String(error.message || error), false));
        })();
        """#
}
