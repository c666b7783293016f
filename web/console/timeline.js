// Draws a customer's journey as SVG: a dated time axis over a window the user zooms and pans; one lane
// per service, newest first, with its states (segments coloured by type, stacked when they overlap)
// and tasks (diamonds); completed services folded into one packed row until expanded. Pure drawing:
// the page (app.js) owns the window and what is folded, and wires the clicks.
const SVG = 'http://www.w3.org/2000/svg';

const PALETTE = ['#e07a5f', '#3d9970', '#8e6cc0', '#d4a017', '#2a9d8f', '#c0392b', '#5c7cfa', '#b5651d', '#0b7285', '#a61e4d'];
export function colourOf(type) {
  const text = String(type ?? '');
  let hash = 2166136261; // FNV-1a: neighbouring names land far apart
  for (const ch of text) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

export function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function el(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const t = (ts) => Date.parse(ts);
const states = (s) => [...(s.active_states ?? []), ...(s.completed_states ?? [])];
const tasks = (s) => [...(s.active_tasks ?? []), ...(s.completed_tasks ?? [])];

/** When an element ends on the drawing: its end; never ended, its service's end (left open) or now (active). */
function endOf(element, service, now) {
  if (element.completed) return t(element.completed.timestamp);
  return service.completed ? t(service.completed.timestamp) : now;
}
/** '' (ended), 'open' (active) or 'left-open' (never ended, in a completed service) */
function openness(element, service) {
  if (element.completed) return '';
  return service.completed ? 'left-open' : 'open';
}

/** The span from the first start to the last end (or now while anything is active). */
export function extentOf(services, now) {
  let min = Infinity;
  let max = -Infinity;
  for (const s of services) {
    min = Math.min(min, t(s.started.timestamp));
    max = Math.max(max, endOf(s, s, now));
    for (const e of [...states(s), ...tasks(s)]) max = Math.max(max, endOf(e, s, now));
  }
  if (!Number.isFinite(min)) return { from: now - 3600_000, to: now };
  if (max - min < 60_000) max = min + 60_000;
  const pad = (max - min) * 0.03;
  return { from: min - pad, to: max + pad };
}

/** A text that counts the time since `since` (the page's ticker updates every [data-since] each second). */
function ticking(node, prefix, since) {
  node.dataset.since = String(since);
  node.dataset.prefix = prefix;
  node.textContent = `${prefix}${formatDuration(Date.now() - since)}`;
  return node;
}

/** Refreshes every ticking text under `root`. */
export function tick(root, now = Date.now()) {
  for (const node of root.querySelectorAll('[data-since]')) node.textContent = `${node.dataset.prefix}${formatDuration(now - Number(node.dataset.since))}`;
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

const STEPS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400].map((s) => s * 1000);

/** Ticks at a round step, about one per 110 px; the date wherever the day changes. */
function axisTicks(from, to, plotWidth) {
  const wanted = (to - from) / Math.max(2, plotWidth / 110);
  const step = STEPS.find((s) => s >= wanted) ?? STEPS[STEPS.length - 1];
  // round in local time: days start at local midnight
  const offset = new Date(from).getTimezoneOffset() * 60_000;
  let at = Math.ceil((from - offset) / step) * step + offset;
  const ticks = [];
  let previousDay = '';
  const thisYear = new Date().getFullYear();
  for (; at <= to; at += step) {
    const date = new Date(at);
    const day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', ...(date.getFullYear() === thisYear ? {} : { year: 'numeric' }) });
    const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', ...(step < 60_000 ? { second: '2-digit' } : {}) });
    const midnight = date.getHours() === 0 && date.getMinutes() === 0 && date.getSeconds() === 0;
    let label = time;
    if (day !== previousDay) label = step >= 86400_000 || midnight ? day : `${day} ${time}`;
    ticks.push({ at, label });
    previousDay = day;
  }
  return ticks;
}

/**
 * The journey's SVG. `view`: { from, to } in epoch ms; `folded`: whether completed services share one
 * packed row; `collapsed`: ids of services drawn as a header and a bar only.
 */
export function drawTimeline(services, { view, now, width, folded, collapsed }) {
  const plot = { left: 8, right: width - 8 };
  const span = view.to - view.from;
  const x = (ms) => plot.left + ((ms - view.from) / span) * (plot.right - plot.left);
  const clampX = (ms) => Math.min(plot.right + 4, Math.max(plot.left - 4, x(ms)));
  // the window on the element too: what a test (or a bookmarklet) reads back
  const svg = el('svg', { width, role: 'img', 'aria-label': 'journey timeline', class: 'timeline', 'data-from': Math.round(view.from), 'data-to': Math.round(view.to) });
  const defs = el('defs');
  const clip = el('clipPath', { id: 'plot-clip' });
  const clipRect = el('rect', { x: plot.left, y: 0, width: plot.right - plot.left, height: 100000 });
  clip.append(clipRect);
  defs.append(clip);
  svg.append(defs);

  const axis = el('g', { class: 'axis' });
  for (const tick of axisTicks(view.from, view.to, plot.right - plot.left)) {
    axis.append(el('line', { x1: x(tick.at), x2: x(tick.at), y1: 20, y2: 100000 }));
    axis.append(el('text', { x: x(tick.at) + 3, y: 13, class: 'tick' }, tick.label));
  }
  svg.append(axis);
  const body = el('g', { 'clip-path': 'url(#plot-clip)' });
  svg.append(body);
  const labels = el('g', { class: 'labels' });
  svg.append(labels);

  const newestFirst = [...services].sort((a, b) => t(b.started.timestamp) - t(a.started.timestamp) || String(b.service_id).localeCompare(String(a.service_id)));
  const lanes = folded ? newestFirst.filter((s) => !s.completed) : newestFirst;
  const completed = folded ? newestFirst.filter((s) => s.completed) : [];
  let y = 28;

  // a lane header stays readable wherever the service is: pinned to the left edge of the view
  const header = (service, top, open) => {
    const start = t(service.started.timestamp);
    const end = endOf(service, service, Date.now());
    const g = el('g', { class: 'lane-header', 'data-toggle': service.service_id, role: 'button', tabindex: 0 });
    const name = `${open ? '▾' : '▸'} ${service.service_type ?? 'service'} `;
    // on a phone's width the start date is left to the axis
    const when = width < 600 ? `#${service.service_id} · ` : `#${service.service_id} · ${new Date(start).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} · `;
    // at its service's start, but never past either edge (about 6.5 px a character, room for the ticking status)
    const room = (name.length + when.length + 24) * 6.5;
    const text = el('text', { x: Math.max(plot.left + 2, Math.min(x(start), plot.right - room)), y: top + 12, class: 'lane-label' });
    text.append(el('tspan', {}, name), el('tspan', { class: 'lane-sub' }, when));
    const status = service.completed ? el('tspan', { class: 'lane-sub' }, `completed in ${formatDuration(end - start)}`) : ticking(el('tspan', { class: 'lane-sub' }), 'active for ', start);
    text.append(status);
    g.append(text);
    labels.append(g);
  };

  for (const service of lanes) {
    const start = t(service.started.timestamp);
    const end = endOf(service, service, now);
    const isOpen = !service.completed;
    const expanded = !collapsed.has(String(service.service_id));
    header(service, y, expanded);
    y += 18;
    const lane = el('g', { class: 'lane', 'data-service': service.service_id });
    const bar = el('rect', {
      x: clampX(start), y, width: Math.max(3, clampX(end) - clampX(start)), height: expanded ? 10 : 16,
      class: `service-bar${isOpen ? ' open' : ''}`, 'data-kind': 'service', 'data-id': service.service_id,
    });
    bar.append(el('title', {}, `service ${service.service_id} · ${service.service_type ?? ''} · ${isOpen ? 'active' : formatDuration(end - start)}`));
    lane.append(bar);
    if (!expanded) {
      // folded: its states as a strip inside the bar
      for (const st of states(service)) {
        const s0 = t(st.started.timestamp);
        lane.append(el('rect', { x: clampX(s0), y: y + 10, width: Math.max(2, clampX(endOf(st, service, now)) - clampX(s0)), height: 6, fill: colourOf(st.state_type), class: 'strip' }));
      }
      body.append(lane);
      y += 26;
      continue;
    }
    y += 14;
    const placed = stack(
      states(service)
        .map((st) => ({ st, start: t(st.started.timestamp), end: endOf(st, service, now) }))
        .sort((a, b) => a.start - b.start || a.st.state_id - b.st.state_id),
    );
    for (const { st, start: s0, end: s1, row } of placed) {
      const sy = y + row * 26;
      const x0 = clampX(s0);
      const w = Math.max(4, clampX(s1) - x0);
      const how = openness(st, service);
      const rect = el('rect', {
        x: x0, y: sy, width: w, height: 22, fill: colourOf(st.state_type),
        class: `state-seg${how ? ` ${how}` : ''}`, 'data-kind': 'state', 'data-id': st.state_id, 'data-service': service.service_id,
      });
      const status = how === 'open' ? 'active' : how === 'left-open' ? 'left open' : formatDuration(s1 - s0);
      rect.append(el('title', {}, `state ${st.state_id} · ${st.state_type} · ${status}`));
      lane.append(rect);
      if (w > 70) {
        const label = el('text', { x: Math.max(x0, plot.left) + 6, y: sy + 15, class: `state-label${how ? ` ${how}` : ''}` }, `${st.state_type} · ${status}`);
        lane.append(how === 'open' ? ticking(label, `${st.state_type} · `, s0) : label);
      }
    }
    y += placed.reduce((n, s) => Math.max(n, s.row + 1), 0) * 26;
    const laneTasks = tasks(service);
    if (laneTasks.length) {
      const ty = y + 8;
      for (const task of laneTasks) {
        const k0 = t(task.started.timestamp);
        const k1 = endOf(task, service, now);
        const how = openness(task, service);
        if (task.completed) lane.append(el('line', { x1: clampX(k0), x2: clampX(k1), y1: ty, y2: ty, class: 'task-line' }));
        const cx = x(k0);
        const marker = el('rect', {
          x: cx - 5, y: ty - 5, width: 10, height: 10, transform: `rotate(45 ${cx} ${ty})`,
          class: `task-marker${how ? ` ${how}` : ''}`, 'data-kind': 'task', 'data-id': task.task_id, 'data-service': service.service_id,
        });
        const status = how === 'open' ? 'active' : how === 'left-open' ? 'left open' : formatDuration(k1 - k0);
        marker.append(el('title', {}, `task ${task.task_id} · ${task.task_type ?? ''} · ${status}`));
        lane.append(marker);
      }
      y += 20;
    }
    body.append(lane);
    y += 14;
  }

  if (completed.length) {
    // the completed services share rows: a caller's 60 past services fit in one or two
    const head = el('text', { x: plot.left + 2, y: y + 12, class: 'lane-label', 'data-action': 'unfold', role: 'button', tabindex: 0 });
    head.append(el('tspan', {}, `▸ ${completed.length} completed service${completed.length === 1 ? '' : 's'} `), el('tspan', { class: 'lane-sub' }, '(show each as a lane)'));
    labels.append(head);
    y += 20;
    const placed = stack(completed.map((s) => ({ s, start: t(s.started.timestamp), end: t(s.completed.timestamp) })).sort((a, b) => a.start - b.start));
    const group = el('g', { class: 'packed' });
    for (const { s, start, end, row } of placed) {
      const py = y + row * 24;
      const x0 = clampX(start);
      const w = Math.max(5, clampX(end) - x0);
      const rect = el('rect', { x: x0, y: py, width: w, height: 20, class: 'service-bar packed', 'data-kind': 'service', 'data-id': s.service_id, 'data-packed': '' });
      rect.append(el('title', {}, `service ${s.service_id} · ${s.service_type ?? ''} · ${new Date(start).toLocaleString()} · ${formatDuration(end - start)}`));
      group.append(rect);
      for (const st of states(s)) {
        const s0 = t(st.started.timestamp);
        group.append(el('rect', { x: clampX(s0), y: py + 14, width: Math.max(2, clampX(endOf(st, s, now)) - clampX(s0)), height: 6, fill: colourOf(st.state_type), class: 'strip' }));
      }
      if (w > 60) group.append(el('text', { x: Math.max(x0, plot.left) + 4, y: py + 11, class: 'packed-label' }, String(s.service_type ?? 'service')));
    }
    body.append(group);
    y += placed.reduce((n, p) => Math.max(n, p.row + 1), 0) * 24 + 10;
  }

  if (now >= view.from && now <= view.to) {
    const mark = el('g', { class: 'now' });
    mark.append(el('line', { x1: x(now), x2: x(now), y1: 18, y2: y }), el('text', { x: x(now) - 4, y: y + 12, 'text-anchor': 'end' }, 'now'));
    svg.append(mark);
  }
  svg.setAttribute('height', y + 20);
  clipRect.setAttribute('height', y + 20);
  return svg;
}
