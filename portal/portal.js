// The consumer portal: one customer (an application) manages its own webhook endpoints. Standard web platform only
// (no framework, no build step, no CDN): the page is small, and nothing in it needs updating but itself. Every
// call goes to hookrelay's public REST API with the session token, so the page can do exactly what an application
// key can. Data is put into the page as text nodes only (never as HTML).

const TOKEN_KEY = 'hookrelay.portal.token';
const main = document.getElementById('main');
const banner = document.getElementById('banner');

// ---- session ------------------------------------------------------------------------------------------------

/** The token arrives in the fragment (kept out of server logs), moves to sessionStorage, and leaves the URL. */
function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', `${location.pathname}${location.search}#/endpoints`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}
let token = takeToken();

// ---- theme and embedding ------------------------------------------------------------------------------------

const params = new URLSearchParams(location.search);
if (params.get('theme') === 'dark') document.documentElement.classList.add('dark');
const primary = params.get('primary');
if (primary && /^#?[0-9a-fA-F]{3,8}$/.test(primary)) document.documentElement.style.setProperty('--primary', primary.startsWith('#') ? primary : `#${primary}`);
if (params.get('header') === '0') document.getElementById('top').classList.add('hidden');

/** Tells the embedding page that something changed, so it can react (postMessage; only inside a frame). */
function notifyHost(action, detail = {}) {
  if (window.parent === window) return;
  let origin = '*';
  try {
    if (document.referrer) origin = new URL(document.referrer).origin;
  } catch {
    // keep '*': only origins allowed by frame-ancestors can embed the page at all
  }
  window.parent.postMessage({ type: 'hookrelay.portal', action, ...detail }, origin);
}

// ---- DOM helpers ------------------------------------------------------------------------------------------

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const svg = (tag, attrs, ...children) => {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
};
const show = (...nodes) => {
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  main.focus();
};
// Each navigation is numbered; a view draws only while it is the latest one asked for, so a slower view that was
// left (its answers still coming) never replaces the page that is shown now.
let routeSeq = 0;
function paint() {
  const seq = routeSeq;
  return (...nodes) => {
    if (seq === routeSeq) show(...nodes);
  };
}
const badge = (value) => h('span', { class: `badge b-${value}` }, value);
const HEALTH_HINT = {
  healthy: 'Health over the last 24 h: (nearly) every attempt succeeded',
  slow: 'Health over the last 24 h: not failing, but most of the latest attempts timed out or took longer than 5 s',
  degraded: 'Health over the last 24 h: some attempts failed',
  failing: 'Health over the last 24 h: every one of the latest attempts failed',
  unknown: 'Health over the last 24 h: no attempt in that time',
};
const healthBadge = (value) => h('span', { class: `badge b-${value}`, title: HEALTH_HINT[value] ?? 'Health over the last 24 h' }, value);
// Why a delivery's next attempt waits to be sent (it burns no attempt meanwhile).
const WAIT_REASON = {
  endpoint_in_flight: 'endpoint at its in-flight bound',
  application_share: 'your share of the delivery capacity is in use',
  worker_capacity: 'delivery workers at capacity',
  proxy_unavailable: 'our egress proxy is unavailable (not your endpoint); it will be sent once it is back',
  resolver_unavailable: 'our DNS resolver is unavailable (not your endpoint); it will be sent once it is back',
};
const waitingText = (w) => `waiting: ${WAIT_REASON[w.reason] ?? w.reason}`;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
const enc = encodeURIComponent;

// A banner that reports the service unreachable, unavailable or busy goes with the next answer that works;
// any other (a confirmation, an error of an action) stays until the next page is shown, so a page that keeps
// polling (a recovery's progress, statistics) does not wipe it a second later.
let bannerTransient = false;
function setBanner(text, kind = '', transient = false) {
  banner.textContent = text ?? '';
  banner.className = `banner ${kind}`;
  banner.hidden = !text;
  bannerTransient = transient;
}
function clearActionError() {
  if (banner.classList.contains('error') && !bannerTransient) setBanner('');
}

// ---- API --------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'error';
    this.details = body?.error?.details ?? [];
  }
}

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    setBanner('The webhook service cannot be reached. Check your connection and try again.', 'error', true);
    throw new ApiError(0, null);
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) {
    expired();
    throw new ApiError(401, data);
  }
  if (res.status === 503) {
    setBanner('The webhook service is temporarily unavailable. Nothing was changed; try again in a moment.', 'error', true);
    throw new ApiError(503, data);
  }
  if (res.status === 429) {
    const after = res.headers.get('retry-after');
    setBanner(`Too many requests. Try again${after ? ` in ${after} s` : ' in a moment'}.`, 'error', true);
    throw new ApiError(429, data);
  }
  if (res.status >= 400) throw new ApiError(res.status, data);
  if (bannerTransient) setBanner('');
  return data;
}

