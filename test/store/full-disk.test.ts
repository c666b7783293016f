// SQLite with no room left (a full disk, simulated by capping the file with max_page_count): writes
// get 503 JSON errors, never a 5xx bug or a crash; what was acknowledged stays readable; the file
// passes an integrity check; and once room is made, writes succeed again without a restart.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { buildApp } from '../../src/http/app.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { EXC, tempDir } from '../helpers/app.js';

test('a full SQLite store answers 503 and is not corrupted; it recovers when room is made', async () => {
  const dir = tempDir();
  const path = join(dir, 'full.db');
  // the schema alone takes about 210 KiB (of 4 KiB pages): the cap leaves room for some data after it
  const store = new SqliteStore({ path, durability: 'full', maxBytes: 512 * 1024 });
  await store.migrate();
  const app = await buildApp({ store });
  try {
    const start = (i: number) =>
      app.inject({ method: 'POST', url: '/genesys/1/cs/services/start', headers: { 'content-type': 'application/json' }, payload: { customer_id: `FULL-${i % 50}`, service_type: 'A', Notes: { text: 'n'.repeat(2000) } } });
    const acknowledged: string[] = [];
    let full = 0;
    for (let round = 0; round < 40 && full < 20; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => start(round * 20 + i)));
      for (const answer of answers) {
        assert.ok(answer.statusCode === 201 || answer.statusCode === 503, `${answer.statusCode} ${answer.body}`);
        if (answer.statusCode === 201) acknowledged.push(String(answer.json().service_id));
        else {
          full++;
          assert.equal(answer.json().exception, `${EXC}StoreUnavailableException`);
          assert.match(answer.json().message, /full/);
        }
      }
    }
    assert.ok(full >= 20, 'the cap was reached');
    assert.ok(acknowledged.length > 10);
    for (const id of acknowledged) assert.equal((await app.inject({ method: 'GET', url: `/genesys/1/cs/services/${id}` })).statusCode, 200, id);
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'reads go on');

    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
    check.close();

    const purged = await app.inject({ method: 'POST', url: '/genesys/1/cs/maintenance/purge', headers: { 'content-type': 'application/json' }, payload: { limit: '2100-01-01T00:00:00Z', operation: 'purge.service.all' } });
    assert.equal(purged.statusCode, 200, purged.body);
    assert.equal((await start(0)).statusCode, 201, 'room was made: writes succeed again');
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
