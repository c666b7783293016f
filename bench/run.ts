// `npm run bench`: in one run on this machine, measures the limit (bare node:http), the framework
// floor (Fastify with a body parser and response schemas, nothing else), the naive store (one
// better-sqlite3 statement per request), contextd on SQLite and contextd on PostgreSQL (when a server
// answers at CONTEXTD_TEST_POSTGRES_URL), over the same scenarios, with autocannon; each row also
// gives the server's own CPU time per request; then contextd relaying every event to NATS JetStream
// (when a NATS server answers at BENCH_NATS_URL) and delivering every event to one webhook (a local
// receiver in its own process); what analytics cost writes (journeys with the rollups on and off,
// bench/servers/contextd-rollups.ts); and `contextd import`. Prints a table and writes it to
// bench/results/latest.md. It asserts nothing.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort } from '../test/helpers/process.js';
import { sqliteInsertFloor } from './import-floor.js';
import { summarizeProfile } from './profile-summary.js';
import { seedPostgres, seedSqlite, type SeedPlan } from './seed.js';
import { cpuTimeUs, freshStore, interleaved, journeySteps, median, postgresCpu, postgresUsed, sequence, type Step } from './writes.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PLAN: SeedPlan = { services: Number(process.env.BENCH_SERVICES ?? 1_000_000), customers: Number(process.env.BENCH_CUSTOMERS ?? 100_000) };
/** BENCH_SCENARIOS: run only the scenarios whose names contain one of these (comma-separated), e.g. `end,start` */
const ONLY_SCENARIOS = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean);
/** BENCH_STORES=sqlite: leave PostgreSQL out */
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const POSTGRES_URL = process.env.CONTEXTD_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';
const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'dist/cli.js');
/** BENCH_BASELINE: a built checkout of an earlier commit; its contextd runs in the same run, on a copy of the same data, for a before/after table */
const BASELINE_CLI = process.env.BENCH_BASELINE ? join(process.env.BENCH_BASELINE, 'dist/cli.js') : undefined;
const BASE = '/genesys/1/cs';
/** BENCH_PROFILE=<dir>: each contextd target runs each scenario in a process of its own under --cpu-prof, and the profiles are summarised (figures of a profiled run are slower: compare them with each other, not with an unprofiled run) */
const PROFILE_DIR = process.env.BENCH_PROFILE;
/** BENCH_NATS_URL: the NATS server for the relay row (skipped when none answers) */
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
/** the PostgreSQL ceiling's pool: the pool contextd uses (PG_POOL_SIZE, default 10) */
const CEILING_POOL = Number(process.env.PG_POOL_SIZE ?? 10);

interface Target {
  name: string;
  port: number;
  child: ChildProcess;
  startupMs?: number;
}

interface Row {
  target: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  /** the server process's own CPU time (user + system) per answered request, µs: independent of how much CPU the load generator takes */
  cpuUs: number;
}