function expired() {
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById('top').classList.add('hidden');
  setBanner('');
  show(
    h('div', { class: 'notice', role: 'alert' },
      h('h1', null, 'Your session has ended'),
      h('p', null, 'For your security, portal sessions expire. Open the webhooks portal again from the application you came from.'),
    ),
  );
}

/** Puts an API error next to the fields it names, or above the form. */
function showErrors(form, err) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  if (!(err instanceof ApiError) || err.status === 0 || err.status >= 500 || err.status === 429 || err.status === 401) return;
  let placed = false;
  for (const d of err.details) {
    const name = String(d.path ?? '').split('.')[0];
    const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const id = `err-${name}`;
      input.setAttribute('aria-describedby', id);
      input.closest('.field')?.append(h('p', { class: 'field-error', id }, d.message));
      placed = true;
    }
  }
  if (!placed) form.prepend(h('p', { class: 'field-error', role: 'alert' }, err.message));
  form.querySelector('[aria-invalid="true"]')?.focus();
}

// ---- state shared by views -----------------------------------------------------------------------------

// The producer's own alerts go only to its organization-level webhooks: not a customer's to subscribe to.
const OPERATIONAL = new Set(['webhook.disabled', 'webhook.failing', 'webhook.recovered', 'delivery.exhausted']);
let app = null;
let catalog = null;
/** Every item of a list, page after page (a select or a form needs them all: the catalog, the endpoints). */
async function all(path) {
  const items = [];
  for (let page = 1; page <= 1000; page++) {
    const r = await api('GET', `${path}${path.includes('?') ? '&' : '?'}per_page=100&page=${page}`);
    items.push(...r.data);
    if (!r.pagination.has_more) break;
  }
  return items;
}
async function loadCatalog() {
  if (!catalog) catalog = (await all('/v1/event-types')).filter((t) => !t.archived && !OPERATIONAL.has(t.name));
  return catalog;
}

/** "Previous" / "Next" links under a paged list, and where the page is in it (nothing when all fits on one). */
function pager(pagination, hrefFor) {
  const { page, per_page: size, total, has_more: more } = pagination;
  if (page === 1 && !more) return null;
  const first = (page - 1) * size + 1;
  return h('nav', { class: 'row pager', 'aria-label': 'Pages' },
    page > 1 ? h('a', { class: 'button secondary', href: hrefFor(page - 1), rel: 'prev' }, 'Previous') : null,
    h('span', { class: 'muted' }, total > 0 ? `${first}–${Math.min(total, first + size - 1)} of ${total}` : `page ${page}`),
    more ? h('a', { class: 'button secondary', href: hrefFor(page + 1), rel: 'next' }, 'Next') : null,
  );
}
const pageOf = (q) => Math.max(1, Math.min(10_000, Number.parseInt(q.get('page') ?? '1', 10) || 1));
const PAGE_SIZE = 50;

// ---- views ------------------------------------------------------------------------------------------------

async function endpointsView(query) {
  const show = paint();
  const page = pageOf(new URLSearchParams(query));
  const { data, pagination } = await api('GET', `/v1/webhooks?per_page=${PAGE_SIZE}&page=${page}`);
  const add = h('a', { class: 'button', href: '#/endpoints/new' }, 'Add endpoint');
  if (data.length === 0 && page === 1) {
    return show(h('h1', null, 'Endpoints'), h('div', { class: 'card notice' }, h('p', null, 'No endpoints yet. Add the URL where you want to receive webhooks.'), add));
  }
  show(
    h('div', { class: 'row spread' }, h('h1', null, 'Endpoints'), add),
    h('ul', { class: 'list', 'aria-label': 'Endpoints' },
      data.map((w) =>
        h('li', null,
          h('a', { class: 'grow', href: `#/endpoints/${enc(w.id)}` }, w.url),
          h('span', { class: 'muted' }, w.events ? w.events.join(', ') : 'all events'),
          badge(w.status === 'disabled' ? 'disabled' : 'active'),
          healthBadge(w.health_status),
        ),
      ),
    ),
    pager(pagination, (n) => `#/endpoints?page=${n}`),
  );
}

