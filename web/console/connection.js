// The console's connection to the API, shared by its pages: the tenant and group (a picker fed by
// GET /server/partitions, shown in multi-tenant mode), the user's credentials (a sign-in form when the
// API answers 401; the password lives in this page's memory only), a banner while the server cannot be
// reached, and the live event stream with its reconnects.
export const BASE = '/genesys/1/cs';
export const $ = (id) => document.getElementById(id);

const settings = { tenant: '', group: '', user: '' };
let password = '';
// one an older console stored is removed; the password is never written anywhere
localStorage.removeItem('contextd.password');
for (const name of Object.keys(settings)) settings[name] = localStorage.getItem(`contextd.${name}`) ?? '';

function remember(name, value) {
  settings[name] = value;
  if (value) localStorage.setItem(`contextd.${name}`, value);
  else localStorage.removeItem(`contextd.${name}`);
}

const listeners = [];
/** `fn` runs after the user signs in, picks another tenant or group, or the server is back. */
export function onConnectionChange(fn) {
  listeners.push(fn);
}
const changed = () => listeners.forEach((fn) => fn());

export class ApiError extends Error {
  constructor(status, message, exception) {
    super(message);
    this.status = status;
    this.exception = exception;
  }
}

export function headers(accept = 'application/json') {
  // X-Requested-With: a 401 comes without the Basic challenge, so the browser shows no prompt of its own
  const h = { accept, 'x-requested-with': 'contextd-console' };
  if (settings.tenant) h.ContactCenterId = settings.tenant;
  if (settings.group) h.GroupId = settings.group;
  if (settings.user) h.Authorization = `Basic ${btoa(String.fromCodePoint(...new TextEncoder().encode(`${settings.user}:${password}`)))}`;
  return h;
}

/** JSON with 64-bit service ids kept exact (as strings). */
export function parseJson(text) {
  return JSON.parse(text.replace(/"service_id":(\d{16,})/g, '"service_id":"$1"'));
}

/** GET of an API path; throws ApiError (status 0 when the server cannot be reached). */
export async function api(path) {
  let response;
  try {
    response = await fetch(BASE + path, { headers: headers() });
  } catch {
    unreachable();
    throw new ApiError(0, 'The server cannot be reached.');
  }
  reached();
  const text = await response.text();
  let body;
  try {
    body = text ? parseJson(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.status === 401) askToSignIn(body?.message);
  if (!response.ok) throw new ApiError(response.status, body?.message ?? `${response.status} ${response.statusText}`, body?.exception);
  return body;
}

// ---- the banner: the server is unreachable, or the live stream is reconnecting ----

const notices = new Map();
function notice(key, text) {
  if (text) notices.set(key, text);
  else notices.delete(key);
  const banner = $('banner');
  banner.hidden = notices.size === 0;
  banner.textContent = [...notices.values()].join(' ');
}

let probe;
function unreachable() {
  notice('unreachable', 'The server cannot be reached. Retrying every 3 seconds…');
  // one probe at a time, until /health answers
  probe ??= setInterval(async () => {
    try {
      if ((await fetch('/health', { cache: 'no-store' })).ok) {
        reached();
        changed();
      }
    } catch {
      // still down
    }
  }, 3000);
}
function reached() {
  clearInterval(probe);
  probe = undefined;
  notice('unreachable');
}

// ---- signing in ----

// the form, the same on every page: made here rather than copied into each page's HTML
document.body.insertAdjacentHTML(
  'beforeend',
  `<dialog id="signin" aria-labelledby="signin-title">
    <form id="signin-form">
      <h2 id="signin-title">Sign in to contextd</h2>
      <p id="signin-reason" class="muted"></p>
      <label>User <input id="signin-user" autocomplete="username" required /></label>
      <label>Password <input id="signin-password" type="password" autocomplete="current-password" /></label>
      <p class="muted">The password stays in this page's memory: it is never stored.</p>
      <div class="buttons"><button type="button" id="signin-cancel">Cancel</button><button type="submit">Sign in</button></div>
    </form>
  </dialog>`,
);

function showAccount() {
  $('account').textContent = settings.user ? `${settings.user} ▾` : 'Sign in';
}

/** Opens the sign-in form, with why it is asked for. */
export function askToSignIn(reason) {
  const dialog = $('signin');
  if (dialog.open) return;
  $('signin-reason').textContent = reason ? `The server said: ${reason}` : '';
  $('signin-user').value = settings.user;
  $('signin-password').value = '';
  dialog.showModal();
  (settings.user ? $('signin-password') : $('signin-user')).focus();
}

$('account').addEventListener('click', () => askToSignIn());
$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  remember('user', $('signin-user').value.trim());
  password = $('signin-password').value;
  $('signin').close();
  showAccount();
  loadPartitions().finally(changed);
});
$('signin-cancel').addEventListener('click', () => $('signin').close());
showAccount();