const START_BODY = JSON.stringify({
  customer_id: 'c-bench',
  service_type: 'NewAccount',
  media_type: 'voice',
  interaction_id: 'IX-000123456',
  Cart: { items: 2, total: 59.9, currency: 'EUR' },
});

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function waitForHealth(port: number, path: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server on ${port} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      if (res.status < 500) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`server on ${port} did not start`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startBare(name: string, script: string, env: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const child = fork(join(root, 'bench/servers', script), [], { env: { ...process.env, ...env, PORT: String(port) }, stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { name, port, child };
}

async function startContextd(name: string, databaseUrl: string, cli = CLI, nodeArgs: string[] = []): Promise<Target> {
  const port = await freePort();
  const began = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, cli, 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForHealth(port, '/health', child);
  return { name, port, child, startupMs: performance.now() - began };
}

/** Peak resident set size of a process (VmHWM), MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

type Scenario = {
  name: string;
  request: Step;
  /** more requests after `request`, in turn, on the same connection: autocannon keeps `context` through one
   * turn of the sequence (and resets it after), so a step can use an id an earlier answer gave */
  then?: Step[];
  /** contextd only (contention); `floors`: also the limit and the framework floor, which answer it by shape */
  runsOn?: 'contextd' | 'floors';
  /**
   * a steady load instead of as many requests as answered: `connections` clients, each sending at most
   * `perSecond` a second. autocannon sends a second's requests at once, so the clients are few (a
   * rate over 50 connections would measure a queue of 50 each second, not the request's latency).
   */
  steady?: { connections: number; perSecond: number };
};

/** the search latency target's load: 10 clients, each searching 50 times a second */
const SEARCH_LOAD = { connections: 10, perSecond: 50 };
const SEARCH_AT_LOAD = `search: an extension value, ${SEARCH_LOAD.connections} clients × ${SEARCH_LOAD.perSecond}/s`;

/** The writes an IVR makes on an existing service, in turn: a state, a task, an extension, a merge into it. */
function journeyWrite(serviceId: number, n: number): autocannon.Request {
  const json = { 'content-type': 'application/json' };
  switch (n % 4) {
    case 0:
      return { method: 'POST', path: `${BASE}/services/${serviceId}/states/start`, headers: json, body: '{"state_type":"Waiting for service agent"}' };
    case 1:
      return { method: 'POST', path: `${BASE}/services/${serviceId}/tasks/start`, headers: json, body: '{"task_type":"CollectPIN"}' };
    case 2:
      return { method: 'PUT', path: `${BASE}/services/${serviceId}/extensions/Cart`, headers: json, body: '{"items":3,"total":12.5}' };
    default:
      return { method: 'PUT', path: `${BASE}/services/${serviceId}/extensions/Cart/merge`, headers: json, body: '{"coupon":"X1"}' };
  }
}

/** the scenario of whole journeys, six writes each */
const JOURNEY = 'journeys: a service, two states, each started and ended';

function scenarios(): Scenario[] {
  let nextActive = 0;
  // seeded active services are the ids i with i % 10 in {0, 1}
  const activeId = () => {
    const n = nextActive++;
    return Math.floor(n / 2) * 10 + 10 + (n % 2);
  };
  const randomId = () => 1 + Math.floor(Math.random() * PLAN.services);
  const randomCustomer = () => Math.floor(Math.random() * PLAN.customers);
  // ids that are multiples of 10 were seeded active
  const sharedId = (k: number) => PLAN.services - 10 * k;
  let writes = 0;
  let connection = 0;
  const journey = journeySteps(PLAN.customers);
  // the writes an IVR call makes, one kind per scenario, spread over 500 seeded active services
  // (above the ones the scenarios before use); a sequence keeps its service in its context
  let ownService = 0;
  const serviceOf = (context: Record<string, unknown>) => (context.serviceId ??= sharedId(200 + (ownService++ % 500))) as number;
  const json = { 'content-type': 'application/json' };
  return [
    { name: 'GET service by id', request: () => ({ method: 'GET', path: `${BASE}/services/${randomId()}` }) },
    { name: "GET a customer's active services", request: () => ({ method: 'GET', path: `${BASE}/customers/c${randomCustomer()}/services/active` }) },
    {
      name: 'end service',
      request: () => ({ method: 'POST', path: `${BASE}/services/${activeId()}/end`, headers: { 'content-type': 'application/json' }, body: '{"disposition":"Resolved"}' }),
    },
    { name: 'start service', request: () => ({ method: 'POST', path: `${BASE}/services/start`, headers: { 'content-type': 'application/json' }, body: START_BODY }) },
    // contention: every connection writes to any of 50 shared services, against one service per
    // connection (seeded active services at the top of the id range, which the end scenario never reaches)
    {
      name: 'journey writes, 50 shared services',
      runsOn: 'contextd',
      request: () => journeyWrite(sharedId(Math.floor(Math.random() * 50)), writes++),
    },
    {
      name: 'start state',
      runsOn: 'floors',
      request: (context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/states/start`, headers: json, body: '{"state_type":"Waiting for service agent"}' }),
    },
    {
      name: 'state transition (after a state start)',
      runsOn: 'floors',
      request: (context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/states/start`, headers: json, body: '{"state_type":"IVR"}' }),
      then: [
        (context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/states/transition`, headers: json, body: `{"from":{"state_id":${context.state_id}},"to":{"state_type":"Agent"}}` }),
      ],
    },
    {
      name: 'start and end a task',
      runsOn: 'floors',
      request: (context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/tasks/start`, headers: json, body: '{"task_type":"CollectPIN"}' }),
      then: [(context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/tasks/${context.task_id}/end`, headers: json, body: '{"disposition":"ok"}' })],
    },
    // the search by a searchable extension value (bench/seed.ts indexes order i on service i)
    { name: 'search: an extension value', runsOn: 'contextd', request: () => ({ method: 'GET', path: `${BASE}/services/search?ext.Order.order_id=${randomId()}` }) },
    // the same search at a steady load well below saturation: its p99 is the search's latency, not a queue's
    { name: SEARCH_AT_LOAD, runsOn: 'contextd', steady: SEARCH_LOAD, request: () => ({ method: 'GET', path: `${BASE}/services/search?ext.Order.order_id=${randomId()}` }) },
    {
      name: 'search: an extension range, active, a page of 25',
      runsOn: 'contextd',
      request: () => {
        const from = randomId();
        return { method: 'GET', path: `${BASE}/services/search?ext.Order.order_id.min=${from}&ext.Order.order_id.max=${from + 100}&status=active&limit=25` };
      },
    },
    // the supervisor's live board: active services and waiting states by type, with oldest and median ages
    { name: 'analytics: live board', runsOn: 'contextd', request: () => ({ method: 'GET', path: `${BASE}/analytics/live` }) },
    // a supervisor's time-in-state report: a day, and a month by day (seeded states span 30 days)
    { name: 'analytics: time in state, a day', runsOn: 'contextd', request: () => ({ method: 'GET', path: `${BASE}/analytics/states?from=2024-01-10T00:00:00Z&to=2024-01-11T00:00:00Z` }) },
    {
      name: 'analytics: time in state, 30 days by day',
      runsOn: 'contextd',
      request: () => ({ method: 'GET', path: `${BASE}/analytics/states?from=2024-01-01T00:00:00Z&to=2024-01-31T00:00:00Z&group_by=day` }),
    },
    // the outcome report over the same month, and a funnel of one type over 10,000 seeded services
    // (the first 10 s of starts at any size: 2,000 of type T0, 5 states each)
    { name: 'analytics: outcomes, 30 days', runsOn: 'contextd', request: () => ({ method: 'GET', path: `${BASE}/analytics/outcomes?from=2024-01-01T00:00:00Z&to=2024-01-31T00:00:00Z` }) },
    {
      name: 'analytics: funnel of 2,000 services',
      runsOn: 'contextd',
      request: () => ({ method: 'GET', path: `${BASE}/analytics/funnel?service_type=T0&steps=S0,S2,S4&from=2024-01-01T00:00:00Z&to=2024-01-01T00:00:10Z` }),
    },
    // readers share a report until the next write: with a write before each, every read computes it
    {
      name: 'analytics: 30 days by day, a write before each',
      runsOn: 'contextd',
      request: (context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/states/start`, headers: json, body: '{"state_type":"Waiting for service agent"}' }),
      then: [() => ({ method: 'GET', path: `${BASE}/analytics/states?from=2024-01-01T00:00:00Z&to=2024-01-31T00:00:00Z&group_by=day` })],
    },
    // each board read after a write: every read computes the board again (no write, no computation)
    {
      name: 'analytics: live board, a write before each',
      runsOn: 'contextd',
      request: (context) => ({ method: 'POST', path: `${BASE}/services/${serviceOf(context)}/states/start`, headers: json, body: '{"state_type":"Waiting for service agent"}' }),
      then: [() => ({ method: 'GET', path: `${BASE}/analytics/live` })],
    },
    // a whole journey as a contact center writes it, on a service of its own: the writes analytics
    // count (a service and two states, each started and ended); the analytics write-cost rows run it
    { name: JOURNEY, runsOn: 'contextd', request: journey[0], then: journey.slice(1) },
    {
      name: 'journey writes, a service per connection',
      runsOn: 'contextd',
      // autocannon gives no connection identity: 50 services in turn, so concurrent writes rarely meet
      request: () => journeyWrite(sharedId(50 + (connection++ % 50)), writes++),
    },
  ];
}

async function load(port: number, scenario: Scenario, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: scenario.steady?.connections ?? CONNECTIONS,
    duration,
    ...(scenario.steady ? { connectionRate: scenario.steady.perSecond } : {}),
    requests: sequence([scenario.request, ...(scenario.then ?? [])]),
  });
}

