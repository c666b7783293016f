// What the write benches share (bench/run.ts, bench/ab-writes.ts): a process's CPU time from /proc,
// PostgreSQL's, a fresh store per run, whole journeys as a contact center writes them, and
// interleaved rounds with their medians.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
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

/** One request of a sequence, built from what the answers before it gave (`context`). */
export type Step = (context: Record<string, unknown>) => autocannon.Request;

/**
 * A whole journey as a contact center writes it, on a service of its own: a service started, two
 * states each started and ended, the service ended — six writes, the ones analytics count. The one
 * journey of the benches (run.ts's journeys scenario and write-cost rows, ab-writes.ts).
 */
export function journeySteps(customers: number): Step[] {
  const json = { 'content-type': 'application/json' };
  let n = 0;
  return [
    () => ({ method: 'POST', path: `${BASE}/services/start`, headers: json, body: `{"customer_id":"c${Math.floor(Math.random() * customers)}","service_type":"T${n++ % 5}"}` }),
    (context) => ({ method: 'POST', path: `${BASE}/services/${context.service_id}/states/start`, headers: json, body: '{"state_type":"Waiting for service agent"}' }),
    (context) => ({ method: 'POST', path: `${BASE}/services/${context.service_id}/states/${context.state_id}/end`, headers: json, body: '{"disposition":"Answered"}' }),
    (context) => ({ method: 'POST', path: `${BASE}/services/${context.service_id}/states/start`, headers: json, body: '{"state_type":"Offering callback"}' }),
    (context) => ({ method: 'POST', path: `${BASE}/services/${context.service_id}/states/${context.state_id}/end`, headers: json, body: '{"disposition":"Accepted"}' }),
    (context) => ({ method: 'POST', path: `${BASE}/services/${context.service_id}/end`, headers: json, body: '{"disposition":"Resolved"}' }),
  ];
}

/** The id a 201 answer gave, kept in the connection's context for the next step. */
function rememberId(status: number, body: string, context: Record<string, unknown>): void {
  const id = status === 201 ? /"(service_id|state_id|task_id)":(\d+)/.exec(body) : null;
  if (id) context[id[1]] = Number(id[2]);
}

/**
 * autocannon's requests for steps made in turn on each connection: autocannon keeps `context` through
 * one turn of the sequence (and resets it after), so a step can use an id an earlier answer gave.
 */
export function sequence(steps: Step[]): autocannon.Request[] {
  return steps.map(
    (step) =>
      ({
        setupRequest: (req: autocannon.Request, context: Record<string, unknown>) => ({ ...req, ...step(context) }),
        ...(steps.length > 1 ? { onResponse: rememberId } : {}),
      }) as autocannon.Request,
  );
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Two variants run in interleaved rounds (a then b, then b then a, …) against this machine's drift,
 * which moves single runs by ±20 %: what each round measured, per variant, in order.
 */
export async function interleaved<V extends string, R>(variants: readonly [V, V], rounds: number, runOnce: (variant: V, round: number) => Promise<R>): Promise<Record<V, R[]>> {
  const runs = { [variants[0]]: [], [variants[1]]: [] } as unknown as Record<V, R[]>;
  for (let round = 0; round < rounds; round++) {
    for (const variant of round % 2 === 0 ? variants : ([variants[1], variants[0]] as const)) runs[variant].push(await runOnce(variant, round));
  }
  return runs;
}
