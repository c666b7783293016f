// Interleaved A/B of writes over HTTP between two builds, on PostgreSQL or SQLite:
//   BENCH_A=<a built checkout> BENCH_B=<another> [BENCH_STORE=postgres|sqlite] [BENCH_ROUNDS=3] \
//     [BENCH_WRITE=state-start|service-start|journey] [BENCH_RATE=<req/s>] node --import tsx bench/ab-writes.ts
// Each round starts a fresh server of each build (A then B, then B then A the next round) on a fresh
// store migrated by that build itself, then 50 connections write for BENCH_DURATION seconds: state
// starts on 500 services opened first (default), service starts, or whole journeys (journeySteps). Prints req/s and the server's CPU per request for every run, and
// the medians. This machine's noise moves single runs by ±20 %: compare medians of interleaved rounds.
// On PostgreSQL it adds the CPU its processes used per request: what a write costs, which the host's
// steal moves less than throughput (BENCH_RATE fixes the load, so batches are alike in both builds).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuTimeUs, freshStore, interleaved, journeySteps, median, postgresCpu, postgresUsed, sequence } from './writes.js';

const BUILDS = { A: process.env.BENCH_A, B: process.env.BENCH_B };
if (!BUILDS.A || !BUILDS.B) throw new Error('set BENCH_A and BENCH_B to two built checkouts');
const STORE = process.env.BENCH_STORE ?? 'postgres';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
/** the write measured: a state start on one of 500 services (default), a service start, or whole journeys (journeySteps) */
const WRITE = process.env.BENCH_WRITE ?? 'state-start';
if (WRITE !== 'state-start' && WRITE !== 'service-start' && WRITE !== 'journey') throw new Error('BENCH_WRITE is state-start, service-start or journey');
const POSTGRES_URL = process.env.CONTEXTD_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';
const BASE = '/genesys/1/cs';
/** BENCH_RATE=<req/s>: offer this many requests per second in all instead of as many as answered (the CPU per request then compares batches of like size) */
const RATE = Number(process.env.BENCH_RATE ?? 0);

/** one run of one build: throughput, and the CPU each request cost the server and PostgreSQL (0 on SQLite) */
interface Run {
  rps: number;
  cpuUs: number;
  postgresUs: number;
}
/** BENCH_PROFILE=<dir>: each server writes a V8 CPU profile there (bench/profile-summary.ts reads it) */
const PROFILE = process.env.BENCH_PROFILE;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function run(label: 'A' | 'B', dir: string): Promise<Run> {
  const cli = join(BUILDS[label]!, 'dist/cli.js');
  const { url, remove } = await freshStore(STORE === 'sqlite' ? 'sqlite' : 'postgres', `ab_${label}${Date.now()}`, dir, POSTGRES_URL);
  const migrated = spawnSync(process.execPath, [cli, 'migrate'], { env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' });
  if (migrated.status !== 0) throw new Error(`${label}: migrate failed: ${migrated.stderr}`);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE, label)}`] : []), cli, 'serve'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: url, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${origin}/health`)).ok) break;
    } catch {
      if (i > 200) throw new Error(`${label}: no answer`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const services: number[] = [];
  for (let i = 0; WRITE === 'state-start' && i < 500; i++) {
    const res = await fetch(`${origin}${BASE}/services/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer_id: `c${i}`, service_type: 'T1' }) });
    services.push(((await res.json()) as { service_id: number }).service_id);
  }
  let k = 0;
  const request = () =>
    WRITE === 'service-start'
      ? { method: 'POST' as const, path: `${BASE}/services/start`, headers: { 'content-type': 'application/json' }, body: `{"customer_id":"c${k++ % 100_000}","service_type":"T${k % 5}"}` }
      : { method: 'POST' as const, path: `${BASE}/services/${services[k++ % services.length]}/states/start`, headers: { 'content-type': 'application/json' }, body: '{"state_type":"Waiting for service agent"}' };
  const requests = WRITE === 'journey' ? sequence(journeySteps(100_000)) : sequence([request]);
  const load = async (seconds: number): Promise<{ total: number; non2xx: number }> => {
    const result = await autocannon({ url: origin, connections: 50, duration: seconds, ...(RATE ? { overallRate: RATE } : {}), requests });
    return { total: result.requests.total, non2xx: result.non2xx + result.errors };
  };
  await load(1);
  const before = cpuTimeUs(child.pid!);
  const postgresBefore = STORE === 'postgres' ? postgresCpu() : new Map<number, number>();
  const started = performance.now();
  const result = await load(DURATION);
  const seconds = (performance.now() - started) / 1000;
  const used = cpuTimeUs(child.pid!) - before;
  const postgresUs = STORE === 'postgres' ? postgresUsed(postgresBefore, postgresCpu()) : 0;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await remove();
  if (result.non2xx > 0) throw new Error(`${label}: ${result.non2xx} answers were not 2xx`);
  return { rps: Math.round(result.total / seconds), cpuUs: Math.round(used / result.total), postgresUs: Math.round(postgresUs / result.total) };
}

const dir = mkdtempSync(join(tmpdir(), 'contextd-ab-'));
const results = await interleaved(['A', 'B'] as const, ROUNDS, async (label, round) => {
  const r = await run(label, dir);
  console.log(`round ${round + 1} ${label}: ${r.rps} req/s, ${r.cpuUs} µs CPU/request${STORE === 'postgres' ? ` + ${r.postgresUs} µs in PostgreSQL` : ''}`);
  return r;
});
for (const label of ['A', 'B'] as const) {
  const r = results[label];
  console.log(`${label} (${BUILDS[label]}): median ${median(r.map((x) => x.rps))} req/s, ${median(r.map((x) => x.cpuUs))} µs CPU/request, ${median(r.map((x) => x.cpuUs + x.postgresUs))} µs with PostgreSQL's`);
}
const change = (of: (r: Run) => number) => ((median(results.B.map(of)) / median(results.A.map(of)) - 1) * 100).toFixed(1);
console.log(`B against A: ${change((r) => r.rps)} % req/s, ${change((r) => r.cpuUs + r.postgresUs)} % CPU per request, the server's and PostgreSQL's (${STORE}, ${WRITE}${RATE ? `, ${RATE} req/s offered` : ''})`);
rmSync(dir, { recursive: true, force: true });
