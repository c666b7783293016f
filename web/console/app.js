// The journey console: finds a customer (by customer_id, contact_key or an identification attribute),
// draws the customer's services as lanes with their states (segments coloured by type) and tasks
// (markers), and redraws when live events arrive. Plain DOM and SVG; no build step, no CDN.
const BASE = '/genesys/1/cs';
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

// tenant, group and user name are remembered; the password stays in this page's memory only (the
// input itself) and is never written to storage — and one an older console stored is removed
const settings = ['tenant', 'group', 'user'];
localStorage.removeItem('contextd.password');
for (const id of settings) {
  $(id).value = localStorage.getItem(`contextd.${id}`) ?? '';
  $(id).addEventListener('change', () => localStorage.setItem(`contextd.${id}`, $(id).value));
}

function headers() {
  const h = { accept: 'application/json' };
  if ($('tenant').value) h.ContactCenterId = $('tenant').value;
  if ($('group').value) h.GroupId = $('group').value;
  if ($('user').value) h.Authorization = `Basic ${btoa(`${$('user').value}:${$('password').value}`)}`;
  return h;
}

/** JSON with 64-bit service ids kept exact (as strings). */
function parseJson(text) {
  return JSON.parse(text.replace(/"service_id":(\d{16,})/g, '"service_id":"$1"'));
}

async function api(path) {
  const response = await fetch(BASE + path, { headers: headers() });
  const text = await response.text();
  const body = text ? parseJson(text) : undefined;
  if (!response.ok) throw new Error(body?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

const NESTING = 'active_states=true&completed_states=true&active_tasks=true&completed_tasks=true';
let subject; // { customer_id } or { contact_key }
let lastServices = [];

async function loadServices() {
  if (!subject) return [];
  const path = subject.customer_id !== undefined
    ? `/customers/${encodeURIComponent(subject.customer_id)}/services?${NESTING}`
    : `/services/anonymous/${encodeURIComponent(subject.contact_key)}?${NESTING}`;
  return api(path);
}

async function resolveSubject(mode, query) {
  if (mode === 'customer') return { customer_id: query };
  if (mode === 'contact') return { contact_key: query };
  const matches = await api(`/profiles?${query}`);
  if (matches.length === 0) throw new Error(`no customer matches ${query}`);
  if (matches.length > 1) showChoices(matches);
  return { customer_id: matches[0].customer_id };
}

function showChoices(matches) {
  const summary = $('summary');
  summary.textContent = `${matches.length} customers match; showing the first. Others: `;
  for (const match of matches.slice(1)) {
    const link = document.createElement('a');
    link.href = '#';
    link.textContent = match.customer_id;
    link.addEventListener('click', (event) => {
      event.preventDefault();
      show({ customer_id: match.customer_id });
    });
    summary.append(link, ' ');
  }
}

$('search').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('summary').textContent = '';
  try {
    await show(await resolveSubject($('mode').value, $('query').value.trim()));
  } catch (error) {
    renderMessage(error.message, true);
  }
});

async function show(next) {
  subject = next;
  await refresh();
  listen();
}

async function refresh() {
  try {
    lastServices = await loadServices();
    render(lastServices);
  } catch (error) {
    renderMessage(error.message, true);
  }
}

// ---- drawing ----

