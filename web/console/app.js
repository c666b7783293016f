// The journey console: one search box finds a customer (customer id, any identification key's value,
// or the contact key of a service, anonymous or associated since), shows their profile and their
// services as a timeline to zoom and pan, ticks the active durations, and redraws as events arrive.
// The "Active now" view lists the newest active services across customers. Plain DOM and SVG; no build
// step, no CDN.
import { $, ApiError, api, atMostEvery, followEvents, loadPartitions, onConnectionChange } from './connection.js';
import { drawTimeline, extentOf, formatDuration, tick } from './timeline.js';

const NESTING = 'active_states=true&completed_states=true&active_tasks=true&completed_tasks=true';
const PAGE = 500; // services per request while loading a journey
const enc = encodeURIComponent;
const HOUR = 3600_000;
// live events redraw the open journey, or the overview, at most this often
const scheduleRefresh = atMostEvery(150, () => refresh());
const refreshOverview = atMostEvery(300, () => loadOverview());

let subject; // { customerId } or { contactKey }
let services = [];
let view; // the drawn window { from, to }, epoch ms
let following = true; // the window's right edge moves with now (a preset or "fit")
let folded; // completed services share one packed row; decided on each new subject
const collapsed = new Set();
let stopEvents;
let lastDraw = 0;

// ---- messages: a hint, nothing found, no services, an error — each looks different ----

function message(kind, text, detail) {
  const p = document.createElement('div');
  p.className = `message ${kind}`;
  p.dataset.state = kind;
  const strong = document.createElement('strong');
  strong.textContent = text;
  p.append(strong);
  if (detail) {
    const more = document.createElement('p');
    more.textContent = detail;
    p.append(more);
  }
  $('timeline').replaceChildren(p);
  $('toolbar').hidden = true;
}

/** Where the console is looking, in multi-tenant mode (a hint when nothing is found). */
function whereLooking() {
  const picker = $('partition');
  return picker.hidden ? '' : ` You are looking in ${picker.selectedOptions[0]?.textContent}; data of another tenant or group is found after picking it above.`;
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) return message('error', 'Sign in to see journeys.', error.message);
  if (error instanceof ApiError && error.status === 0) return message('error', 'The server cannot be reached.', 'The console retries by itself and redraws when it is back.');
  message('error', 'Something went wrong.', error.message);
}

// ---- finding the customer ----

/** An API read whose 400 / 404 means "not this way": other failures (unreachable, 401, 403) still throw. */
const maybe = (promise) => promise.catch((error) => (error instanceof ApiError && (error.status === 404 || (error.status === 400 && !/tenant/i.test(error.message))) ? undefined : Promise.reject(error)));

/** Every customer the text can name, and whether anonymous services carry it as their contact key. */
async function candidatesFor(text) {
  const customers = new Map(); // customer id → how it was found
  const found = (id, how) => customers.set(id, [...(customers.get(id) ?? []), how]);
  if (text.includes('=')) {
    // the API's own identification query: PhoneNumber=5550142
    const query = new URLSearchParams(text);
    for (const profile of (await maybe(api(`/profiles?${query}`))) ?? []) found(profile.customer_id, 'identification');
    return { customers, anonymous: false };
  }
  const [profile, own, keys, byContact] = await Promise.all([
    maybe(api(`/profiles/${enc(text)}`)),
    maybe(api(`/services/search?customer_id=${enc(text)}&limit=1`)),
    maybe(api('/metadata/identification-keys')),
    maybe(api(`/services/search?contact_key=${enc(text)}&limit=100`)),
  ]);
  if (profile || own?.services.length) found(text, 'customer id');
  // each identification key whose first attribute can take the text (a number key refuses a name: 400)
  const identified = await Promise.all(
    (keys ?? []).map(async (key) => ({ key, profiles: await maybe(api(`/profiles?${enc(key.attributes[0])}=${enc(text)}&id_key=${enc(key.name)}`)) })),
  );
  for (const { key, profiles } of identified) for (const p of profiles ?? []) found(p.customer_id, `${key.attributes[0]} (${key.name})`);
  let anonymous = false;
  for (const s of byContact?.services ?? []) {
    if (s.customer_id === undefined) anonymous = true;
    else found(s.customer_id, 'contact key of a call');
  }
  return { customers, anonymous };
}

