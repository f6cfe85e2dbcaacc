/**
 * The web chat page: one self-contained HTML document (inline CSS and JS, nothing from a CDN) that
 * talks to /chat/api. Texts come from locales/<lng>/bot.json (web.*) in the browser's language.
 */
import type { Locale, Translate } from '../../i18n/index.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderChatPage(locale: Locale, t: Translate, programName: string): string {
  const ui = {
    placeholder: t('bot:web.placeholder'),
    send: t('bot:web.send'),
    photo: t('bot:web.photo'),
    phoneHint: t('bot:web.phone_hint'),
    offline: t('bot:web.offline'),
    tooBig: t('bot:web.too_big'),
    uploading: t('bot:web.uploading'),
    you: t('bot:web.you'),
  };
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${escapeHtml(programName)}</title>
<style>
  :root { --bg:#f4f5f7; --me:#d9f2e6; --bot:#fff; --accent:#1f7a57; --text:#1d1d1f; }
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body { font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text);
         display: flex; flex-direction: column; }
  header { background: var(--accent); color: #fff; padding: 12px 16px; font-weight: 600; }
  #log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
  .msg { max-width: 85%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; word-wrap: break-word;
         box-shadow: 0 1px 1px rgba(0,0,0,.06); }
  .bot { background: var(--bot); align-self: flex-start; border-bottom-left-radius: 4px; }
  .me { background: var(--me); align-self: flex-end; border-bottom-right-radius: 4px; }
  .msg img { max-width: 100%; border-radius: 8px; display: block; margin-bottom: 6px; }
  .choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
  .choices button { flex: 1 1 40%; min-height: 40px; border: 1px solid var(--accent); color: var(--accent); background: #fff;
                    border-radius: 10px; padding: 6px 10px; font: inherit; cursor: pointer; }
  .choices button:disabled { opacity: .45; cursor: default; }
  .hint { font-size: 13px; color: #666; margin-top: 6px; }
  form { display: flex; gap: 6px; padding: 8px; background: #fff; border-top: 1px solid #ddd;
         padding-bottom: max(8px, env(safe-area-inset-bottom)); }
  #text { flex: 1; min-width: 0; font: inherit; padding: 10px 12px; border: 1px solid #ccc; border-radius: 20px; }
  form button, form label { border: 0; background: var(--accent); color: #fff; border-radius: 20px; padding: 0 14px;
         font: inherit; cursor: pointer; display: flex; align-items: center; min-height: 42px; }
  form label { background: #e7e9ec; color: var(--text); }
  #file { display: none; }
  #status { text-align: center; font-size: 13px; color: #a33; min-height: 0; }
</style>
</head>
<body>
<header>${escapeHtml(programName)}</header>
<div id="log" aria-live="polite"></div>
<div id="status"></div>
<form id="form" autocomplete="off">
  <label for="file" title="${escapeHtml(ui.photo)}" aria-label="${escapeHtml(ui.photo)}">📷</label>
  <input id="file" type="file" accept="image/*">
  <input id="text" name="text" maxlength="2000" placeholder="${escapeHtml(ui.placeholder)}" aria-label="${escapeHtml(ui.placeholder)}">
  <button type="submit">${escapeHtml(ui.send)}</button>
</form>
<script>
(() => {
  const UI = ${JSON.stringify(ui).replace(/</g, '\\u003c')};
  const LANG = ${JSON.stringify(locale)};
  const log = document.getElementById('log'), form = document.getElementById('form');
  const input = document.getElementById('text'), file = document.getElementById('file'), status = document.getElementById('status');
  let token = localStorage.getItem('punkto.chat.token');
  const returning = Boolean(token);
  let after = 0;
  const sent = new Set();
  let lost = false;
  const uid = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now() + '-' + Math.random().toString(16).slice(2));

  function bubble(cls, text) {
    const div = document.createElement('div');
    div.className = 'msg ' + cls;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  // Only the latest choices are live: older buttons are switched off once the conversation moves on.
  function retireChoices() { log.querySelectorAll('.choices button').forEach((x) => (x.disabled = true)); }
  function render(m) {
    if (m.from === 'me') { if (!sent.has(m.clientId)) { retireChoices(); bubble('me', m.text); } return; }
    if (m.choices && m.choices.length) retireChoices();
    const div = bubble('bot', '');
    if (m.image && m.image.url) { const img = document.createElement('img'); img.src = m.image.url; img.alt = ''; div.appendChild(img); }
    else if (m.image && m.image.media) {
      // Stored photos need the session header, which an <img src> cannot send: fetch, then a blob URL.
      const img = document.createElement('img'); img.alt = ''; div.insertBefore(img, div.firstChild);
      fetch(m.image.media, { headers: { 'x-chat-token': token } })
        .then((r) => (r.ok ? r.blob() : null))
        .then((b) => { if (b) { img.src = URL.createObjectURL(b); img.onload = () => { log.scrollTop = log.scrollHeight; }; } else img.remove(); })
        .catch(() => img.remove());
    }
    div.appendChild(document.createTextNode(m.text));
    if (m.choices && m.choices.length) {
      const box = document.createElement('div');
      box.className = 'choices';
      for (const row of m.choices) for (const c of row) {
        const b = document.createElement('button');
        b.type = 'button'; b.textContent = c.label;
        b.onclick = () => { retireChoices(); bubble('me', c.label); send({ choice: c.value, label: c.label }); };
        box.appendChild(b);
      }
      div.appendChild(box);
    }
    if (m.requestPhone) { const h = document.createElement('div'); h.className = 'hint'; h.textContent = UI.phoneHint; div.appendChild(h); input.type = 'tel'; }
    else input.type = 'text';
    log.scrollTop = log.scrollHeight;
  }
  async function api(path, options = {}) {
    const headers = Object.assign({ 'x-chat-token': token || '' }, options.headers || {});
    const res = await fetch('/chat/api/' + path, Object.assign({}, options, { headers }));
    // A session the server no longer knows: start a new one (the next call creates it).
    if (res.status === 401 && token) { token = null; lost = true; localStorage.removeItem('punkto.chat.token'); }
    if (!res.ok) {
      const problem = await res.json().catch(() => null);
      const e = new Error(String(res.status));
      e.status = res.status; e.retryAfter = Number(res.headers.get('retry-after')) || 0;
      e.text = problem && problem.details && problem.details.text;
      throw e;
    }
    return res.status === 204 ? null : res.json();
  }
  // While the service is briefly away (503 with Retry-After, or no answer at all) a message is
  // sent again by itself, with the same id, so the server takes it once however often it arrives.
  async function retrying(fn) {
    for (let attempt = 0; ; attempt++) {
      try { return await fn(); } catch (e) {
        if ((e.status && e.status !== 503) || attempt >= 60) throw e;
        status.textContent = UI.offline;
        await new Promise((r) => setTimeout(r, Math.max(1000, (e.retryAfter || 2) * 1000)));
      }
    }
  }
  let starting = null;
  function session() {
    if (token) return Promise.resolve();
    starting = starting || api('session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lang: LANG }) })
      .then((r) => {
        token = r.token; localStorage.setItem('punkto.chat.token', token); after = 0;
        if (lost) { lost = false; setTimeout(() => send({ text: '/start' }), 0); }
      })
      .finally(() => { starting = null; });
    return starting;
  }
  async function send(body) {
    try {
      const id = uid();
      sent.add(id);
      const message = JSON.stringify(Object.assign({ id, lang: navigator.language || LANG }, body));
      await retrying(() => session().then(() => api('messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: message })));
      status.textContent = '';
    } catch (e) { status.textContent = UI.offline; }
  }
  let polling = false;
  // One long poll at a time: the server answers as soon as a message for this chat arrives.
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      await session();
      const r = await api('messages?after=' + after + '&wait=20');
      // Render each message once, even if a retried poll returns it again.
      for (const m of r.messages) { if (m.id <= after) continue; render(m); after = m.id; }
      status.textContent = '';
    } catch (e) { status.textContent = UI.offline; await new Promise((r) => setTimeout(r, 3000)); }
    polling = false;
    setTimeout(poll, 100);
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    retireChoices();
    bubble('me', text);
    send({ text });
  });
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    file.value = '';
    if (!f) return;
    if (f.size > 10 * 1024 * 1024) { status.textContent = UI.tooBig; return; }
    const div = bubble('me', UI.uploading);
    try {
      const id = uid();
      sent.add(id);
      await retrying(() => session().then(() => api('photo?id=' + encodeURIComponent(id), { method: 'POST', headers: { 'content-type': f.type || 'image/jpeg' }, body: f })));
      div.textContent = '📷 ' + f.name;
      status.textContent = '';
    } catch (e) { div.remove(); status.textContent = e.text || UI.offline; }
  });
  (async () => {
    try {
      await session();
      poll();
      if (!returning || location.hash.length > 1) await send({ text: '/start' + (location.hash.length > 1 ? ' ' + location.hash.slice(1) : '') });
    } catch (e) { status.textContent = UI.offline; }
  })();
})();
</script>
</body>
</html>`;
}