/** Whether the scenario is measured on the target: chosen by BENCH_SCENARIOS, and one the target answers. */
function runs(scenario: Scenario, target: string): boolean {
  if (ONLY_SCENARIOS && !ONLY_SCENARIOS.some((part) => scenario.name.includes(part))) return false;
  const isContextd = target.startsWith('contextd') || target.startsWith('baseline');
  if (scenario.runsOn === 'contextd') return isContextd;
  if (scenario.runsOn === 'floors') return isContextd || target === 'limit' || target === 'framework';
  return true;
}

/** Whether any chosen scenario runs on the target (a floor no chosen scenario uses is not started, nor seeded). */
const anyRunsOn = (target: string) => scenarios().some((scenario) => runs(scenario, target));

async function measure(target: Target, only?: string): Promise<Row[]> {
  const rows: Row[] = [];
  // every target sees the same id sequence for the end scenario
  for (const scenario of scenarios()) {
    if (only !== undefined && scenario.name !== only) continue;
    if (!runs(scenario, target.name)) continue;
    if (WARMUP > 0) await load(target.port, scenario, WARMUP);
    const cpuBefore = cpuTimeUs(target.child.pid!);
    const result = await load(target.port, scenario, DURATION);
    const cpuUs = Math.round((cpuTimeUs(target.child.pid!) - cpuBefore) / Math.max(1, result.requests.total));
    const row: Row = {
      target: target.name,
      scenario: scenario.name,
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      cpuUs,
    };
    log(`  ${target.name} / ${scenario.name}: ${row.rps} req/s, p99 ${row.p99} ms, ${cpuUs} µs CPU/req${row.non2xx ? `, ${row.non2xx} non-2xx` : ''}`);
    rows.push(row);
  }
  return rows;
}

async function stop(target: Target): Promise<number> {
  const rss = peakRssMb(target.child.pid!);
  target.child.kill('SIGTERM');
  await new Promise((r) => target.child.once('exit', r));
  return rss;
}