function field(label, input, hint) {
  const id = `f-${input.getAttribute('name')}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
}

async function endpointForm(id) {
  const show = paint();
  const [types, existing] = await Promise.all([loadCatalog(), id ? api('GET', `/v1/webhooks/${enc(id)}`) : null]);
  const chosen = new Set(existing?.events ?? []);
  const all = existing ? existing.events === null : true;
  const typeBoxes = types.map((t) =>
    h('div', { class: 'type' },
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'events', value: t.name, checked: chosen.has(t.name) }), h('code', null, t.name)),
      t.deprecated ? h('span', { class: 'badge b-degraded long' }, `deprecated${t.replaced_by ? `: use ${t.replaced_by}` : ''}`) : null,
      t.description ? h('p', { class: 'hint' }, t.description) : null,
      t.schema?.examples?.[0] !== undefined ? h('details', null, h('summary', null, 'Example payload'), h('pre', null, JSON.stringify(t.schema.examples[0], null, 2))) : null,
    ),
  );
  const allBox = h('input', { type: 'checkbox', name: 'all_events', checked: all && chosen.size === 0 });
  // Ticking a type means "these types"; ticking "all" clears them.
  allBox.addEventListener('change', () => {
    if (allBox.checked) for (const b of typeBoxes.map((t) => t.querySelector('input'))) b.checked = false;
  });
  for (const b of typeBoxes.map((t) => t.querySelector('input'))) b.addEventListener('change', () => b.checked && (allBox.checked = false));
  const headerText = existing ? Object.entries(existing.headers).map(([k, v]) => `${k}: ${v}`).join('\n') : '';
  const form = h('form', { novalidate: true },
    field('Endpoint URL', h('input', { type: 'url', name: 'url', required: true, value: existing?.url ?? '', placeholder: 'https://example.com/webhooks', autocomplete: 'url' })),
    field('Description', h('input', { type: 'text', name: 'description', value: existing?.description ?? '' })),
    h('div', { class: 'field' },
      h('fieldset', { class: 'types' }, h('legend', null, 'Events to receive'),
        h('label', { class: 'inline' }, allBox, 'All event types'),
        typeBoxes),
    ),
    field('Channels', h('input', { type: 'text', name: 'channels', value: existing?.channels?.join(', ') ?? '' }), 'Comma-separated; empty = every channel.'),
    field('Custom headers', h('textarea', { name: 'headers', value: headerText, placeholder: 'Authorization: Bearer …' }), 'One "Name: value" per line, sent with every delivery. Secret values are stored encrypted and shown as ••••••••: leave it to keep the value, or type a new one.'),
    field('Secret headers', h('input', { type: 'text', name: 'secret_headers', value: existing?.secret_headers?.join(', ') ?? '', placeholder: 'X-Customer-Key' }), 'Comma-separated names of more headers to keep secret. Authorization, Cookie, API keys, tokens and the like always are.'),
    field('Payload filter', h('textarea', { name: 'filter', value: existing?.filter ? JSON.stringify(existing.filter, null, 2) : '', placeholder: '{"data.amount": {"$gte": 100}}' }), 'Optional: a MongoDB-style query on {id, type, timestamp, channels, data}.'),
    field('Rate limit (deliveries per second)', h('input', { type: 'number', name: 'rate_limit_per_s', min: 1, value: existing?.rate_limit_per_s ?? '' }), 'Optional.'),
    field('Max concurrent requests', h('input', { type: 'number', name: 'max_in_flight', min: 1, max: 1000, step: 1, inputmode: 'numeric', value: existing?.max_in_flight ?? '', placeholder: 'Default' }), 'Requests sent to this endpoint at once by each delivery worker, 1–1000. Empty = the default. Further deliveries wait their turn without using up a retry.'),
    h('div', { class: 'row', style: null }, h('button', { type: 'submit' }, existing ? 'Save' : 'Create endpoint'), h('a', { class: 'button secondary', href: existing ? `#/endpoints/${enc(id)}` : '#/endpoints' }, 'Cancel')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body = { url: String(f.get('url') ?? '').trim(), description: String(f.get('description') ?? '') };
    const events = f.getAll('events').map(String);
    body.events = f.get('all_events') || events.length === 0 ? null : events;
    const channels = String(f.get('channels') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    body.channels = channels.length ? channels : null;
    body.headers = Object.fromEntries(String(f.get('headers') ?? '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
    // Only names of headers given: one secret by name needs no mark, and a mark left on a removed header is dropped.
    const secretHeaders = String(f.get('secret_headers') ?? '').split(',').map((s) => s.trim()).filter((n) => n && Object.keys(body.headers).some((k) => k.toLowerCase() === n.toLowerCase()));
    body.secret_headers = secretHeaders.length ? secretHeaders : null;
    const filter = String(f.get('filter') ?? '').trim();
    try {
      body.filter = filter ? JSON.parse(filter) : null;
    } catch {
      return showErrors(form, new ApiError(400, { error: { message: 'invalid', details: [{ path: 'filter', message: 'must be JSON' }] } }));
    }
    const rate = String(f.get('rate_limit_per_s') ?? '').trim();
    body.rate_limit_per_s = rate ? Number(rate) : null;
    const inFlight = String(f.get('max_in_flight') ?? '').trim();
    body.max_in_flight = inFlight ? Number(inFlight) : null;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const saved = existing ? await api('PATCH', `/v1/webhooks/${enc(id)}`, body) : await api('POST', '/v1/webhooks', body);
      notifyHost(existing ? 'endpoint.updated' : 'endpoint.created', { endpoint_id: saved.id });
      if (!existing && saved.secret) sessionStorage.setItem(`hookrelay.portal.new.${saved.id}`, '1');
      location.hash = `#/endpoints/${enc(saved.id)}`;
    } catch (err) {
      showErrors(form, err);
    } finally {
      button.disabled = false;
    }
  });
  show(h('h1', null, existing ? 'Edit endpoint' : 'Add endpoint'), form);
}

