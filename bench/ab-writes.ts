// Interleaved A/B of state starts over HTTP between two builds, on PostgreSQL or SQLite:
//   BENCH_A=<a built checkout> BENCH_B=<another> [BENCH_STORE=postgres|sqlite] [BENCH_ROUNDS=3] \
//     [BENCH_WRITE=state-start|service-start] node --import tsx bench/ab-writes.ts
// Each round starts a fresh server of each build (A then B, then B then A the next round) on a fresh
// store migrated by that build itself, opens 500 services, then 50 autocannon connections start states
// on them for BENCH_DURATION seconds. Prints req/s and the server's CPU per request for every run, and
// the medians. This machine's noise moves single runs by ±20 %: compare medians of interleaved rounds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

const BUILDS = { A: process.env.BENCH_A, B: process.env.BENCH_B };
if (!BUILDS.A || !BUILDS.B) throw new Error('set BENCH_A and BENCH_B to two built checkouts');
const STORE = process.env.BENCH_STORE ?? 'postgres';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
/** the write measured: a state start on one of 500 services (default), or a service start */
const WRITE = process.env.BENCH_WRITE ?? 'state-start';
if (WRITE !== 'state-start' && WRITE !== 'service-start') throw new Error('BENCH_WRITE is state-start or service-start');
const POSTGRES_URL = process.env.CONTEXTD_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';
const BASE = '/genesys/1/cs';
/** BENCH_PROFILE=<dir>: each server writes a V8 CPU profile there (bench/profile-summary.ts reads it) */
const PROFILE = process.env.BENCH_PROFILE;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const cpuUs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
};

async function freshStore(label: string, dir: string): Promise<string> {
  if (STORE === 'sqlite') return join(dir, `${label}.db`);
  const schema = `ab_${label.toLowerCase()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  await admin.end();
  return `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

async function run(label: 'A' | 'B', dir: string): Promise<{ rps: number; cpuUs: number }> {
  const cli = join(BUILDS[label]!, 'dist/cli.js');
  const url = await freshStore(`${label}${Date.now()}`, dir);
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
  for (let i = 0; i < 500; i++) {
    const res = await fetch(`${origin}${BASE}/services/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer_id: `c${i}`, service_type: 'T1' }) });
    services.push(((await res.json()) as { service_id: number }).service_id);
  }
  let k = 0;
  const request = () =>
    WRITE === 'service-start'
      ? { method: 'POST' as const, path: `${BASE}/services/start`, headers: { 'content-type': 'application/json' }, body: `{"customer_id":"c${k++ % 100_000}","service_type":"T${k % 5}"}` }
      : { method: 'POST' as const, path: `${BASE}/services/${services[k++ % services.length]}/states/start`, headers: { 'content-type': 'application/json' }, body: '{"state_type":"Waiting for service agent"}' };
  await autocannon({ url: origin, connections: 50, duration: 1, requests: [{ setupRequest: (r: autocannon.Request) => ({ ...r, ...request() }) } as autocannon.Request] });
  const before = cpuUs(child.pid!);
  const result = await autocannon({ url: origin, connections: 50, duration: DURATION, requests: [{ setupRequest: (r: autocannon.Request) => ({ ...r, ...request() }) } as autocannon.Request] });
  const used = cpuUs(child.pid!) - before;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  if (result.non2xx > 0) throw new Error(`${label}: ${result.non2xx} answers were not 2xx`);
  return { rps: Math.round(result.requests.average), cpuUs: Math.round(used / result.requests.total) };
}

const dir = mkdtempSync(join(tmpdir(), 'contextd-ab-'));
const results: Record<'A' | 'B', { rps: number; cpuUs: number }[]> = { A: [], B: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const label of round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
    const r = await run(label, dir);
    results[label].push(r);
    console.log(`round ${round + 1} ${label}: ${r.rps} req/s, ${r.cpuUs} µs CPU/request`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const label of ['A', 'B'] as const) {
  console.log(`${label} (${BUILDS[label]}): median ${median(results[label].map((r) => r.rps))} req/s, ${median(results[label].map((r) => r.cpuUs))} µs CPU/request`);
}
const change = median(results.B.map((r) => r.rps)) / median(results.A.map((r) => r.rps)) - 1;
console.log(`B against A: ${(change * 100).toFixed(1)} % req/s (${STORE}, ${WRITE})`);
rmSync(dir, { recursive: true, force: true });