/** Runs the scenarios on a contextd target; with BENCH_PROFILE, one process per scenario, each under --cpu-prof. */
async function measureContextd(
  name: string,
  databaseUrl: string,
  cli: string,
  rows: Row[],
  extra: { target: string; rssMb: number; startupMs?: number }[],
): Promise<void> {
  if (!PROFILE_DIR) {
    const target = await startContextd(name, databaseUrl, cli);
    rows.push(...(await measure(target)));
    extra.push({ target: name, rssMb: await stop(target), startupMs: target.startupMs });
    return;
  }
  mkdirSync(PROFILE_DIR, { recursive: true });
  for (const scenario of scenarios()) {
    if (ONLY_SCENARIOS && !ONLY_SCENARIOS.some((part) => scenario.name.includes(part))) continue;
    const file = `${name}--${scenario.name}`.replace(/[^\w-]+/g, '-') + '.cpuprofile';
    // from the sources (through tsx), not the bundle: the profile then names each module and package
    const sources = cli === CLI ? join(root, 'src/cli.ts') : join(cli, '../../src/cli.ts');
    const target = await startContextd(name, databaseUrl, sources, ['--import', 'tsx', '--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${file}`]);
    rows.push(...(await measure(target, scenario.name)));
    const rssMb = await stop(target);
    if (!extra.some((e) => e.target === name)) extra.push({ target: name, rssMb, startupMs: target.startupMs });
    log(`  profile: ${join(PROFILE_DIR, file)}`);
    log(summarizeProfile(join(PROFILE_DIR, file), 12));
  }
}

/**
 * The ceiling of durable single-row INSERTs from Node on this PostgreSQL: the scenario's connections
 * each insert a service-shaped row (one statement, its own commit) through a pool the size of
 * contextd's, as fast as the server answers. The best a client can do one write at a time.
 */
async function postgresCeiling(url: string): Promise<Row> {
  const pool = new pg.Pool({ connectionString: url, max: CEILING_POOL });
  await pool.query('CREATE TABLE ceiling_probe (id bigserial PRIMARY KEY, customer_id text, started_at bigint NOT NULL, doc text NOT NULL)');
  const doc = START_BODY;
  const latencies: number[] = [];
  const run = async (until: number, record: boolean) => {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          const began = performance.now();
          await pool.query({ name: 'ceiling', text: 'INSERT INTO ceiling_probe (customer_id, started_at, doc) VALUES ($1, $2, $3)', values: ['c-bench', Date.now(), doc] });
          if (record) latencies.push(performance.now() - began);
        }
      }),
    );
  };
  try {
    await run(Date.now() + WARMUP * 1000, false);
    const began = Date.now();
    await run(began + DURATION * 1000, true);
    const seconds = (Date.now() - began) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
    return { target: 'postgres ceiling', scenario: 'start service', rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), max: at(1), non2xx: 0, errors: 0, cpuUs: 0 };
  } finally {
    await pool.query('DROP TABLE IF EXISTS ceiling_probe');
    await pool.end();
  }
}

interface RelayRow {
  /** start service answered per second while the relay ran */
  startRps: number;
  /** events in the stream per second, from the first request to the last event stored */
  relayedPerSecond: number;
  events: number;
}

/**
 * The outbox relayed to NATS JetStream: contextd on an empty SQLite store with events.nats, the start
 * service scenario for DURATION s, then the time until the stream holds every event.
 */
async function natsRelay(dir: string): Promise<RelayRow | undefined> {
  let nats: typeof import('nats');
  let nc: import('nats').NatsConnection;
  try {
    nats = await import('nats');
    nc = await nats.connect({ servers: NATS_URL, timeout: 2000 });
  } catch {
    log(`NATS relay: skipped, nothing answers at ${NATS_URL}`);
    return undefined;
  }
  const stream = `CONTEXTD_BENCH_${process.pid}`;
  const config = join(dir, 'nats.yaml');
  writeFileSync(config, `events:\n  nats:\n    url: ${NATS_URL}\n    stream: ${stream}\n    subject_prefix: contextd_bench_${process.pid}\n`);
  const databaseUrl = join(dir, 'nats.db');
  migrate(databaseUrl);
  const jsm = await nc.jetstreamManager();
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitForHealth(port, '/health', child);
    const began = Date.now();
    const result = await load(port, scenarios().find((s) => s.name === 'start service')!, DURATION);
    const events = result.requests.total;
    for (let seen = 0; Date.now() - began < 120_000; await new Promise((r) => setTimeout(r, 20))) {
      seen = (await jsm.streams.info(stream).catch(() => undefined))?.state.messages ?? 0;
      if (seen >= events) break;
    }
    const seconds = (Date.now() - began) / 1000;
    return { startRps: Math.round(result.requests.average), relayedPerSecond: Math.round(events / seconds), events };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

/**
 * One webhook to a local receiver (its own process, answering 204 at once): contextd on an empty
 * SQLite store, the start service scenario for DURATION s, then the time until the receiver took
 * every event.
 */
async function webhookRelay(dir: string): Promise<RelayRow> {
  const receiver = await startBare('receiver', 'receiver.mjs', {});
  const databaseUrl = join(dir, 'webhook.db');
  migrate(databaseUrl);
  const target = await startContextd('contextd webhook', databaseUrl);
  try {
    const created = await fetch(`http://127.0.0.1:${target.port}/genesys/1/cs/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hook` }),
    });
    if (created.status !== 201) throw new Error(`webhook create: ${created.status} ${await created.text()}`);
    const began = Date.now();
    const result = await load(target.port, scenarios().find((s) => s.name === 'start service')!, DURATION);
    const events = result.requests.total;
    for (let seen = 0; Date.now() - began < 120_000; await new Promise((r) => setTimeout(r, 20))) {
      seen = ((await (await fetch(`http://127.0.0.1:${receiver.port}/count`)).json()) as { distinct: number }).distinct;
      if (seen >= events) break;
    }
    const seconds = (Date.now() - began) / 1000;
    return { startRps: Math.round(result.requests.average), relayedPerSecond: Math.round(events / seconds), events };
  } finally {
    await stop(target);
    await stop(receiver);
  }
}