/** Deliveries over time as stacked bars; the labels are HTML under the drawing, so they keep their size on a phone. */
function chart(series) {
  const W = 600;
  const H = 140;
  const max = Math.max(1, ...series.map((b) => b.delivered + b.failed + b.other));
  const bw = W / Math.max(1, series.length);
  const g = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Deliveries over time: delivered, failed and other' });
  g.append(svg('line', { class: 'axis', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }));
  series.forEach((b, i) => {
    let y = H;
    for (const [n, cls] of [[b.delivered, 'ok'], [b.failed, 'bad'], [b.other, 'other']]) {
      if (!n) continue;
      const hgt = (n / max) * (H - 4);
      y -= hgt;
      g.append(svg('rect', { class: cls, x: i * bw + 1, y, width: Math.max(1, bw - 2), height: hgt }, svg('title', null, `${new Date(b.at).toLocaleString()}: ${n} ${cls === 'ok' ? 'delivered' : cls === 'bad' ? 'failed' : 'other'}`)));
    }
  });
  const start = new Date(series[0]?.at ?? Date.now()).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const key = (cls, label) => h('span', null, h('i', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), label);
  return h('figure', { class: 'chart' },
    h('div', { class: 'chart-scale muted' }, series.some((b) => b.delivered + b.failed + b.other > 0)
      ? `${max} per ${series.length > 1 && Date.parse(series[1].at) - Date.parse(series[0].at) > 3600_000 ? 'day' : 'hour'} at most`
      : 'No deliveries in this window.'),
    g,
    h('div', { class: 'chart-axis muted' }, h('span', null, start), h('span', null, 'now')),
    h('figcaption', { class: 'chart-key muted' }, key('ok', 'delivered'), key('bad', 'failed'), key('other', 'pending or other')),
  );
}

async function statsBlock(id, windowName) {
  const s = await api('GET', `/v1/webhooks/${enc(id)}/stats?window=${windowName}`);
  const pct = s.success_rate === null ? '–' : `${(s.success_rate * 100).toFixed(1)} %`;
  const ms = (v) => (v === null ? '–' : `${v} ms`);
  // The API's one definition (docs/api.md, "Statistics"): the share of finished attempts that succeeded; the
  // deliveries are counted apart, by what became of them.
  return h('div', null,
    h('div', { class: 'stats' },
      h('div', { class: 'stat', title: 'Finished attempts that got a 2xx answer. A delivery that succeeded on its third attempt counts one success and two failures.' }, h('b', null, pct), 'of attempts succeeded'),
      h('div', { class: 'stat' }, h('b', null, `${s.attempts.succeeded} / ${s.attempts.failed}`), 'attempts succeeded / failed'),
      h('div', { class: 'stat' }, h('b', null, String(s.deliveries.delivered)), 'deliveries delivered'),
      h('div', { class: 'stat', title: 'Deliveries that used up their retries' }, h('b', null, String(s.deliveries.failed)), 'deliveries failed'),
      h('div', { class: 'stat' }, h('b', null, `${ms(s.latency_ms.p50)} / ${ms(s.latency_ms.p95)} / ${ms(s.latency_ms.p99)}`), 'latency p50 / p95 / p99'),
    ),
    chart(s.series),
  );
}

/** Puts an element's text on the clipboard; where the browser refuses, selects it for the user to copy. */
async function copyText(el) {
  try {
    await navigator.clipboard.writeText(el.textContent);
    return true;
  } catch {
    getSelection().selectAllChildren(el);
    return false;
  }
}