function showChoices(text, customers, anonymous) {
  const box = $('choices');
  box.replaceChildren();
  const total = customers.size + (anonymous ? 1 : 0);
  if (total < 2) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.append(`“${text}” matches ${total}: `);
  const choice = (label, next) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    button.textContent = label;
    button.addEventListener('click', () => open(next));
    box.append(button);
  };
  for (const [id, how] of customers) choice(`customer ${id} · ${[...new Set(how)].join(', ')}`, { customerId: id });
  if (anonymous) choice(`anonymous calls from ${text}`, { contactKey: text });
}

$('search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('query').value.trim();
  if (!text) return;
  showView('journey');
  $('profile').hidden = true;
  $('choices').hidden = true;
  message('hint', `Looking for “${text}”…`);
  try {
    const { customers, anonymous } = await candidatesFor(text);
    if (customers.size === 0 && !anonymous) {
      subject = undefined;
      stopEvents?.();
      return message('not-found', `Nothing matches “${text}”.`, `No customer id, identification key value or contact key is “${text}”.${whereLooking()}`);
    }
    showChoices(text, customers, anonymous);
    await open(customers.size > 0 ? { customerId: customers.keys().next().value } : { contactKey: text });
  } catch (error) {
    showError(error);
  }
});

// ---- one customer's journey ----

async function open(next) {
  subject = next;
  services = [];
  folded = undefined;
  following = true;
  collapsed.clear();
  const params = new URLSearchParams(next.customerId !== undefined ? { customer_id: next.customerId } : { contact_key: next.contactKey });
  history.replaceState(null, '', `?${params}`);
  await refresh();
  stopEvents?.();
  stopEvents = followEvents(params.toString(), scheduleRefresh, $('live'));
}

async function loadServices() {
  const path = subject.customerId !== undefined ? `/customers/${enc(subject.customerId)}/services` : `/services/anonymous/${enc(subject.contactKey)}`;
  const all = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api(`${path}?${NESTING}&limit=${PAGE}&offset=${offset}`);
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

async function loadProfile() {
  if (subject.customerId === undefined) return undefined;
  const extensions = (await maybe(api('/metadata/profiles/extensions'))) ?? [];
  const names = extensions.map((e) => e.name).join(',');
  return maybe(api(`/profiles/${enc(subject.customerId)}${names ? `?extensions=${enc(names)}` : ''}`));
}

async function refresh() {
  if (!subject) return;
  try {
    const [loaded, profile] = await Promise.all([loadServices(), loadProfile()]);
    services = loaded;
    showProfile(profile);
    if (folded === undefined) folded = services.filter((s) => s.completed).length > 3;
    if (!view || following) view = fitted();
    draw();
  } catch (error) {
    showError(error);
  }
}

onConnectionChange(() => {
  if (currentView === 'overview') loadOverview();
  else if (subject) open(subject);
});

/** Values of the profile that look like what a supervisor recognises a caller by. */
function contactsOf(profile) {
  const phones = new Set();
  const emails = new Set();
  const visit = (name, value) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) return value.forEach((v) => visit(name, v));
    if (typeof value === 'object') return Object.entries(value).forEach(([k, v]) => visit(k, v));
    if (/phone|mobile|msisdn/i.test(name)) phones.add(String(value));
    else if (/mail/i.test(name) || /^[^@\s]+@[^@\s]+$/.test(String(value))) emails.add(String(value));
  };
  for (const [name, value] of Object.entries(profile)) if (name !== 'customer_id') visit(name, value);
  return { phones: [...phones], emails: [...emails] };
}