const PALETTE = ['#e07a5f', '#3d9970', '#8e6cc0', '#d4a017', '#2a9d8f', '#c0392b', '#5c7cfa', '#b5651d', '#0b7285', '#a61e4d'];
function colourOf(type) {
  const text = String(type ?? '');
  let hash = 2166136261; // FNV-1a: neighbouring names land far apart
  for (const ch of text) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

function el(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatDuration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${(m / 60).toFixed(1)} h`;
}

function renderMessage(text, isError = false) {
  const box = $('timeline');
  box.replaceChildren();
  const p = document.createElement('p');
  p.className = isError ? 'empty error' : 'empty';
  p.textContent = text;
  box.append(p);
}

/** Places intervals on rows so that none overlaps another on the same row. */
function stack(items) {
  const rowsEnd = [];
  return items.map((item) => {
    let row = rowsEnd.findIndex((end) => end <= item.start);
    if (row < 0) row = rowsEnd.push(0) - 1;
    rowsEnd[row] = item.end;
    return { ...item, row };
  });
}

function render(services) {
  if (services.length === 0) {
    renderMessage(`No services for ${subject.customer_id ?? subject.contact_key}.`);
    return;
  }
  const now = Date.now();
  const t = (ts) => Date.parse(ts);
  let min = Infinity;
  let max = -Infinity;
  // an element never ended in a completed service ends with its service: left open, not active to now
  const serviceEnd = (s) => (s.completed ? t(s.completed.timestamp) : now);
  const endOf = (element, service) => (element.completed ? t(element.completed.timestamp) : serviceEnd(service));
  const statusOf = (element, service, ms) => (element.completed ? formatDuration(ms) : service.completed ? 'left open' : 'active');
  const openClass = (element, service) => (element.completed ? '' : service.completed ? ' left-open' : ' open');
  for (const s of services) {
    min = Math.min(min, t(s.started.timestamp));
    max = Math.max(max, serviceEnd(s));
    for (const st of [...(s.active_states ?? []), ...(s.completed_states ?? [])]) max = Math.max(max, endOf(st, s));
  }
  if (max - min < 1000) max = min + 1000;
  const width = Math.max(700, $('timeline').clientWidth - 40);
  const left = 190;
  const right = 30;
  const x = (ms) => left + ((ms - min) / (max - min)) * (width - left - right);

  const svg = el('svg', { width, role: 'img', 'aria-label': 'journey timeline' });
  let y = 30;
  // time axis
  const axis = el('g', { class: 'axis' });
  // the date on the first tick and wherever the day changes: a journey can span days
  let previousDay = '';
  for (let i = 0; i <= 4; i++) {
    const ms = min + ((max - min) * i) / 4;
    const at = new Date(ms);
    const day = at.toLocaleDateString(undefined, { month: 'short', day: 'numeric', ...(at.getFullYear() === new Date(now).getFullYear() ? {} : { year: 'numeric' }) });
    const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', ...(max - min < 10 * 60_000 ? { second: '2-digit' } : {}) });
    axis.append(el('line', { x1: x(ms), x2: x(ms), y1: 18, y2: 10000 }));
    axis.append(el('text', { x: x(ms), y: 12, 'text-anchor': 'middle', class: 'tick' }, day === previousDay ? time : `${day} ${time}`));
    previousDay = day;
  }
  svg.append(axis);

  const ordered = [...services].sort((a, b) => t(a.started.timestamp) - t(b.started.timestamp));
  for (const service of ordered) {
    const lane = el('g', { class: 'lane', 'data-service': service.service_id });
    const start = t(service.started.timestamp);
    const end = service.completed ? t(service.completed.timestamp) : now;
    const open = !service.completed;
    lane.append(el('text', { x: 8, y: y + 14, class: 'lane-label' }, `${service.service_type ?? 'service'} #${service.service_id}`));
    lane.append(el('text', { x: 8, y: y + 29, class: 'lane-sub' }, `${open ? 'active' : 'completed'} · ${formatDuration(end - start)}`));
    const bar = el('rect', { x: x(start), y, width: Math.max(3, x(end) - x(start)), height: 34, class: `service-bar${open ? ' open' : ''}`, 'data-kind': 'service', 'data-id': service.service_id });
    bar.append(el('title', {}, `service ${service.service_id} · ${service.service_type ?? ''} · ${open ? 'active' : formatDuration(end - start)}`));
    lane.append(bar);
    lane.append(el('line', { x1: x(start), x2: x(end), y1: y + 17, y2: y + 17, class: `service-line${open ? ' open' : ''}` }));

    const states = stack(
      [...(service.active_states ?? []), ...(service.completed_states ?? [])]
        .map((st) => ({ st, start: t(st.started.timestamp), end: endOf(st, service) }))
        .sort((a, b) => a.start - b.start || a.st.state_id - b.st.state_id),
    );
    const stateTop = y + 42;
    for (const { st, start: s0, end: s1, row } of states) {
      const sy = stateTop + row * 26;
      const w = Math.max(4, x(s1) - x(s0));
      const g = el('g');
      const rect = el('rect', {
        x: x(s0), y: sy, width: w, height: 22, fill: colourOf(st.state_type),
        class: `state-seg${openClass(st, service)}`, 'data-kind': 'state', 'data-id': st.state_id, 'data-service': service.service_id,
      });
      rect.append(el('title', {}, `state ${st.state_id} · ${st.state_type} · ${statusOf(st, service, s1 - s0)}`));
      g.append(rect);
      if (w > 60) g.append(el('text', { x: x(s0) + 6, y: sy + 15, class: `state-label${openClass(st, service)}` }, `${st.state_type} · ${statusOf(st, service, s1 - s0)}`));
      lane.append(g);
    }
    const stateRows = states.reduce((n, s) => Math.max(n, s.row + 1), 0);
    const taskY = stateTop + stateRows * 26 + 10;
    const tasks = [...(service.active_tasks ?? []), ...(service.completed_tasks ?? [])];
    for (const task of tasks) {
      const k0 = t(task.started.timestamp);
      const k1 = endOf(task, service);
      if (task.completed) lane.append(el('line', { x1: x(k0), x2: x(k1), y1: taskY, y2: taskY, stroke: '#f2c14e', 'stroke-width': 3 }));
      const cx = x(k0);
      const marker = el('rect', {
        x: cx - 5, y: taskY - 5, width: 10, height: 10, transform: `rotate(45 ${cx} ${taskY})`, fill: '#f2c14e',
        class: `task-marker${openClass(task, service)}`, 'data-kind': 'task', 'data-id': task.task_id, 'data-service': service.service_id,
      });
      marker.append(el('title', {}, `task ${task.task_id} · ${task.task_type ?? ''} · ${statusOf(task, service, k1 - k0)}`));
      lane.append(marker);
    }
    svg.append(lane);
    y = taskY + (tasks.length ? 22 : 4) + 14;
  }
  const nowMark = el('g', { class: 'now' });
  nowMark.append(el('line', { x1: x(now), x2: x(now), y1: 18, y2: y }), el('text', { x: x(now), y: y + 12, 'text-anchor': 'middle' }, 'now'));
  svg.append(nowMark);
  svg.setAttribute('height', y + 20);
  $('timeline').replaceChildren(svg);
  const active = services.filter((s) => !s.completed).length;
  if (!$('summary').textContent.includes('match')) {
    $('summary').textContent = `${subject.customer_id ? `customer ${subject.customer_id}` : `contact key ${subject.contact_key}`}: ${services.length} service(s), ${active} active`;
  }
}