async function endpointView(id) {
  const show = paint();
  const w = await api('GET', `/v1/webhooks/${enc(id)}`);
  const justCreated = sessionStorage.getItem(`hookrelay.portal.new.${id}`);
  sessionStorage.removeItem(`hookrelay.portal.new.${id}`);
  const secretOut = h('code', { class: 'secret', 'aria-live': 'polite' }, '••••••••••••••••');
  // An action starts by taking down an earlier action's error (a confirmation stays until the next page; the
  // unreachable/503/429 notices stay until an answer works).
  const act = (label, fn, cls) => h('button', { type: 'button', class: cls, onclick: (e) => { clearActionError(); return fn(e); } }, label);
  const testOut = h('div', { 'aria-live': 'polite' });
  const statsOut = h('div', null, h('p', { class: 'muted' }, 'Loading statistics…'));
  const loadStats = async (win) => statsOut.replaceChildren(await statsBlock(id, win));

  // Revealed, the secret can be hidden again and copied; hidden, neither the text nor the copy button is there.
  const HIDDEN = '••••••••••••••••';
  const showSecret = (secret) => {
    secretOut.textContent = secret ?? HIDDEN;
    reveal.textContent = secret ? 'Hide secret' : 'Reveal secret';
    copy.hidden = !secret;
    copy.textContent = 'Copy secret';
  };
  const reveal = act('Reveal secret', async () => {
    if (secretOut.textContent !== HIDDEN) return showSecret(null);
    const full = await api('GET', `/v1/webhooks/${enc(id)}?include_secret=true`);
    showSecret(full.secret);
  }, 'secondary');
  const copy = act('Copy secret', async () => {
    copy.textContent = (await copyText(secretOut)) ? 'Copied' : 'Selected: press Ctrl+C';
  }, 'secondary');
  copy.hidden = true;
  const rotate = act('Rotate secret', async () => {
    const r = await api('POST', `/v1/webhooks/${enc(id)}/rotate-secret`, {});
    showSecret(r.secret);
    notifyHost('endpoint.secret_rotated', { endpoint_id: id });
    setBanner('New secret in use. The previous one keeps signing too (a second signature) for 24 hours, so you can switch without missing a webhook.');
  }, 'secondary');
  const sendTest = act('Send test event', async () => {
    testOut.replaceChildren(h('p', { class: 'muted' }, 'Sending…'));
    let d;
    try {
      d = await api('POST', `/v1/webhooks/${enc(id)}/test`, {});
    } catch (err) {
      testOut.replaceChildren(h('p', { class: 'field-error' }, err.status === 503 || err.status === 429 || err.status === 0 ? 'Not sent.' : `Not sent: ${err.message}`));
      return;
    }
    const a = d.attempts?.[d.attempts.length - 1];
    testOut.replaceChildren(h('p', null, 'Test event: ', badge(d.status), a ? ` HTTP ${a.status_code ?? '–'} in ${a.duration_ms} ms${a.error ? ` (${a.error})` : ''} ` : ' ', h('a', { href: `#/deliveries/${enc(d.id)}` }, 'View delivery')));
  });

  const toggle = h('div', { class: 'card' });
  if (w.status === 'active') {
    toggle.append(h('p', null, 'Disabling holds deliveries: events published meanwhile are kept and delivered in order when you enable the endpoint again.'),
      act('Disable endpoint', async () => {
        await api('PATCH', `/v1/webhooks/${enc(id)}`, { disabled: true });
        notifyHost('endpoint.disabled', { endpoint_id: id });
        route();
      }, 'secondary'));
  } else {
    const since = h('input', { type: 'datetime-local', name: 'recover_since' });
    toggle.append(
      h('p', null, `This endpoint is disabled${w.disabled_reason === 'user' ? '' : ` (${w.disabled_reason === 'gone' ? 'it answered 410 Gone' : 'it kept failing'})`}. Held deliveries are released in order when you enable it.`),
      h('div', { class: 'field' }, h('label', { for: 'f-recover_since' }, 'Also re-deliver what failed or was skipped since (optional)'), Object.assign(since, { id: 'f-recover_since' })),
      act('Enable endpoint', async () => {
        const body = { disabled: false };
        if (since.value) body.recover_since = new Date(since.value).toISOString();
        const r = await api('PATCH', `/v1/webhooks/${enc(id)}`, body);
        notifyHost('endpoint.enabled', { endpoint_id: id });
        if (r.recovery) sessionStorage.setItem('hookrelay.portal.recovery', JSON.stringify({ webhook: id, id: r.recovery.id }));
        route();
      }),
    );
  }

  const recoverSince = h('input', { type: 'datetime-local', name: 'since', id: 'f-since' });
  const recoverOut = h('div', { 'aria-live': 'polite' });
  const follow = async (recId) => {
    for (let i = 0; i < 600; i++) {
      const r = await api('GET', `/v1/webhooks/${enc(id)}/recoveries/${enc(recId)}`);
      recoverOut.replaceChildren(h('p', null, `Recovery ${r.status}: ${r.recovered} re-delivered`));
      if (r.status === 'completed' || !document.body.contains(recoverOut)) return;
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  };
  const recoverForm = h('form', { novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'f-since' }, 'Re-deliver everything that failed since'), recoverSince),
    h('button', { type: 'submit', class: 'secondary' }, 'Recover'),
  );
  recoverForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', `/v1/webhooks/${enc(id)}/recover`, { since: recoverSince.value ? new Date(recoverSince.value).toISOString() : '' });
      notifyHost('endpoint.recovery_started', { endpoint_id: id, recovery_id: r.id });
      follow(r.id);
    } catch (err) {
      showErrors(recoverForm, err);
    }
  });
  const pending = JSON.parse(sessionStorage.getItem('hookrelay.portal.recovery') ?? 'null');
  if (pending?.webhook === id) {
    sessionStorage.removeItem('hookrelay.portal.recovery');
    follow(pending.id);
  }

  const confirmBox = h('div', { class: 'row' });
  const del = act('Delete endpoint', () => {
    confirmBox.replaceChildren(
      h('span', { role: 'alert' }, 'Delete this endpoint? Nothing more is sent to it, and this cannot be undone.'),
      act('Yes, delete', async () => {
        await api('DELETE', `/v1/webhooks/${enc(id)}`);
        notifyHost('endpoint.deleted', { endpoint_id: id });
        location.hash = '#/endpoints';
      }, 'danger'),
      act('Cancel', () => confirmBox.replaceChildren(del), 'secondary'),
    );
    confirmBox.querySelector('button')?.focus();
  }, 'danger');
  confirmBox.append(del);

  const windows = h('div', { class: 'row', role: 'group', 'aria-label': 'Statistics window' },
    act('24 hours', () => loadStats('24h'), 'secondary'), act('7 days', () => loadStats('7d'), 'secondary'));

  show(
    h('p', null, h('a', { href: '#/endpoints' }, '← Endpoints')),
    h('h1', null, w.url),
    h('div', { class: 'row' }, badge(w.status === 'disabled' ? 'disabled' : 'active'), healthBadge(w.health_status), h('a', { class: 'button secondary', href: `#/endpoints/${enc(id)}/edit` }, 'Edit'), h('a', { class: 'button secondary', href: `#/deliveries?endpoint=${enc(id)}` }, 'Delivery log')),
    h('dl', { class: 'kv' },
      h('dt', null, 'Events'), h('dd', null, w.events ? w.events.join(', ') : 'all event types'),
      h('dt', null, 'Channels'), h('dd', null, w.channels ? w.channels.join(', ') : 'all'),
      h('dt', null, 'Description'), h('dd', null, w.description || '–'),
      h('dt', null, 'Rate limit'), h('dd', null, w.rate_limit_per_s ? `${w.rate_limit_per_s}/s` : 'none'),
      h('dt', null, 'Max concurrent requests'), h('dd', null, w.max_in_flight ? String(w.max_in_flight) : 'default'),
    ),
    h('h2', null, 'Signing secret'),
    justCreated ? h('p', null, 'Endpoint created. Verify each webhook with this secret (Standard Webhooks signatures).') : null,
    h('div', { class: 'row' }, secretOut, reveal, copy, rotate),
    h('p', { class: 'hint' }, 'Rotating keeps the previous secret valid for 24 hours: each webhook carries both signatures meanwhile.'),
    h('h2', null, 'Test'), h('div', { class: 'row' }, sendTest), testOut,
    h('h2', null, 'Deliveries'), windows, statsOut,
    h('h2', null, w.status === 'active' ? 'Pause' : 'Enable'), toggle,
    h('h2', null, 'Recover'), recoverForm, recoverOut,
    h('h2', null, 'Danger zone'), confirmBox,
  );
  loadStats('24h').catch(() => statsOut.replaceChildren(h('p', { class: 'muted' }, 'Statistics are not available right now.')));
}