interface ImportRow {
  store: string;
  services: number;
  seconds: number;
  /** SQLite only: services a second SQLite inserts the same rows at by itself (bench/import-floor.ts) */
  floor?: number;
}

/** BENCH_IMPORT: how many services the import row imports (default 50,000) */
const IMPORT_SERVICES = Number(process.env.BENCH_IMPORT ?? 50_000);

/**
 * `contextd import FILE` into a fresh store: an NDJSON file of IMPORT_SERVICES completed services as
 * an export writes them (two states each, one a transition from the other, and an extension), timed
 * from the command's start to its exit.
 */
function importRate(dir: string, store: 'sqlite' | 'postgres', databaseUrl: string): ImportRow {
  const file = join(dir, 'import.ndjson');
  if (!existsSync(file)) {
    const lines: string[] = [];
    for (let i = 1; i <= IMPORT_SERVICES; i++) {
      const t = Date.UTC(2025, 0, 1) + i * 1000;
      const at = (ms: number) => new Date(t + ms).toISOString();
      lines.push(
        JSON.stringify({
          service_id: i,
          service_type: 'Billing',
          customer_id: `c${i % 50_000}`,
          disposition: 'Resolved',
          started: { timestamp: at(0), interaction_id: `IX${i}`, media_type: 'voice' },
          completed: { timestamp: at(300_000) },
          completed_states: [
            { state_id: 2 * i - 1, state_type: 'Identify', started: { timestamp: at(0) }, completed: { timestamp: at(60_000) } },
            { state_id: 2 * i, state_type: 'Waiting', started: { timestamp: at(60_000), previous_state_id: 2 * i - 1 }, completed: { timestamp: at(240_000) } },
          ],
          Cart: { items: i % 7 },
        }),
      );
    }
    writeFileSync(file, lines.join('\n') + '\n');
  }
  migrate(databaseUrl);
  const began = performance.now();
  const result = spawnSync(process.execPath, [CLI, 'import', file], { env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - began) / 1000;
  if (result.status !== 0) throw new Error(`import failed: ${result.stderr}`);
  const imported = (JSON.parse(result.stdout) as { imported: number }).imported;
  return { store, services: imported, seconds };
}

/** BENCH_ANALYTICS_ROUNDS: interleaved rounds of the analytics write-cost rows (default 3) */
const ANALYTICS_ROUNDS = Number(process.env.BENCH_ANALYTICS_ROUNDS ?? 3);

/** One store's journeys with the analytics rollups on and off: medians of interleaved rounds. */
interface WriteCostRow {
  store: 'sqlite' | 'postgres';
  on: { rps: number; cpuUs: number };
  off: { rps: number; cpuUs: number };
}

/**
 * What analytics cost writes (#17): the journeys scenario (JOURNEY) on an empty store, by
 * bench/servers/contextd-rollups.ts with the rollups on and off — the same sources run the same way,
 * differing only in what analytics add to a write.
 * Interleaved (on, off; then off, on; …) against the machine's drift; CPU per request is the server's
 * plus, on PostgreSQL, its processes'.
 */
async function analyticsWriteCost(store: 'sqlite' | 'postgres', dir: string): Promise<WriteCostRow> {
  const runs = await interleaved(['on', 'off'] as const, ANALYTICS_ROUNDS, async (rollups, round) => {
    const { url, remove } = await freshStore(store, `rollups_${rollups}_${round}`, dir, POSTGRES_URL);
    const port = await freePort();
    const child = fork(join(root, 'bench/servers/contextd-rollups.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, PORT: String(port), DATABASE_URL: url, ROLLUPS: rollups },
      stdio: 'inherit',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`contextd-rollups exited with ${code}`)));
      });
      const journey = scenarios().find((s) => s.name === JOURNEY)!;
      await load(port, journey, WARMUP);
      const cpuBefore = cpuTimeUs(child.pid!);
      const postgresBefore = store === 'postgres' ? postgresCpu() : new Map<number, number>();
      const result = await load(port, journey, DURATION);
      const cpuUs = cpuTimeUs(child.pid!) - cpuBefore + (store === 'postgres' ? postgresUsed(postgresBefore, postgresCpu()) : 0);
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`analytics write cost (${store}, rollups ${rollups}): ${result.non2xx} answers not 2xx, ${result.errors} errors`);
      const run = { rps: Math.round(result.requests.average), cpuUs: Math.round(cpuUs / result.requests.total) };
      log(`  ${store}, analytics ${rollups}: ${run.rps} req/s, ${run.cpuUs} µs CPU/request`);
      return run;
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      await remove();
    }
  });
  const of = (r: { rps: number; cpuUs: number }[]) => ({ rps: median(r.map((x) => x.rps)), cpuUs: median(r.map((x) => x.cpuUs)) });
  return { store, on: of(runs.on), off: of(runs.off) };
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