$('timeline').addEventListener('click', async (event) => {
  const target = event.target.closest('[data-kind]');
  if (!target) return;
  const { kind, id, service } = target.dataset;
  const path = kind === 'service' ? `/services/${id}?extensions=*` : `/services/${service}/${kind}s/${id}?extensions=*`;
  $('details').hidden = false;
  $('details-title').textContent = `${kind} ${id}`;
  try {
    $('details-body').textContent = JSON.stringify(await api(path), null, 2);
  } catch (error) {
    $('details-body').textContent = error.message;
  }
});
$('close-details').addEventListener('click', () => ($('details').hidden = true));

// ---- live events ----

let stream; // AbortController of the open stream
let lastEventId;
let refreshTimer;

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 120);
}

async function listen() {
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  const filter = subject.customer_id !== undefined ? `customer_id=${encodeURIComponent(subject.customer_id)}` : `contact_key=${encodeURIComponent(subject.contact_key)}`;
  while (!controller.signal.aborted) {
    try {
      const h = { ...headers(), accept: 'text/event-stream' };
      if (lastEventId) h['Last-Event-ID'] = lastEventId;
      const response = await fetch(`${BASE}/events?${filter}`, { headers: h, signal: controller.signal });
      if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
      $('live').className = 'live on';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const id = /^id: (.*)$/m.exec(block);
          if (id) lastEventId = id[1];
          if (/^data: /m.test(block)) scheduleRefresh();
        }
      }
    } catch {
      // reconnects below
    }
    $('live').className = 'live off';
    if (!controller.signal.aborted) await new Promise((r) => setTimeout(r, 2000));
  }
}

// open a journey given in the URL: /console/?customer_id=… or ?contact_key=…
const params = new URLSearchParams(location.search);
if (params.get('customer_id')) {
  $('mode').value = 'customer';
  $('query').value = params.get('customer_id');
  show({ customer_id: params.get('customer_id') });
} else if (params.get('contact_key')) {
  $('mode').value = 'contact';
  $('query').value = params.get('contact_key');
  show({ contact_key: params.get('contact_key') });
}