function showProfile(profile) {
  const box = $('profile');
  box.hidden = false;
  box.replaceChildren();
  const title = document.createElement('h2');
  const sub = document.createElement('span');
  sub.className = 'muted';
  if (subject.customerId !== undefined) {
    const name = profile ? [profile.FirstName, profile.LastName].filter(Boolean).join(' ') : '';
    title.textContent = name || (profile ? `Customer ${subject.customerId}` : `Customer ${subject.customerId}`);
    sub.textContent = profile ? ` customer ${subject.customerId}` : ' no profile: known only by their services';
  } else {
    title.textContent = `Anonymous calls from ${subject.contactKey}`;
    sub.textContent = ' contact key; not associated with a customer';
  }
  title.append(sub);
  box.append(title);
  const facts = document.createElement('p');
  facts.className = 'facts';
  if (profile) {
    const { phones, emails } = contactsOf(profile);
    if (emails.length) facts.append(fact('E-mail', emails.join(', ')));
    if (phones.length) facts.append(fact('Phone', phones.join(', ')));
  }
  const active = services.filter((s) => !s.completed).length;
  facts.append(fact('Services', `${services.length}, ${active} active`));
  box.append(facts);
}

function fact(label, value) {
  const span = document.createElement('span');
  const b = document.createElement('b');
  b.textContent = `${label} `;
  span.append(b, value);
  return span;
}

// ---- the timeline window: presets, fit, zoom, pan ----

function fitted() {
  return extentOf(services, Date.now());
}

function draw() {
  lastDraw = Date.now();
  if (services.length === 0) {
    const who = subject.customerId !== undefined ? `Customer ${subject.customerId}` : `Contact key ${subject.contactKey}`;
    return message('empty', `${who} has no services.`, `Nothing has been started for them yet, or their services have expired.${whereLooking()}`);
  }
  if (following) {
    // keep the window's span, its right edge at now while anything is active
    const span = view.to - view.from;
    const fit = fitted();
    if (fit.to > view.to) view = { from: fit.to - span, to: fit.to };
  }
  const box = $('timeline');
  const width = Math.max(320, box.clientWidth - 24);
  box.replaceChildren(drawTimeline(services, { view, now: Date.now(), width, folded, collapsed }));
  const completed = services.filter((s) => s.completed).length;
  $('toolbar').hidden = false;
  $('fold').hidden = completed === 0;
  $('fold').textContent = folded ? 'Unfold completed' : 'Fold completed';
  const format = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  $('window').textContent = `${format(view.from)} – ${format(view.to)}`;
}

function setView(next, follow) {
  const span = Math.max(5_000, Math.min(5 * 365 * 24 * HOUR, next.to - next.from));
  const middle = (next.from + next.to) / 2;
  view = next.to - next.from === span ? next : { from: middle - span / 2, to: middle + span / 2 };
  following = follow;
  draw();
}

function zoom(factor, at = (view.from + view.to) / 2) {
  setView({ from: at - (at - view.from) * factor, to: at + (view.to - at) * factor }, false);
}

for (const button of document.querySelectorAll('[data-range]')) {
  button.addEventListener('click', () => {
    const now = Date.now();
    const range = button.dataset.range;
    if (range === 'all') return setView(fitted(), true);
    const span = { hour: HOUR, day: 24 * HOUR, week: 7 * 24 * HOUR }[range];
    setView({ from: now - span, to: now + span * 0.02 }, true);
  });
}
$('fit').addEventListener('click', () => setView(fitted(), true));
$('zoom-in').addEventListener('click', () => zoom(0.5));
$('zoom-out').addEventListener('click', () => zoom(2));
$('fold').addEventListener('click', () => {
  folded = !folded;
  draw();
});

const timeOf = (clientX) => {
  const svg = $('timeline').querySelector('svg');
  const box = svg.getBoundingClientRect();
  return view.from + ((clientX - box.left - 8) / (box.width - 16)) * (view.to - view.from);
};
$('timeline').addEventListener(
  'wheel',
  (event) => {
    if (!view || !(event.ctrlKey || event.metaKey)) return; // a plain wheel scrolls the page
    event.preventDefault();
    zoom(event.deltaY > 0 ? 1.25 : 0.8, timeOf(event.clientX));
  },
  { passive: false },
);