// ---- the tenant and group picker (multi-tenant mode) ----

const partitionValue = (p) => `${p.contact_center_id}/${p.group ?? ''}`;

/** Fills the picker from GET /server/partitions; hidden in single-tenant mode. */
export async function loadPartitions() {
  let partitions;
  try {
    partitions = await api('/server/partitions');
  } catch {
    return;
  }
  const picker = $('partition');
  picker.hidden = partitions.length === 0;
  if (partitions.length === 0) {
    remember('tenant', '');
    remember('group', '');
    return;
  }
  picker.replaceChildren(
    ...partitions.map((p) => {
      const option = document.createElement('option');
      option.value = partitionValue(p);
      option.textContent = p.group ? `${p.tenant} › ${p.group}` : p.tenant;
      return option;
    }),
  );
  const current = partitions.find((p) => p.contact_center_id === settings.tenant && (p.group ?? '') === settings.group) ?? partitions[0];
  picker.value = partitionValue(current);
  choose(current);
}

function choose(partition) {
  remember('tenant', partition.contact_center_id);
  remember('group', partition.group ?? '');
}

$('partition').addEventListener('change', () => {
  const [tenant, group] = $('partition').value.split('/');
  choose({ contact_center_id: tenant, group: group || undefined });
  changed();
});

// ---- live events ----

/**
 * `run` at most once every `ms`, `ms` after the first call of a burst. Not a debounce (which waits
 * for a quiet `ms`): on a busy server events never pause, and a debounced page would never redraw.
 * A run that returns a promise is not overlapped by the next (two loads of one list would interleave
 * their rows): a call while it runs schedules one more run after it.
 */
export function atMostEvery(ms, run) {
  let timer;
  let running = false;
  let again = false;
  const schedule = () => {
    if (running) again = true;
    if (timer || running) return;
    timer = setTimeout(async () => {
      timer = undefined;
      running = true;
      try {
        await run();
      } finally {
        running = false;
        if (again) {
          again = false;
          schedule();
        }
      }
    }, ms);
  };
  return schedule;
}

/**
 * Follows GET /events?{query} and calls onEvent for each event, resuming with Last-Event-ID after a
 * drop; `live` (an element) shows whether the stream is open. Returns a function that stops it.
 */
export function followEvents(query, onEvent, live) {
  const controller = new AbortController();
  let lastEventId;
  (async () => {
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        const h = headers('text/event-stream');
        if (lastEventId) h['Last-Event-ID'] = lastEventId;
        const response = await fetch(`${BASE}/events${query ? `?${query}` : ''}`, { headers: h, signal: controller.signal });
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        failures = 0;
        live.className = 'live on';
        notice('stream');
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
            if (/^data: /m.test(block)) onEvent();
          }
        }
      } catch {
        // reconnects below
      }
      if (controller.signal.aborted) break;
      live.className = 'live off';
      failures += 1;
      notice('stream', 'Live updates interrupted; reconnecting…');
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 1000 * failures)));
    }
    notice('stream');
  })();
  return () => controller.abort();
}