function migrate(databaseUrl: string): void {
  const result = spawnSync(process.execPath, [CLI, 'migrate'], { env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`migrate failed: ${result.stderr}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'contextd-bench-'));
  const rows: Row[] = [];
  const extra: { target: string; rssMb: number; startupMs?: number }[] = [];
  const schema = `bench_${process.pid}`;
  const pgUrl = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const withPostgres = STORES.includes('postgres') && (await postgresReachable());
  let relay: RelayRow | undefined;
  let webhook: RelayRow | undefined;
  const imports: ImportRow[] = [];
  const writeCosts: WriteCostRow[] = [];
  try {
    log(`bench: ${PLAN.services} services for ${PLAN.customers} customers, ${CONNECTIONS} connections, ${WARMUP}s warm-up + ${DURATION}s per scenario`);

    if (anyRunsOn('limit')) {
      log('limit (bare node:http)');
      const limit = await startBare('limit', 'limit.mjs', {});
      rows.push(...(await measure(limit)));
      extra.push({ target: 'limit', rssMb: await stop(limit) });
    }

    if (anyRunsOn('framework')) {
      log('framework floor (Fastify, body parser, response schemas; no hooks, no store)');
      const framework = await startBare('framework', 'framework.mjs', {});
      rows.push(...(await measure(framework)));
      extra.push({ target: 'framework', rssMb: await stop(framework) });
    }

    if (anyRunsOn('naive store')) {
      log('naive store (one better-sqlite3 statement per request), seeding…');
      const naive = await startBare('naive store', 'naive.mjs', {
        DB_PATH: join(dir, 'naive.db'),
        SEED_SERVICES: String(PLAN.services),
        SEED_CUSTOMERS: String(PLAN.customers),
      });
      rows.push(...(await measure(naive)));
      extra.push({ target: 'naive store', rssMb: await stop(naive) });
    }

    if (anyRunsOn('contextd sqlite')) {
      log('contextd on SQLite, seeding…');
      const sqlitePath = join(dir, 'contextd.db');
      migrate(sqlitePath);
      seedSqlite(sqlitePath, PLAN);
      if (BASELINE_CLI) {
        const copy = join(dir, 'baseline.db');
        copyFileSync(sqlitePath, copy);
        await measureContextd('baseline sqlite', copy, BASELINE_CLI, rows, extra);
      }
      await measureContextd('contextd sqlite', sqlitePath, CLI, rows, extra);
    }

    if (withPostgres && anyRunsOn('contextd postgres')) {
      log('contextd on PostgreSQL, seeding…');
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
      await admin.end();
      migrate(pgUrl);
      await seedPostgres(pgUrl, PLAN);
      if (BASELINE_CLI) {
        // the baseline gets a schema of its own, seeded alike: its ends must not use up the current run's active services
        const baseUrl = pgUrl.replace(encodeURIComponent(`search_path=${schema}`), encodeURIComponent(`search_path=${schema}_base`));
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema}_base CASCADE; CREATE SCHEMA ${schema}_base`);
        await admin.end();
        migrate(baseUrl);
        await seedPostgres(baseUrl, PLAN);
        await measureContextd('baseline postgres', baseUrl, BASELINE_CLI, rows, extra);
      }
      await measureContextd('contextd postgres', pgUrl, CLI, rows, extra);
      if (!ONLY_SCENARIOS || ONLY_SCENARIOS.some((part) => 'start service'.includes(part))) {
        log('postgres ceiling (durable single-row INSERTs from Node)');
        const ceiling = await postgresCeiling(pgUrl);
        log(`  postgres ceiling: ${ceiling.rps} inserts/s, p99 ${ceiling.p99} ms`);
        rows.push(ceiling);
      }
    } else if (!withPostgres) {
      log(`contextd on PostgreSQL: skipped, nothing answers at ${POSTGRES_URL}`);
    }
    if (!ONLY_SCENARIOS || ONLY_SCENARIOS.some((part) => 'analytics: write cost'.includes(part))) {
      log(`what analytics cost writes: journeys with the rollups on and off, ${ANALYTICS_ROUNDS} interleaved rounds`);
      writeCosts.push(await analyticsWriteCost('sqlite', dir));
      if (withPostgres) writeCosts.push(await analyticsWriteCost('postgres', dir));
    }
    if (!ONLY_SCENARIOS || ONLY_SCENARIOS.some((part) => 'import'.includes(part))) {
      log(`contextd import of ${IMPORT_SERVICES.toLocaleString('en')} services into an empty store`);
      const sqliteImport = importRate(dir, 'sqlite', join(dir, 'import.db'));
      migrate(join(dir, 'floor.db'));
      sqliteImport.floor = sqliteInsertFloor(join(dir, 'import.db'), join(dir, 'floor.db'));
      imports.push(sqliteImport);
      if (withPostgres) {
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema}_import CASCADE; CREATE SCHEMA ${schema}_import`);
        await admin.end();
        imports.push(importRate(dir, 'postgres', `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}_import`)}`));
      }
      for (const row of imports) log(`  ${row.store}: ${Math.round(row.services / row.seconds)} services/s`);
    }
    if (!ONLY_SCENARIOS || ONLY_SCENARIOS.some((part) => 'start service'.includes(part))) {
      log('contextd on SQLite relaying every event to NATS JetStream');
      relay = await natsRelay(dir);
      if (relay) log(`  start service ${relay.startRps} req/s; ${relay.relayedPerSecond} events/s in the stream`);
      log('contextd on SQLite delivering every event to a webhook (a local receiver)');
      webhook = await webhookRelay(dir);
      log(`  start service ${webhook.startRps} req/s; ${webhook.relayedPerSecond} deliveries/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (withPostgres) {
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_base CASCADE; DROP SCHEMA IF EXISTS ${schema}_import CASCADE`);
      await admin.end();
    }
  }

  const report = render(rows, extra, withPostgres, relay, webhook, imports, writeCosts);
  process.stdout.write(report);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/latest.md'), report);
}