// drag to pan; a press that does not move is a click
let drag;
$('timeline').addEventListener('pointerdown', (event) => {
  if (!view || event.button !== 0 || !$('timeline').querySelector('svg')) return;
  drag = { x: event.clientX, view, moved: false };
});
window.addEventListener('pointermove', (event) => {
  if (!drag) return;
  const dx = event.clientX - drag.x;
  if (!drag.moved && Math.abs(dx) < 4) return;
  drag.moved = true;
  const width = $('timeline').querySelector('svg').getBoundingClientRect().width - 16;
  const shift = (-dx / width) * (drag.view.to - drag.view.from);
  view = { from: drag.view.from + shift, to: drag.view.to + shift };
  following = false;
  requestAnimationFrame(draw);
});
// the click that ends a drag is not a click on what lies under it; the drawing was replaced during the
// drag, so that click may never come: the flag lasts until the events of this release are dispatched
let dragEnded = false;
window.addEventListener('pointerup', () => {
  if (drag?.moved) {
    dragEnded = true;
    setTimeout(() => (dragEnded = false), 0);
  }
  drag = undefined;
});

// ---- clicks: fold and unfold, details ----

$('timeline').addEventListener('click', async (event) => {
  if (dragEnded) return;
  const toggle = event.target.closest('[data-toggle]');
  if (toggle) {
    const id = toggle.dataset.toggle;
    if (collapsed.has(id)) collapsed.delete(id);
    else collapsed.add(id);
    return draw();
  }
  if (event.target.closest('[data-action="unfold"]')) {
    folded = false;
    return draw();
  }
  const target = event.target.closest('[data-kind]');
  if (target) await showDetails(target.dataset);
});
$('timeline').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') event.target.closest('[role="button"]')?.dispatchEvent(new MouseEvent('click', { bubbles: true }));
});

const LABELS = { est_duration: 'Estimated duration (s)', disposition: 'Disposition', disposition_desc: 'Disposition description', customer_id: 'Customer', contact_key: 'Contact key', state_id: 'State' };
const NESTED = new Set(['active_states', 'completed_states', 'active_tasks', 'completed_tasks', 'started', 'completed', 'duration', 'service_id', 'state_id', 'task_id']);

function row(table, label, value, className) {
  const tr = table.insertRow();
  const th = document.createElement('th');
  th.textContent = label;
  const td = tr.insertCell();
  if (value instanceof Node) td.append(value);
  else td.textContent = value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (className) tr.className = className;
  tr.prepend(th);
}

function when(ts) {
  const time = document.createElement('time');
  time.dateTime = ts;
  time.textContent = new Date(ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  time.title = ts;
  return time;
}

async function showDetails({ kind, id, service }) {
  const path = kind === 'service' ? `/services/${id}?extensions=*` : `/services/${service}/${kind}s/${id}?extensions=*`;
  $('details').hidden = false;
  $('details-title').textContent = `${kind[0].toUpperCase()}${kind.slice(1)} ${id}`;
  const table = $('details-table');
  table.replaceChildren();
  let record;
  try {
    record = await api(path);
  } catch (error) {
    row(table, 'Error', error.message, 'error');
    $('details-body').textContent = '';
    return;
  }
  const parent = kind === 'service' ? undefined : services.find((s) => String(s.service_id) === String(service));
  row(table, 'Type', record[`${kind}_type`]);
  row(table, 'Started', when(record.started.timestamp));
  if (record.completed) {
    row(table, 'Ended', when(record.completed.timestamp));
    row(table, 'Duration', formatDuration(record.duration ?? Date.parse(record.completed.timestamp) - Date.parse(record.started.timestamp)));
  } else if (parent?.completed) {
    row(table, 'Status', 'left open: never ended; its service has');
  } else {
    const since = Date.parse(record.started.timestamp);
    const ticking = document.createElement('span');
    Object.assign(ticking.dataset, { since, prefix: 'active for ' });
    ticking.textContent = `active for ${formatDuration(Date.now() - since)}`;
    row(table, 'Status', ticking);
  }
  if (kind !== 'service') row(table, 'Service', String(service));
  for (const [name, value] of Object.entries(record)) {
    if (NESTED.has(name) || name === `${kind}_type` || (value !== null && typeof value === 'object')) continue;
    row(table, LABELS[name] ?? name, value);
  }
  for (const phase of ['started', 'completed']) {
    for (const [name, value] of Object.entries(record[phase] ?? {})) if (name !== 'timestamp') row(table, `${phase} · ${name}`, value);
  }
  const extensions = Object.entries(record).filter(([name, value]) => !NESTED.has(name) && value !== null && typeof value === 'object');
  if (extensions.length) {
    row(table, 'Extensions', '', 'section');
    for (const [name, value] of extensions) {
      for (const item of Array.isArray(value) ? value : [value]) {
        row(table, name, Object.entries(item).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · '));
      }
    }
  }
  $('details-body').textContent = JSON.stringify(record, null, 2);
}
$('close-details').addEventListener('click', () => ($('details').hidden = true));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') $('details').hidden = true;
});