async function deliveriesView(query) {
  const show = paint();
  const [endpoints, types] = await Promise.all([all('/v1/webhooks'), loadCatalog()]);
  const q = new URLSearchParams(query);
  const page = pageOf(q);
  const sel = (name, options, value) => h('select', { name, id: `f-${name}` }, options.map(([v, label]) => h('option', { value: v, selected: v === value ? true : null }, label)));
  const form = h('form', { class: 'filters' },
    h('div', null, h('label', { for: 'f-endpoint' }, 'Endpoint'), sel('endpoint', [['', 'All endpoints'], ...endpoints.map((w) => [w.id, w.url])], q.get('endpoint') ?? '')),
    h('div', null, h('label', { for: 'f-status' }, 'Status'), sel('status', [['', 'Any status'], ...['delivered', 'failed', 'pending', 'paused', 'skipped', 'cancelled'].map((s) => [s, s])], q.get('status') ?? '')),
    h('div', null, h('label', { for: 'f-event_type' }, 'Event type'), sel('event_type', [['', 'Any type'], ...types.map((t) => [t.name, t.name])], q.get('event_type') ?? '')),
    h('div', null, h('label', { for: 'f-since' }, 'Since'), h('input', { type: 'datetime-local', name: 'since', id: 'f-since', value: q.get('since') ?? '' })),
    h('div', null, h('button', { type: 'submit' }, 'Filter')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) f.set(k, String(v));
    location.hash = `#/deliveries?${f}`;
  });
  const api_q = new URLSearchParams({ per_page: String(PAGE_SIZE), page: String(page) });
  if (q.get('status')) api_q.set('status', q.get('status'));
  if (q.get('since')) api_q.set('since', new Date(q.get('since')).toISOString());
  let path;
  if (q.get('endpoint')) {
    if (q.get('event_type')) api_q.set('event', q.get('event_type'));
    path = `/v1/webhooks/${enc(q.get('endpoint'))}/deliveries?${api_q}`;
  } else {
    if (q.get('event_type')) api_q.set('event_type', q.get('event_type'));
    path = `/v1/applications/${enc(app.id)}/deliveries?${api_q}`;
  }
  const { data, pagination } = await api('GET', path);
  const byId = new Map(endpoints.map((w) => [w.id, w.url]));
  const pageHref = (n) => {
    const next = new URLSearchParams(q);
    next.set('page', String(n));
    return `#/deliveries?${next}`;
  };
  show(
    h('h1', null, 'Delivery log'), form,
    data.length === 0
      ? h('div', { class: 'card notice' }, h('p', null, 'No deliveries match.'))
      : h('ul', { class: 'list', 'aria-label': 'Deliveries' },
        data.map((d) => h('li', null,
          badge(d.status),
          h('a', { class: 'grow', href: `#/deliveries/${enc(d.id)}` }, `${d.event} → ${byId.get(d.webhook_id) ?? d.webhook_id}`),
          h('span', { class: 'muted' }, `${d.attempt} attempt${d.attempt === 1 ? '' : 's'}${d.status_code ? `, HTTP ${d.status_code}` : ''}`),
          d.waiting ? h('span', { class: 'waiting', title: `since ${when(d.waiting.since)}` }, waitingText(d.waiting)) : null,
          h('time', { datetime: d.created_at, class: 'muted' }, when(d.created_at)),
        ))),
    pager(pagination, pageHref),
  );
}