function render(rows: Row[], extra: { target: string; rssMb: number; startupMs?: number }[], withPostgres: boolean, relay?: RelayRow, webhook?: RelayRow, imports: ImportRow[] = [], writeCosts: WriteCostRow[] = []): string {
  const find = (target: string, scenario: string) => rows.find((r) => r.target === target && r.scenario === scenario);
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '–');
  const lines = [
    `# contextd benchmark`,
    ``,
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'} · ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.version} · load from autocannon on the same machine`,
    `${CONNECTIONS} connections, ${WARMUP} s warm-up then ${DURATION} s per scenario; ${PLAN.services.toLocaleString('en')} services for ${PLAN.customers.toLocaleString('en')} customers stored (20% active); default durability (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on)${withPostgres ? '' : '; PostgreSQL not run (BENCH_STORES) or not reachable: its rows are missing'}.`,
    ``,
    `| scenario | server | req/s | p50 ms | p99 ms | max ms | non-2xx | server CPU µs/req | vs limit | vs framework | vs naive store |`,
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    const limit = find('limit', scenario);
    const naive = find('naive store', scenario);
    const framework = find('framework', scenario);
    for (const row of rows.filter((r) => r.scenario === scenario)) {
      const isContextd = row.target.startsWith('contextd') || row.target.startsWith('baseline');
      lines.push(
        `| ${scenario} | ${row.target} | ${row.rps.toLocaleString('en')} | ${row.p50} | ${row.p99} | ${row.max} | ${row.non2xx + row.errors} | ${row.cpuUs || ''} | ${isContextd || row.target === 'framework' ? ratio(row.rps, limit?.rps) : ''} | ${isContextd ? ratio(row.rps, framework?.rps) : ''} | ${isContextd ? ratio(row.rps, naive?.rps) : ''} |`,
      );
    }
  }
  lines.push('', '| server | peak RSS MB | start-up to first answer ms |', '|---|---:|---:|');
  for (const e of extra) lines.push(`| ${e.target} | ${e.rssMb} | ${e.startupMs === undefined ? '' : Math.round(e.startupMs)} |`);
  const shared = (target: string) => find(target, 'journey writes, 50 shared services');
  const own = (target: string) => find(target, 'journey writes, a service per connection');
  const contention = ['baseline sqlite', 'contextd sqlite', 'baseline postgres', 'contextd postgres'].filter((t) => shared(t) && own(t));
  if (contention.length > 0) {
    lines.push('', '| contention | shared ÷ own (target ≥ 0.5×) |', '|---|---:|');
    for (const target of contention) lines.push(`| ${target} | ${ratio(shared(target)!.rps, own(target)!.rps)} |`);
  }
  if (imports.length > 0) {
    lines.push(
      '',
      '| `contextd import` into an empty store | services | s | services/s | SQLite by itself, the same rows (bench/import-floor.ts) | target (SQLite) |',
      '|---|---:|---:|---:|---:|---|',
    );
    for (const row of imports) {
      const rate = Math.round(row.services / row.seconds);
      const floor = row.floor === undefined ? '' : `${Math.round(row.floor).toLocaleString('en')}/s`;
      lines.push(`| ${row.store} | ${row.services.toLocaleString('en')} | ${row.seconds.toFixed(1)} | ${rate.toLocaleString('en')} | ${floor} | ${row.store === 'sqlite' ? (rate >= 50_000 ? '≥ 50,000: yes' : '≥ 50,000: no') : ''} |`);
    }
  }
  if (writeCosts.length > 0) {
    const change = (a: number, b: number) => `${a >= b ? '+' : '−'}${Math.abs((a / b - 1) * 100).toFixed(1)} %`;
    lines.push(
      '',
      `| what analytics cost writes: ${JOURNEY}, on an empty store, medians of ${ANALYTICS_ROUNDS} interleaved rounds | req/s with analytics | without | change (target ≥ −10 %) | CPU µs/req with (server + PostgreSQL) | without | change |`,
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of writeCosts) {
      lines.push(`| ${row.store} | ${row.on.rps.toLocaleString('en')} | ${row.off.rps.toLocaleString('en')} | ${change(row.on.rps, row.off.rps)} | ${row.on.cpuUs} | ${row.off.cpuUs} | ${change(row.on.cpuUs, row.off.cpuUs)} |`);
    }
  }
  if (relay || webhook) {
    const without = find('contextd sqlite', 'start service');
    lines.push('', '| relay (SQLite, empty store) | start service req/s | vs without the relay | events/s delivered | events |', '|---|---:|---:|---:|---:|');
    for (const [name, row] of [
      ['NATS JetStream', relay],
      ['webhook (local receiver)', webhook],
    ] as const) {
      if (row) lines.push(`| ${name} | ${row.startRps.toLocaleString('en')} | ${ratio(row.startRps, without?.rps)} | ${row.relayedPerSecond.toLocaleString('en')} | ${row.events.toLocaleString('en')} |`);
    }
  }
  lines.push('', ...targets(rows, extra, writeCosts));
  lines.push('', 'non-2xx in "end service" are 409s once the seeded active services run out during the run.', '');
  return lines.join('\n');
}

