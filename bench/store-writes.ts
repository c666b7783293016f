// In-process state starts on one SQLite store, no HTTP: `node --import tsx bench/store-writes.ts`.
// 50 concurrent writers on 500 services, 20,000 starts per round after a warm-up; prints starts/s and
// the process's CPU per start for three rounds. For before/after comparisons of the store's write
// path, run it interleaved on two checkouts (the machine's noise moves single rounds by ±20 %).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServiceStart, parseStateStart } from '../src/domain/events.js';
import { SqliteStore } from '../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'contextd-store-writes-'));
const store = new SqliteStore({ path: join(dir, 'writes.db'), durability: 'full' });
await store.migrate();
const ids: bigint[] = [];
for (let i = 0; i < 500; i++) ids.push(await store.startService(parseServiceStart({ customer_id: `c${i}`, service_type: 'T1' }, Date.now())));

async function round(n: number): Promise<{ perSecond: number; cpuUs: number }> {
  let k = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async (_, writer) => {
      while (k++ < n) await store.startState(ids[(k + writer) % ids.length], parseStateStart({ state_type: 'Waiting for service agent' }, Date.now()));
    }),
  );
  const used = process.cpuUsage(cpu);
  return { perSecond: Math.round(n / ((performance.now() - began) / 1000)), cpuUs: Math.round((used.user + used.system) / n) };
}

await round(5000);
for (let i = 0; i < 3; i++) console.log(JSON.stringify(await round(20_000)));
await store.close();
rmSync(dir, { recursive: true, force: true });
