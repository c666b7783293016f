// What the write benches share (bench/run.ts's analytics rows, bench/ab-writes.ts): a process's CPU
// time from /proc, PostgreSQL's, a fresh store per run, and whole journeys as a contact center writes them.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const BASE = '/genesys/1/cs';

/** A process's CPU time so far (user + system), µs, from /proc (clock ticks of 10 ms). */
export function cpuTimeUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // after the command: state is field 3, so utime (14) and stime (15) are at 11 and 12
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The CPU time of every PostgreSQL process on this machine (its backends and its writers), per pid. */
export function postgresCpu(): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      cpu.set(Number(entry), cpuTimeUs(Number(entry)));
    } catch {
      // the process ended meanwhile
    }
  }
  return cpu;
}

/** What PostgreSQL's processes used between two readings (a process that ended meanwhile is not counted). */
export function postgresUsed(before: Map<number, number>, after: Map<number, number>): number {
  return [...after].reduce((sum, [pid, us]) => sum + us - (before.get(pid) ?? 0), 0);
}

/** A fresh store for one run (a file in `dir`, or a schema of `postgresUrl`), and how to remove it after. */
export async function freshStore(kind: 'sqlite' | 'postgres', label: string, dir: string, postgresUrl: string): Promise<{ url: string; remove: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const file = join(dir, `${label}.db`);
    return { url: file, remove: async () => ['', '-wal', '-shm'].forEach((suffix) => rmSync(file + suffix, { force: true })) };
  }
  const schema = `bench_${label.toLowerCase().replace(/\W/g, '_')}_${process.pid}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  return { url: `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`, remove: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

/**
 * `clients` clients each walk journeys as a contact center writes them — a service started, two
 * states each started and ended, the service ended (six writes, one a service start) — for `seconds`,
 * at most `rate` requests a second in all (0: as fast as answered). Returns how many were answered.
 */
export async function journeys(origin: string, seconds: number, { clients = 50, rate = 0 } = {}): Promise<{ total: number; non2xx: number }> {
  const until = performance.now() + seconds * 1000;
  const begin = performance.now();
  let total = 0;
  let non2xx = 0;
  let slot = 0;
  let k = 0;
  const post = async (path: string, body: unknown): Promise<Record<string, unknown> | undefined> => {
    if (rate) {
      const due = begin + (slot++ * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const res = await fetch(`${origin}${BASE}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    total++;
    const text = await res.text();
    if (!res.ok) {
      non2xx++;
      return undefined;
    }
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const client = async () => {
    while (performance.now() < until) {
      const n = k++;
      const service = await post('/services/start', { customer_id: `c${n % 100_000}`, service_type: `T${n % 5}` });
      if (!service) continue;
      const id = service.service_id as number;
      for (const [type, disposition] of [['Waiting for service agent', 'Answered'], ['Offering callback', n % 3 === 0 ? 'Accepted' : 'Declined']]) {
        const state = await post(`/services/${id}/states/start`, { state_type: type });
        if (state) await post(`/services/${id}/states/${state.state_id as number}/end`, { disposition });
      }
      await post(`/services/${id}/end`, { disposition: `D${n % 4}` });
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { total, non2xx };
}