/** The performance issue's targets, each with what this run measured and whether it is met. */
function targets(rows: Row[], extra: { target: string; rssMb: number; startupMs?: number }[], writeCosts: WriteCostRow[] = []): string[] {
  const find = (target: string, scenario: string) => rows.find((r) => r.target === target && r.scenario === scenario);
  const lines = ['| target | measured | met |', '|---|---:|:---:|'];
  const add = (target: string, measured: string | undefined, met: boolean | undefined) => {
    if (measured !== undefined) lines.push(`| ${target} | ${measured} | ${met ? 'yes' : 'no'} |`);
  };
  const vsLimit = (scenario: string, at: number, p99Ms?: number) => {
    const own = find('contextd sqlite', scenario);
    const limit = find('limit', scenario);
    if (!own || !limit) return;
    const r = own.rps / limit.rps;
    add(
      `SQLite ${scenario} ≥ ${at}× the limit${p99Ms ? `, p99 ≤ ${p99Ms} ms` : ''}`,
      `${r.toFixed(2)}×${p99Ms ? `, p99 ${own.p99} ms` : ''}`,
      r >= at && (p99Ms === undefined || own.p99 <= p99Ms),
    );
  };
  vsLimit('start service', 0.5);
  vsLimit('end service', 0.5);
  vsLimit('GET service by id', 0.7);
  vsLimit("GET a customer's active services", 0.6, 5);
  for (const scenario of ['start state', 'state transition (after a state start)', 'start and end a task']) vsLimit(scenario, 0.4);
  const pgStart = find('contextd postgres', 'start service');
  const ceiling = find('postgres ceiling', 'start service');
  if (pgStart) {
    const r = ceiling ? pgStart.rps / ceiling.rps : undefined;
    add('PostgreSQL start ≥ 10,000/s, or ≥ 0.7× its single-row ceiling', `${pgStart.rps.toLocaleString('en')}/s${r === undefined ? '' : `, ${r.toFixed(2)}× the ceiling (${ceiling!.rps.toLocaleString('en')}/s)`}`, pgStart.rps >= 10_000 || (r ?? 0) >= 0.7);
  }
  for (const scenario of ['start state', 'state transition (after a state start)', 'start and end a task']) {
    const row = find('contextd postgres', scenario);
    if (row) add(`PostgreSQL ${scenario} ≥ 5,000/s`, `${row.rps.toLocaleString('en')}/s`, row.rps >= 5_000);
  }
  for (const store of ['sqlite', 'postgres']) {
    const row = find(`contextd ${store}`, SEARCH_AT_LOAD);
    const load = `${SEARCH_LOAD.connections * SEARCH_LOAD.perSecond} a second from ${SEARCH_LOAD.connections} clients`;
    if (row) add(`${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} search by an extension value, ${load}, ${PLAN.services.toLocaleString('en')} services: p99 ≤ 20 ms`, `${row.p99} ms`, row.p99 <= 20);
  }
  for (const row of writeCosts) {
    const r = row.on.rps / row.off.rps;
    add(`${row.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} journeys with analytics ≥ 0.9× without`, `${r.toFixed(2)}×`, r >= 0.9);
  }
  for (const e of extra.filter((x) => x.target.startsWith('contextd'))) {
    if (e.startupMs !== undefined) add(`${e.target}: start-up to first answer ≤ 300 ms`, `${Math.round(e.startupMs)} ms`, e.startupMs <= 300);
    add(`${e.target}: peak RSS ≤ 200 MB`, `${e.rssMb} MB`, e.rssMb <= 200);
  }
  return lines;
}

await main();