async function deliveryView(id) {
  const show = paint();
  const d = await api('GET', `/v1/deliveries/${enc(id)}`);
  const retryNow = async () => {
    clearActionError();
    await api('POST', `/v1/deliveries/${enc(id)}/retry`, {});
    notifyHost('delivery.retried', { delivery_id: id });
    setBanner(d.status === 'delivered' ? 'Sending again now.' : 'Retrying now.');
    setTimeout(route, 1500);
  };
  // A failed delivery (or one waiting for its next attempt) is what "Retry now" is for. A delivered one is done:
  // sending it again is possible (the endpoint gets the same webhook-id), a secondary action that asks first.
  const retry = h('span', { class: 'row' });
  if (d.status === 'delivered') {
    const ask = h('button', { type: 'button', class: 'secondary', onclick: () => {
      retry.replaceChildren(
        h('span', { role: 'alert' }, 'It was delivered. Send it again? Your endpoint receives it a second time, with the same webhook-id.'),
        h('button', { type: 'button', onclick: retryNow }, 'Yes, send it again'),
        h('button', { type: 'button', class: 'secondary', onclick: () => { retry.replaceChildren(ask); ask.focus(); } }, 'Cancel'),
      );
      retry.querySelector('button')?.focus();
    } }, 'Send again');
    retry.append(ask);
  } else {
    retry.append(h('button', { type: 'button', class: d.status === 'failed' || d.status === 'pending' ? null : 'secondary', onclick: retryNow }, 'Retry now'));
  }
  show(
    h('p', null, h('a', { href: `#/deliveries?endpoint=${enc(d.webhook_id)}` }, '← Delivery log')),
    h('h1', null, d.event),
    h('div', { class: 'row' }, badge(d.status), d.waiting ? h('span', { class: 'waiting', title: 'No attempt is used up while it waits' }, waitingText(d.waiting)) : null, retry),
    h('dl', { class: 'kv' },
      h('dt', null, 'Delivery'), h('dd', null, d.id),
      h('dt', null, 'Event id (webhook-id)'), h('dd', null, d.event_id),
      h('dt', null, 'Created'), h('dd', null, when(d.created_at)),
      h('dt', null, 'Next attempt'), h('dd', null, when(d.next_attempt_at)),
      d.waiting ? [h('dt', null, 'Waiting since'), h('dd', null, when(d.waiting.since))] : null,
    ),
    h('h2', null, 'Attempts'),
    d.attempts.length === 0
      ? h('p', { class: 'muted' }, d.status === 'paused' ? 'Held while the endpoint is disabled.' : d.status === 'skipped' ? 'Skipped: the endpoint was disabled when this event was published. A recovery re-delivers it.' : 'No attempt yet.')
      : h('ol', { class: 'timeline', 'aria-label': 'Attempts' },
        d.attempts.map((a) => h('li', null,
          h('div', { class: 'row' }, h('strong', null, `#${a.attempt}`), badge(a.error ? 'failed' : a.in_flight ? 'pending' : 'delivered'), h('time', { datetime: a.created_at }, when(a.created_at))),
          h('div', { class: 'muted' }, `HTTP ${a.status_code ?? '–'} · ${a.duration_ms} ms${a.error ? ` · ${a.error}` : ''}${a.sends > 1 ? ` · sent ${a.sends} times` : ''}`),
          a.response_body ? h('pre', null, a.response_body) : null,
        ))),
    h('h2', null, 'Payload'), h('pre', null, JSON.stringify(d.payload, null, 2)),
  );
}

