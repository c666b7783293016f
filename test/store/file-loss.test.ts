// The SQLite file taken away under a running server: deleted or replaced (writes would go into an
// unlinked file and be lost at restart), or no longer writable. Writes answer 503
// StoreUnavailableException and /health says the store cannot write; nothing is acknowledged that
// could be lost.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { EXC, tempDir } from '../helpers/app.js';

async function openApp(path: string) {
  const store = new SqliteStore({ path, durability: 'full' });
  await store.migrate();
  const app = await buildApp({ store });
  const start = () => app.inject({ method: 'POST', url: '/genesys/1/cs/services/start', headers: { 'content-type': 'application/json' }, payload: { customer_id: 'FILE', service_type: 'A' } });
  const health = () => app.inject({ method: 'GET', url: '/health' });
  return { store, app, start, health };
}

test('the database file deleted while running: writes get 503, /health reports it', async () => {
  const dir = tempDir();
  const path = join(dir, 'gone.db');
  const { store, app, start, health } = await openApp(path);
  try {
    assert.equal((await start()).statusCode, 201);
    assert.equal((await health()).statusCode, 200);
    unlinkSync(path);
    for (let i = 0; i < 5; i++) {
      const res = await start();
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().exception, `${EXC}StoreUnavailableException`);
      assert.match(res.json().message, /was deleted while open/);
    }
    const h = await health();
    assert.equal(h.statusCode, 503);
    assert.match(h.json().store.detail, /deleted while open/);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the database file replaced by another file: writes get 503', async () => {
  const dir = tempDir();
  const path = join(dir, 'replaced.db');
  const { store, app, start, health } = await openApp(path);
  try {
    assert.equal((await start()).statusCode, 201);
    const other = new SqliteStore({ path: join(dir, 'other.db'), durability: 'full' });
    await other.close();
    renameSync(join(dir, 'other.db'), path);
    assert.equal((await start()).statusCode, 503);
    assert.match((await health()).json().store.detail, /replaced while open/);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database file that cannot be written (immutable): writes get 503 and /health says the store cannot write; both recover', async (t) => {
  // root ignores file modes; an immutable file (chattr +i, ext4) refuses even root's writes, on open descriptors too
  const dir = tempDir();
  const path = join(dir, 'readonly.db');
  const { store, app, start, health } = await openApp(path);
  const files = [path, `${path}-wal`];
  try {
    assert.equal((await start()).statusCode, 201);
    assert.equal((await health()).statusCode, 200);
    try {
      execFileSync('chattr', ['+i', ...files], { stdio: 'ignore' });
    } catch {
      return t.skip('chattr +i needs root on ext4 (CI has both)');
    }
    const write = await start();
    assert.equal(write.statusCode, 503, write.body);
    assert.equal(write.json().exception, `${EXC}StoreUnavailableException`);
    const h = await health();
    assert.equal(h.statusCode, 503, h.body);
    assert.equal(h.json().store.ok, false);
    execFileSync('chattr', ['-i', ...files]);
    assert.equal((await health()).statusCode, 200);
    assert.equal((await start()).statusCode, 201);
  } finally {
    execFileSync('chattr', ['-i', ...files], { stdio: 'ignore' });
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
