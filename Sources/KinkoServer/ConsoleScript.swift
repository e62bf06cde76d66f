/// The console's scripts, served from `/console/static/` (the pages' CSP allows scripts from this
/// origin and nothing else). Written by hand: a few dozen lines of WebCrypto and IndexedDB each,
/// which no library would make shorter or safer.
///
/// `approve.js`:
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

    /// `audit-proof.js`: recomputes an audit entry's inclusion proof in the browser (RFC 9162
    /// §2.1.3.2, the algorithm of `Merkle.verifyInclusion` and `scripts/verify_audit_proof.py`):
    /// SHA-256(0x00 ‖ entry) folded with the path to a root, compared with the signed
    /// checkpoint's root. `window.kinkoCheckAuditProof()` reruns it (the browser test alters the
    /// entry and expects a failure).
    static let auditProof = #"""
        "use strict";
        (() => {
          const data = document.getElementById("audit-proof");
          const out = document.getElementById("proof-result");
          if (!data || !out) return;
          const ja = document.documentElement.lang === "ja";
          const pick = (japanese, english) => (ja ? japanese : english);
          const bytes = (hex) => new Uint8Array((hex.match(/../g) || []).map((pair) => parseInt(pair, 16)));
          const hex = (array) => Array.from(array, (b) => b.toString(16).padStart(2, "0")).join("");
          async function sha256(...parts) {
            const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
            let offset = 0;
            for (const part of parts) { all.set(part, offset); offset += part.length; }
            return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
          }
          async function rootMatches() {
            const index = Number(data.dataset.index), size = Number(data.dataset.size);
            const path = data.dataset.path ? data.dataset.path.split(",").map(bytes) : [];
            if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return false;
            let root = await sha256(new Uint8Array([0]), bytes(data.dataset.entry));
            let fn = index, sn = size - 1;
            for (const sibling of path) {
              if (sn === 0) return false;
              if (fn % 2 === 1 || fn === sn) {
                root = await sha256(new Uint8Array([1]), sibling, root);
                while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
              } else {
                root = await sha256(new Uint8Array([1]), root, sibling);
              }
              fn = Math.floor(fn / 2);
              sn = Math.floor(sn / 2);
            }
            return sn === 0 && hex(root) === data.dataset.root;
          }
          window.kinkoCheckAuditProof = async () => {
            out.dataset.state = "";
            if (!(window.crypto && crypto.subtle)) {
              out.textContent = pick("このブラウザでは検証できません (HTTPS が必要です)", "this browser cannot check it here (WebCrypto needs HTTPS)");
              out.className = "bad";
              out.dataset.state = "unavailable";
              return;
            }
            const ok = await rootMatches();
            out.textContent = ok ? pick("一致: この記録はチェックポイントのルートに含まれています", "match: the entry is in the checkpoint's root")
              : pick("不一致: 記録または証明が改ざんされています", "mismatch: the entry or its proof was altered");
            out.className = ok ? "good" : "bad";
            out.dataset.state = ok ? "ok" : "failed";
          };
          window.kinkoCheckAuditProof();
        })();
        """#
}