async function catalogView() {
  const show = paint();
  const types = await loadCatalog();
  show(
    h('h1', null, 'Event catalog'),
    types.length === 0 ? h('div', { class: 'card notice' }, h('p', null, 'No event types yet.'))
      : h('div', null, types.map((t) => h('section', { class: 'card' },
        h('h2', { class: 'row' }, h('code', null, t.name), t.deprecated ? h('span', { class: 'badge b-degraded long' }, `deprecated${t.replaced_by ? `: use ${t.replaced_by}` : ''}`) : null),
        h('p', null, t.description || h('span', { class: 'muted' }, 'No description.')),
        t.schema ? h('details', null, h('summary', null, 'Schema'), h('pre', null, JSON.stringify(t.schema, null, 2))) : h('p', { class: 'muted' }, 'No schema.'),
      ))),
  );
}

// ---- routing ----------------------------------------------------------------------------------------------

async function route() {
  routeSeq++;
  const show = paint();
  setBanner('');
  // A new link opened in the same tab (only the fragment changed): a new session.
  if (/(?:^#|&)token=/.test(location.hash)) {
    token = takeToken();
    app = null;
    catalog = null;
    if (params.get('header') !== '0') document.getElementById('top').classList.remove('hidden');
  }
  if (!token) return expired();
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === (parts[0] ?? 'endpoints')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    if (!app) {
      app = (await api('GET', '/v1/applications')).data[0];
      if (!app) return expired();
      document.getElementById('app-name').textContent = `${app.name} · Webhooks`;
      document.title = `${app.name} · Webhooks`;
    }
    if (parts[0] === 'endpoints' && parts[1] === 'new') return await endpointForm(null);
    if (parts[0] === 'endpoints' && parts[1] && parts[2] === 'edit') return await endpointForm(decodeURIComponent(parts[1]));
    if (parts[0] === 'endpoints' && parts[1]) return await endpointView(decodeURIComponent(parts[1]));
    if (parts[0] === 'deliveries' && parts[1]) return await deliveryView(decodeURIComponent(parts[1]));
    if (parts[0] === 'deliveries') return await deliveriesView(query);
    if (parts[0] === 'catalog') return await catalogView();
    return await endpointsView(query);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 503 || err.status === 429 || err.status === 0)) return;
    if (err instanceof ApiError && err.status === 404) return show(h('div', { class: 'card notice' }, h('h1', null, 'Not found'), h('p', null, 'It may have been deleted.'), h('a', { href: '#/endpoints' }, 'Back to endpoints')));
    setBanner(err.message ?? 'Something went wrong.', 'error');
  }
}

// Errors thrown by button handlers (API answers already shown in the banner) must not go unhandled silently.
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason instanceof ApiError) {
    e.preventDefault();
    if (e.reason.status >= 400 && e.reason.status < 500 && ![401, 429].includes(e.reason.status)) setBanner(e.reason.message, 'error');
  }
});
window.addEventListener('hashchange', route);
route();
