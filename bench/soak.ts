// `npm run soak`: contextd (built, embedded store in a temp dir, or DATABASE_URL) under a steady mix
// of writes and reads for several minutes. Prints one line per window — requests, errors, p50/p99
// latency, server RSS — then the verdict: errors must be 0, latency must not drift and memory must
// stay flat (last windows against the first ones after warm-up). Exit code 1 when a check fails.
// SOAK_MINUTES (default 5), SOAK_RATE (requests/s, default 400), SOAK_WINDOW_S (default 30).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../test/helpers/process.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
const RATE = Number(process.env.SOAK_RATE ?? 400);
const WINDOW_S = Number(process.env.SOAK_WINDOW_S ?? 30);
const BASE = '/genesys/1/cs';

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'contextd-soak-'));
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: process.env.DATABASE_URL ?? join(dir, 'soak.db'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
    } catch {
      if (i > 600) throw new Error('the server did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // the journey of one customer call: start, a state, a read of the customer's active services, end
  let n = 0;
  const request = (): autocannon.Request => {
    const i = n++;
    const customer = `SOAK-${i % 5000}`;
    switch (i % 4) {
      case 0:
        return { method: 'POST', path: `${BASE}/services/start`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer_id: customer, service_type: 'Soak', Cart: { items: i % 7 } }) };
      case 1:
        return { method: 'GET', path: `${BASE}/customers/${customer}/services/active?limit=20` };
      case 2:
        return { method: 'GET', path: `${BASE}/services/anonymous/${customer}` };
      default:
        return { method: 'GET', path: `${BASE}/customers/${customer}/services/completed?limit=5` };
    }
  };

  const windows = Math.max(2, Math.round((MINUTES * 60) / WINDOW_S));
  const rows: { window: number; requests: number; errors: number; p50: number; p99: number; rss: number }[] = [];
  process.stdout.write(`soak: ${MINUTES} min at ${RATE} req/s, windows of ${WINDOW_S} s\nwindow  requests  errors  p50 ms  p99 ms  rss MB\n`);
  for (let w = 1; w <= windows; w++) {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: 10,
      overallRate: RATE,
      duration: WINDOW_S,
      requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...request() }) } as autocannon.Request],
    });
    const row = { window: w, requests: result.requests.total, errors: result.errors + result.timeouts + result.non2xx, p50: result.latency.p50, p99: result.latency.p99, rss: rssMb(child.pid!) };
    rows.push(row);
    process.stdout.write(`${String(w).padStart(6)}  ${String(row.requests).padStart(8)}  ${String(row.errors).padStart(6)}  ${String(row.p50).padStart(6)}  ${String(row.p99).padStart(6)}  ${String(row.rss).padStart(6)}\n`);
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });

  const settled = rows.slice(1); // the first window warms up
  const third = Math.max(1, Math.floor(settled.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = settled.slice(0, third);
  const late = settled.slice(-third);
  const errors = rows.reduce((a, r) => a + r.errors, 0);
  const memoryGrowth = mean(late.map((r) => r.rss)) / mean(early.map((r) => r.rss));
  const latencyDrift = Math.max(1, mean(late.map((r) => r.p99))) / Math.max(1, mean(early.map((r) => r.p99)));
  const checks = [
    { what: 'errors', value: String(errors), ok: errors === 0 },
    { what: 'memory growth (late / early RSS)', value: memoryGrowth.toFixed(2), ok: memoryGrowth < 1.25 },
    { what: 'p99 latency drift (late / early)', value: latencyDrift.toFixed(2), ok: latencyDrift < 2 },
  ];
  for (const check of checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.what}: ${check.value}\n`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

await main();
