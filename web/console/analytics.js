// The analytics page: the live board (what is open now, redrawn as events arrive, its ages ticking)
// and, over a chosen window, time in state, outcomes and a funnel. Plain DOM; no build step, no CDN.
import { $, api, atMostEvery, followEvents, loadPartitions, onConnectionChange } from './connection.js';

/** 75 → "1m 15s"; 4000 → "1h 6m" */
function age(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function cell(row, text, className) {
  const td = document.createElement(row.parentElement?.tagName === 'THEAD' ? 'th' : 'td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

function bar(td, fraction) {
  const span = document.createElement('span');
  span.className = 'bar';
  span.style.width = `${Math.round(fraction * 100)}%`;
  td.append(span);
}

function message(text, isError) {
  $('message').textContent = text;
  $('message').className = isError ? 'error' : 'muted';
}

// ---- the live board ----

let board; // the last board and when it was read (ages tick from there)
let boardReadAt = 0;

function drawBoard() {
  if (!board) return;
  const elapsed = (Date.now() - boardReadAt) / 1000;
  $('live-at').textContent = `as of ${new Date(Date.now()).toLocaleTimeString()}`;
  $('active-services').textContent = board.active_services;
  $('waiting-states').textContent = board.waiting_states;
  for (const [id, rows, typeField] of [['live-services', board.services, 'service_type'], ['live-states', board.states, 'state_type']]) {
    const table = $(id);
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const title of ['type', 'open', 'oldest', 'median']) cell(head, title);
    const body = table.createTBody();
    if (rows.length === 0) {
      const tr = body.insertRow();
      const td = cell(tr, 'nothing open', 'empty');
      td.colSpan = 4;
    }
    const max = Math.max(1, ...rows.map((r) => r.active));
    for (const r of rows) {
      const tr = body.insertRow();
      tr.dataset.type = String(r[typeField]);
      cell(tr, r[typeField] ?? '(none)');
      bar(cell(tr, String(r.active), 'num'), r.active / max);
      cell(tr, age(r.oldest_age_seconds + elapsed), 'num');
      cell(tr, age(r.median_age_seconds + elapsed), 'num');
    }
  }
}

async function loadBoard() {
  try {
    board = await api('/analytics/live');
    boardReadAt = Date.now();
    drawBoard();
  } catch (error) {
    message(error.message, true);
  }
}

// ---- time in state ----

const pad = (n) => String(n).padStart(2, '0');
const localInput = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;

function setRange(days) {
  const to = new Date();
  const from = new Date(to);
  from.setHours(0, 0, 0, 0);
  from.setDate(from.getDate() - (days - 1));
  to.setMinutes(to.getMinutes() + 60 - to.getMinutes(), 0, 0);
  $('from').value = localInput(from);
  $('to').value = localInput(to);
}

const ms = (v) => (v === undefined ? '–' : age(v / 1000));

async function loadStates() {
  const { from, to } = windowParams();
  const groupBy = $('group-by').value;
  try {
    const answer = await api(`/analytics/states?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${groupBy ? `&group_by=${groupBy}` : ''}`);
    $('window').textContent = `${new Date(answer.from).toLocaleString()} – ${new Date(answer.to).toLocaleString()}`;
    const table = $('states');
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const title of ['state type', ...(groupBy ? [groupBy.replace('_', ' ')] : []), 'started', 'completed', 'open', 'p50', 'p90', 'p99', 'mean', 'max', 'distribution']) cell(head, title);
    const body = table.createTBody();
    if (answer.states.length === 0) {
      const td = cell(body.insertRow(), 'no state started in this window', 'empty');
      td.colSpan = groupBy ? 11 : 10;
    }
    // one scale for every row: 0 to the longest duration of the window
    const longest = Math.max(1, ...answer.states.map((r) => r.duration_ms?.max ?? 0));
    for (const r of answer.states) {
      const tr = body.insertRow();
      tr.dataset.type = String(r.state_type);
      cell(tr, r.state_type ?? '(none)');
      if (groupBy) cell(tr, groupBy === 'hour' || groupBy === 'day' ? new Date(r.group).toLocaleString() : (r.group ?? '(none)'));
      for (const n of [r.started, r.completed, r.active]) cell(tr, String(n), 'num');
      const d = r.duration_ms;
      for (const q of ['p50', 'p90', 'p99', 'mean', 'max']) cell(tr, ms(d?.[q]), 'num');
      const glyph = cell(tr, '', 'spread');
      if (d) {
        const span = (className, from, to) => {
          const el = document.createElement('span');
          el.className = className;
          el.style.left = `${(from / longest) * 100}%`;
          el.style.width = `${Math.max(0.5, ((to - from) / longest) * 100)}%`;
          return el;
        };
        // light to p50, strong from p50 to p99, a tick at p90, a thin line on to the maximum
        glyph.append(span('to-median', 0, d.p50), span('range', d.p50, d.p99), span('tail', d.p99, d.max), span('tick', d.p90, d.p90));
        glyph.title = `p50 ${ms(d.p50)} · p90 ${ms(d.p90)} · p99 ${ms(d.p99)} · max ${ms(d.max)}`;
      }
    }
    message('');
  } catch (error) {
    message(error.message, true);
  }
}

// ---- outcomes ----

async function loadOutcomes() {
  const { from, to } = windowParams();
  try {
    const answer = await api(`/analytics/outcomes?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    const table = $('outcomes');
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const title of ['service type', 'started', 'completed', 'open', 'deleted open', 'time to complete p50', 'p90', 'dispositions']) cell(head, title);
    const body = table.createTBody();
    if (answer.services.length === 0) cell(body.insertRow(), 'no service started in this window', 'empty').colSpan = 8;
    for (const r of answer.services) {
      const tr = body.insertRow();
      tr.dataset.type = String(r.service_type);
      cell(tr, r.service_type ?? '(none)');
      for (const n of [r.started, r.completed, r.active, r.removed]) cell(tr, String(n), 'num');
      cell(tr, ms(r.time_to_complete_ms?.p50), 'num');
      cell(tr, ms(r.time_to_complete_ms?.p90), 'num');
      const stack = cell(tr, '', 'stack');
      r.dispositions.forEach((d, i) => {
        const part = document.createElement('span');
        part.className = `part c${i % 6}`;
        part.style.width = `${(d.completed / Math.max(1, r.completed)) * 100}%`;
        part.title = `${d.disposition ?? '(none)'}: ${d.completed} (${Math.round((d.completed / r.completed) * 100)} %)`;
        part.textContent = d.completed / r.completed >= 0.15 ? `${d.disposition ?? '(none)'} ${Math.round((d.completed / r.completed) * 100)}%` : '';
        stack.append(part);
      });
    }
  } catch (error) {
    message(error.message, true);
  }
}

// ---- funnel ----

$('funnel-type').value = localStorage.getItem('contextd.funnel-type') ?? '';
$('funnel-steps').value = localStorage.getItem('contextd.funnel-steps') ?? '';

async function loadFunnel() {
  const type = $('funnel-type').value.trim();
  const steps = $('funnel-steps').value.trim();
  if (!type || !steps) return;
  localStorage.setItem('contextd.funnel-type', type);
  localStorage.setItem('contextd.funnel-steps', steps);
  const { from, to } = windowParams();
  const box = $('funnel');
  try {
    const answer = await api(`/analytics/funnel?service_type=${encodeURIComponent(type)}&steps=${steps.split(',').map((x) => encodeURIComponent(x.trim())).join(',')}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    box.replaceChildren();
    const rows = [{ label: `${answer.service_type} services started`, reached: answer.services, note: '' }, ...answer.steps.map((s) => ({
      label: String(s.state_type),
      reached: s.reached,
      note: `${Math.round(s.conversion * 100)} % of the step before${s.median_ms_from_previous === undefined ? '' : ` · median ${ms(s.median_ms_from_previous)} after it`}`,
    }))];
    rows.forEach((r, i) => {
      const line = document.createElement('div');
      line.className = 'step';
      line.dataset.step = String(i);
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = r.label;
      const track = document.createElement('span');
      track.className = 'track';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${(r.reached / Math.max(1, answer.services)) * 100}%`;
      fill.textContent = String(r.reached);
      track.append(fill);
      const note = document.createElement('span');
      note.className = 'muted';
      note.textContent = r.note;
      line.append(label, track, note);
      box.append(line);
      const stop = answer.stopped.find((s) => s.after_step === i);
      if (stop && i < rows.length - 1) {
        const drop = document.createElement('div');
        drop.className = 'drop muted';
        const top = [...stop.dispositions.map((d) => `${d.disposition ?? 'no disposition'} ${d.count}`)].slice(0, 3).join(', ');
        drop.textContent = `↳ ${stop.count} stopped here: ${stop.active} still open${top ? `; completed: ${top}` : ''}; last state: ${stop.last_states.slice(0, 2).map((l) => `${l.state_type ?? 'none'} ${l.count}`).join(', ')}`;
        box.append(drop);
      }
    });
  } catch (error) {
    box.textContent = error.message;
    box.className = 'error';
  }
}

$('funnel-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('funnel').className = '';
  void loadFunnel();
});

function windowParams() {
  return { from: new Date($('from').value).toISOString(), to: new Date($('to').value).toISOString() };
}

function loadWindow() {
  return Promise.all([loadStates(), loadOutcomes(), loadFunnel()]);
}

$('range').addEventListener('submit', (event) => {
  event.preventDefault();
  loadWindow();
});
$('today').addEventListener('click', () => {
  setRange(1);
  loadWindow();
});
$('week').addEventListener('click', () => {
  setRange(7);
  loadWindow();
});

// ---- live events: any committed event redraws both ----

// a second: each redraw after a write computes the board and the window's reports afresh on the
// server, so an open page costs at most that much, however busy the contact center is
const scheduleRefresh = atMostEvery(1000, () => Promise.all([loadBoard(), loadWindow()]));

onConnectionChange(() => {
  void loadBoard();
  loadWindow();
});
await loadPartitions();
setRange(1);
void loadBoard();
loadWindow();
setInterval(drawBoard, 1000);
followEvents('', scheduleRefresh, $('live'));