// ---- "Active now": the newest active services across customers ----

let overviewCursor;
let stopOverviewEvents;

async function loadOverview(more = false) {
  const body = $('overview').tBodies[0];
  if (!more) {
    body.replaceChildren();
    overviewCursor = undefined;
  }
  const note = $('overview-message');
  note.hidden = true;
  try {
    const page = await api(`/services/search?status=active&active_states=true&limit=25${overviewCursor ? `&cursor=${enc(overviewCursor)}` : ''}`);
    for (const service of page.services) body.append(overviewRow(service));
    overviewCursor = page.next_cursor;
    $('more').hidden = !overviewCursor;
    if (body.rows.length === 0) {
      note.hidden = false;
      note.className = 'message empty';
      note.textContent = `No service is active right now.${whereLooking()}`;
    }
  } catch (error) {
    note.hidden = false;
    note.className = 'message error';
    note.textContent = error.message;
  }
}

function overviewRow(service) {
  const tr = document.createElement('tr');
  tr.tabIndex = 0;
  tr.dataset.service = service.service_id;
  const since = Date.parse(service.started.timestamp);
  const cells = [
    new Date(since).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }),
    formatDuration(Date.now() - since),
    `${service.service_type ?? ''} #${service.service_id}`,
    service.customer_id !== undefined ? `customer ${service.customer_id}` : `contact ${service.contact_key}`,
    (service.active_states ?? []).map((s) => s.state_type).join(', ') || '—',
  ];
  for (const text of cells) tr.insertCell().textContent = text;
  Object.assign(tr.cells[1].dataset, { since, prefix: '' });
  const go = () => {
    showView('journey');
    $('query').value = service.customer_id ?? service.contact_key;
    open(service.customer_id !== undefined ? { customerId: service.customer_id } : { contactKey: service.contact_key });
  };
  tr.addEventListener('click', go);
  tr.addEventListener('keydown', (event) => event.key === 'Enter' && go());
  return tr;
}
$('more').addEventListener('click', () => loadOverview(true));

// ---- views, the clock, start-up ----

let currentView = 'journey';
function showView(name) {
  currentView = name;
  $('journey-view').hidden = name !== 'journey';
  $('overview-view').hidden = name !== 'overview';
  document.querySelector('footer').hidden = name !== 'journey'; // the timeline's legend
  for (const link of document.querySelectorAll('nav [data-view]')) link.classList.toggle('current', link.dataset.view === name);
  if (name === 'overview') {
    stopEvents?.();
    history.replaceState(null, '', '?view=overview');
    loadOverview();
    stopOverviewEvents ??= followEvents('', refreshOverview, $('live'));
  } else {
    stopOverviewEvents?.();
    stopOverviewEvents = undefined;
  }
}
for (const link of document.querySelectorAll('nav [data-view]')) {
  link.addEventListener('click', (event) => {
    event.preventDefault();
    showView(link.dataset.view);
    if (link.dataset.view === 'journey' && subject) open(subject);
  });
}

// active durations tick each second; a window that follows now moves with it every few seconds
setInterval(() => {
  tick(document.body);
  if (currentView === 'journey' && subject && following && !drag && Date.now() - lastDraw > 5000 && services.some((s) => !s.completed)) draw();
}, 1000);
window.addEventListener('resize', () => subject && services.length && draw());

await loadPartitions();
const params = new URLSearchParams(location.search);
if (params.get('view') === 'overview') showView('overview');
else if (params.get('customer_id')) {
  $('query').value = params.get('customer_id');
  showView('journey');
  open({ customerId: params.get('customer_id') });
} else if (params.get('contact_key')) {
  $('query').value = params.get('contact_key');
  showView('journey');
  open({ contactKey: params.get('contact_key') });
} else showView('journey');
