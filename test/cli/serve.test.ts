import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/app.js';
import { parse as parseYaml } from 'yaml';
import { CLI, runCli, startServerProcess } from '../helpers/process.js';

const dir = tempDir('contextd-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('contextd serve: a real process on a free port, a service life over HTTP, SIGTERM exits 0 and keeps the data', async () => {
  const db = join(dir, 'nested', 'dir', 'serve.db');
  const server = await startServerProcess([], { DATABASE_URL: `sqlite:${db}` });
  assert.ok(existsSync(db), 'the database directory is created');
  const post = (path: string, body: unknown) =>
    fetch(`${server.base}/genesys/1/cs${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const start = await post('/services/start', { contact_key: '555-0100', service_type: 'Billing' });
  assert.equal(start.status, 201);
  const { service_id } = (await start.json()) as { service_id: number };
  assert.equal(start.headers.get('location'), `/genesys/1/cs/services/${service_id}`);
  assert.equal((await post(`/services/${service_id}/end`, { disposition: 'Resolved' })).status, 204);

  const health = await fetch(`${server.base}/health`);
  assert.deepEqual(((await health.json()) as { store: unknown }).store, { kind: 'sqlite', ok: true });

  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.output());

  // a second process on the same file sees what the first acknowledged
  const again = await startServerProcess([], { DATABASE_URL: db });
  const got = (await (await fetch(`${again.base}/genesys/1/cs/services/${service_id}`)).json()) as { disposition: string };
  assert.equal(got.disposition, 'Resolved');
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0);
});

test('contextd serve --config reads a YAML file; env overrides it', async () => {
  const config = join(dir, 'contextd.yaml');
  writeFileSync(config, `port: 1\nhost: 127.0.0.1\ndatabase_url: sqlite:${join(dir, 'from-file.db')}\ncview:\n  not-found-status: 400\n`);
  const server = await startServerProcess(['--config', config], {});
  assert.ok(existsSync(join(dir, 'from-file.db')));
  const res = await fetch(`${server.base}/genesys/1/cs/services/12345`);
  assert.equal(res.status, 400, 'not-found-status from the file');
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});

test('an unknown config key or a bad value stops start-up with a message naming it', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ cview: { expiration: '5y', 'no-such-option': true } }));
  const res = runCli(['serve', '--config', bad]);
  assert.equal(res.status, 2);
  assert.match(res.stderr, /unknown key cview\.no-such-option/);

  writeFileSync(bad, JSON.stringify({ port: 'eighty' }));
  const wrongType = runCli(['serve', '--config', bad]);
  assert.equal(wrongType.status, 2);
  assert.match(wrongType.stderr, /port/);

  const badEnv = runCli(['serve'], { PORT: 'x', DATABASE_URL: join(dir, 'unused.db') });
  assert.equal(badEnv.status, 2);
  assert.match(badEnv.stderr, /PORT/);
});

test('a store that cannot be opened or reached stops start-up with exit 2 and a message naming it (password masked)', () => {
  // under /proc no directory can be made (Node's recursive mkdir spun forever there)
  const proc = runCli(['serve'], { DATABASE_URL: '/proc/contextd-test/x.db' });
  assert.equal(proc.status, 2, proc.stderr);
  assert.match(proc.stderr, /cannot open the store SQLite \/proc\/contextd-test\/x\.db/);

  writeFileSync(join(dir, 'a-file'), '');
  const underFile = runCli(['migrate', '--database-url', join(dir, 'a-file', 'x.db')]);
  assert.equal(underFile.status, 2, underFile.stderr);
  assert.match(underFile.stderr, /a-file\/x\.db/);

  const unreachable = runCli(['migrate', '--database-url', 'postgres://someone:s3cret@127.0.0.1:1/nothing']);
  assert.equal(unreachable.status, 2, unreachable.stderr);
  assert.match(unreachable.stderr, /cannot migrate the store PostgreSQL postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nothing/);
  assert.doesNotMatch(unreachable.stderr, /s3cret/);
});

test('serve logs where to go once it listens: the API, console and docs URLs and the store', async () => {
  const db = join(dir, 'banner.db');
  const server = await startServerProcess([], { DATABASE_URL: db, LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
  const ready = server
    .output()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, string>)
    .find((line) => /^contextd .* ready$/.test(line.msg));
  assert.ok(ready, server.output());
  assert.equal(ready.api, `${server.base}/genesys/1/cs`);
  assert.equal(ready.console, `${server.base}/console`);
  assert.equal(ready.docs, `${server.base}/docs`);
  assert.equal(ready.store, `SQLite ${db}`);
});

test('contextd migrate creates the schema and is idempotent', () => {
  const db = join(dir, 'migrate.db');
  const first = runCli(['migrate'], { DATABASE_URL: db });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /applied migrations: 1, 2/);
  const second = runCli(['migrate'], { DATABASE_URL: db });
  assert.equal(second.status, 0);
  assert.match(second.stdout, /up to date/);
});

test('contextd hash-password prints only a scrypt hash, salted', () => {
  const a = runCli(['hash-password', 's3cret']);
  const b = runCli(['hash-password', 's3cret']);
  assert.equal(a.status, 0);
  assert.match(a.stdout, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
  assert.notEqual(a.stdout, b.stdout);
});

test('contextd export and contextd purge work on the store directly', async () => {
  const db = join(dir, 'maintenance.db');
  const { SqliteStore } = await import('../../src/store/sqlite/index.js');
  const { parseServiceStart } = await import('../../src/domain/events.js');
  const store = new SqliteStore({ path: db, durability: 'full' });
  await store.migrate();
  const old = await store.startService(parseServiceStart({ customer_id: 'CLI', service_type: 'A', timestamp: '2020-01-01T00:00:00Z', Ext: { a: 1 } }, Date.now()));
  const recent = await store.startService(parseServiceStart({ customer_id: 'CLI', service_type: 'B', timestamp: '2024-01-01T00:00:00Z' }, Date.now()));
  await store.close();

  const ids = runCli(['export', '--from', '2019-01-01T00:00:00Z'], { DATABASE_URL: db });
  assert.equal(ids.status, 0, ids.stderr);
  assert.deepEqual(JSON.parse(ids.stdout), [Number(old), Number(recent)]);
  const out = join(dir, 'export.json');
  const content = runCli(['export', '--from', '2019-01-01T00:00:00Z', '--to', '2021-01-01T00:00:00Z', '--content', '--out', out], { DATABASE_URL: db });
  assert.equal(content.status, 0, content.stderr);
  const exported = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(exported.length, 1);
  assert.deepEqual(exported[0].Ext, { a: 1 });

  assert.match(content.stderr, /^exported 1 services \(whole\) to .*export\.json in [\d.]+ s\n$/, 'a summary on stderr');

  const purge = runCli(['purge', '--operation', 'purge.service.all', '--before', '2021-01-01T00:00:00Z', '--yes'], { DATABASE_URL: db });
  assert.equal(purge.status, 0, purge.stderr);
  assert.deepEqual(JSON.parse(purge.stdout), { purged: 1 });
  assert.match(purge.stderr, /^purged 1 services \(purge\.service\.all, started before 2021-01-01T00:00:00\.000Z\) in [\d.]+ s; the file keeps its size until `contextd vacuum`\n$/);
  const bad = runCli(['purge', '--operation', 'purge.nothing', '--before', '2021-01-01T00:00:00Z'], { DATABASE_URL: db });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--operation must be one of/);

  // the command line leaves the same audit records as HTTP
  const audited = new SqliteStore({ path: db, durability: 'full' });
  const audit = await audited.listAudit(10);
  await audited.close();
  assert.deepEqual(
    audit.map((r) => [r.action, r.subject, r.counts.services]),
    [
      ['services.purge', 'purge.service.all', 1],
      ['services.export', 'content', 1],
      ['services.export', 'ids', 2],
    ],
  );
  assert.ok(audit.every((r) => r.actor.startsWith('cli')), audit.map((r) => r.actor).join());
});

/** A store holding `n` services started in 2020. */
async function oldServices(db: string, n: number): Promise<void> {
  const { SqliteStore } = await import('../../src/store/sqlite/index.js');
  const { parseServiceStart } = await import('../../src/domain/events.js');
  const store = new SqliteStore({ path: db, durability: 'full' });
  await store.migrate();
  await Promise.all(Array.from({ length: n }, (_, i) => store.startService(parseServiceStart({ customer_id: `OLD-${i}`, service_type: 'A', timestamp: '2020-01-01T00:00:00Z', Pad: { text: 'x'.repeat(2000) } }, Date.now()))));
  await store.close();
}

const PURGE_2021 = ['purge', '--operation', 'purge.service.all', '--before', '2021-01-01T00:00:00Z'];

test('purge asks before it deletes: --dry-run counts, no terminal and no --yes refuses, a terminal is asked', async () => {
  const db = join(dir, 'confirm.db');
  await oldServices(db, 3);
  const dry = runCli([...PURGE_2021, '--dry-run'], { DATABASE_URL: db });
  assert.equal(dry.status, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout), { would_purge: 3 });
  assert.match(dry.stderr, /dry run: 3 services .* would be purged; nothing was deleted/);

  const unasked = runCli(PURGE_2021, { DATABASE_URL: db });
  assert.equal(unasked.status, 2);
  assert.match(unasked.stderr, /purge would delete 3 services .*add --yes/);

  // on a terminal (script(1) gives the command one), "n" keeps everything and "y" purges
  const onTerminal = (answer: string) =>
    spawnSync('script', ['-qec', [process.execPath, CLI, ...PURGE_2021].map((a) => `'${a}'`).join(' '), '/dev/null'], { input: `${answer}\n`, env: { ...process.env, DATABASE_URL: db }, encoding: 'utf8', timeout: 30_000 });
  const declined = onTerminal('n');
  assert.match(declined.stdout, /Purge 3 services \(purge\.service\.all, started before 2021-01-01T00:00:00\.000Z\)\? This cannot be undone\. \[y\/N\]/);
  assert.match(declined.stdout, /purge cancelled; nothing was deleted/);
  assert.equal(JSON.parse(runCli([...PURGE_2021, '--dry-run'], { DATABASE_URL: db }).stdout).would_purge, 3);
  const accepted = onTerminal('y');
  assert.match(accepted.stdout, /\{"purged":3\}/);
  assert.equal(JSON.parse(runCli([...PURGE_2021, '--dry-run'], { DATABASE_URL: db }).stdout).would_purge, 0);
});

test('contextd vacuum gives the room of purged services back: the SQLite file shrinks', async () => {
  const db = join(dir, 'vacuum.db');
  await oldServices(db, 400);
  assert.equal(runCli([...PURGE_2021, '--yes'], { DATABASE_URL: db }).status, 0);
  const vacuum = runCli(['vacuum'], { DATABASE_URL: db });
  assert.equal(vacuum.status, 0, vacuum.stderr);
  const { bytes_before, bytes_after } = JSON.parse(vacuum.stdout) as { bytes_before: number; bytes_after: number };
  assert.ok(bytes_after < bytes_before / 2, `${bytes_before} → ${bytes_after}`);
  assert.equal(statSync(db).size, bytes_after, 'the WAL is emptied into the file');
  assert.match(vacuum.stderr, /^vacuumed SQLite .*vacuum\.db: [\d.]+ MiB → [\d.]+ MiB in [\d.]+ s\n$/);
});

test('contextd import FILE takes an export back, identically, once; its report on stdout, a summary on stderr', async () => {
  const from = join(dir, 'import-from.db');
  const into = join(dir, 'import-into.db');
  const { SqliteStore } = await import('../../src/store/sqlite/index.js');
  const { parseServiceStart } = await import('../../src/domain/events.js');
  const store = new SqliteStore({ path: from, durability: 'full' });
  await store.migrate();
  for (let i = 0; i < 3; i++) await store.startService(parseServiceStart({ customer_id: `IMP-${i}`, service_type: 'A', timestamp: '2024-01-01T00:00:00Z', Ext: { i } }, Date.now()));
  await store.close();
  const file = join(dir, 'import.json');
  assert.equal(runCli(['export', '--from', '2020-01-01T00:00:00Z', '--content', '--out', file], { DATABASE_URL: from }).status, 0);

  const first = runCli(['import', file], { DATABASE_URL: into });
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { records: 3, imported: 3, already_imported: 0, remapped: [], invalid_count: 0, invalid: [] });
  assert.match(first.stderr, /^imported 3 of 3 services from .*import\.json in [\d.]+ s \([\d,]+\/s\): 0 imported before, 0 with new ids, 0 invalid\n$/);
  const back = join(dir, 'import-back.json');
  assert.equal(runCli(['export', '--from', '2020-01-01T00:00:00Z', '--content', '--out', back], { DATABASE_URL: into }).status, 0);
  assert.equal(readFileSync(back, 'utf8'), readFileSync(file, 'utf8'), 'export → import → export is identical');

  const again = runCli(['import', file], { DATABASE_URL: into });
  assert.equal(JSON.parse(again.stdout).already_imported, 3, 'a re-run adds nothing');
  const missing = runCli(['import', join(dir, 'no-such-file.json')], { DATABASE_URL: into });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no-such-file\.json: ENOENT/);
  writeFileSync(join(dir, 'bad.ndjson'), '{"customer_id":"X","service_type":"A"}\n');
  const bad = runCli(['import', join(dir, 'bad.ndjson')], { DATABASE_URL: into });
  assert.equal(bad.status, 1, 'an invalid record: exit 1, with the report');
  assert.match(JSON.parse(bad.stdout).invalid[0].reason, /started/);

  const audited = new SqliteStore({ path: into, durability: 'full' });
  const audit = await audited.listAudit(10);
  await audited.close();
  assert.deepEqual(audit.filter((r) => r.action === 'services.import').map((r) => r.counts.services), [0, 0, 3], 'each run audited, newest first');
});

test('export names its flags in errors', () => {
  const db = join(dir, 'flags.db');
  const state = runCli(['export', '--from', '2020-01-01T00:00:00Z', '--state', 'active'], { DATABASE_URL: db });
  assert.equal(state.status, 2);
  assert.match(state.stderr, /--state is only allowed with --content/);
  const from = runCli(['export', '--from', 'yesterday'], { DATABASE_URL: db });
  assert.equal(from.status, 2);
  assert.match(from.stderr, /--from must be an ISO 8601 date-time/);
  const events = runCli(['export', '--from', '2020-01-01T00:00:00Z', '--events', 'some'], { DATABASE_URL: db });
  assert.match(events.stderr, /--events must be any, started or completed/);
});

test('contextd config check FILE and contextd config print (the configuration in force, secrets masked)', () => {
  const hash = runCli(['hash-password', 'pw']).stdout.trim();
  const file = join(dir, 'checked.yaml');
  writeFileSync(file, `database_url: postgres://me:hunter2@db.example:5432/cs\ncview:\n  use-role: true\nusers:\n  - name: admin\n    password_hash: "${hash}"\n    roles: [Administrator]\n`);
  const check = runCli(['config', 'check', file]);
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stdout, `${file}: ok (PostgreSQL postgres://me:***@db.example:5432/cs, single-tenant, 1 user, roles on)\n`);
  writeFileSync(join(dir, 'wrong.yaml'), 'cview:\n  nope: 1\n');
  const wrong = runCli(['config', 'check', join(dir, 'wrong.yaml')]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /unknown key cview\.nope/);

  const print = runCli(['config', 'print', '--config', file, '--port', '9999'], { LOG_LEVEL: 'debug' });
  assert.equal(print.status, 0, print.stderr);
  assert.doesNotMatch(print.stdout, /hunter2|scrypt/);
  const printed = parseYaml(print.stdout) as Record<string, unknown>;
  assert.equal(printed.port, 9999, 'flags apply');
  assert.equal(printed.log_level, 'debug', 'the environment applies');
  assert.equal(printed.database_url, 'postgres://me:***@db.example:5432/cs');
  assert.deepEqual(printed.users, [{ name: 'admin', password_hash: '***', roles: ['Administrator'] }]);
  assert.equal((printed.cview as Record<string, unknown>).expiration, '5y', 'defaults are shown');
  // what it prints is a config file start-up accepts
  writeFileSync(join(dir, 'printed.yaml'), print.stdout.replace('password_hash: "***"', `password_hash: "${hash}"`).replace('me:***@', 'me:x@'));
  assert.equal(runCli(['config', 'check', join(dir, 'printed.yaml')]).status, 0);
});

test('multi-tenant serve: a partition file per (tenant, group); CLI export and purge take --tenant / --group', async () => {
  const db = join(dir, 'tenants', 'contextd.db');
  const config = join(dir, 'tenants.yaml');
  writeFileSync(config, 'tenants:\n  - id: 101\n    name: Acme\n    groups: [Sales]\n  - id: 102\n    name: Globex\n');
  const server = await startServerProcess(['--config', config], { DATABASE_URL: db });
  const start = (headers: Record<string, string>, body: unknown) =>
    fetch(`${server.base}/genesys/1/cs/services/start`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  try {
    assert.equal((await start({}, { customer_id: 'C', service_type: 'A' })).status, 400);
    const acme = await start({ ContactCenterId: 'Acme' }, { customer_id: 'C-ACME', service_type: 'A', timestamp: '2020-01-01T00:00:00Z' });
    assert.equal(acme.status, 201);
    const sales = await start({ ContactCenterId: '101', GroupId: 'Sales' }, { customer_id: 'C-SALES', service_type: 'A', timestamp: '2020-01-01T00:00:00Z' });
    assert.equal(sales.status, 201);
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  }
  const files = readdirSync(join(dir, 'tenants')).filter((f) => f.endsWith('.db')).sort();
  assert.equal(files.length, 4, files.join(' '));
  assert.deepEqual([files[0], files[1], files[3]], ['contextd.db', 'contextd.t101.db', 'contextd.t102.db']);
  assert.match(files[2], /^contextd\.t101_g_sales_[0-9a-f]{8}\.db$/);

  const exportOf = (...flags: string[]) => runCli(['export', '--from', '2019-01-01T00:00:00Z', '--content', '--config', config, ...flags], { DATABASE_URL: db });
  const acmeExport = exportOf('--tenant', 'acme');
  assert.equal(acmeExport.status, 0, acmeExport.stderr);
  assert.deepEqual(JSON.parse(acmeExport.stdout).map((s: { customer_id: string }) => s.customer_id), ['C-ACME']);
  assert.deepEqual(JSON.parse(exportOf('--tenant', '101', '--group', 'sales').stdout).map((s: { customer_id: string }) => s.customer_id), ['C-SALES']);
  assert.deepEqual(JSON.parse(exportOf('--tenant', 'Globex').stdout), []);
  const missing = exportOf();
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--tenant \/ --group: Invalid tenant specified : no tenant specified/);

  const purge = runCli(['purge', '--operation', 'purge.service.all', '--before', '2021-01-01T00:00:00Z', '--config', config, '--tenant', '101', '--group', 'Sales', '--yes'], { DATABASE_URL: db });
  assert.deepEqual(JSON.parse(purge.stdout), { purged: 1 });
  assert.deepEqual(JSON.parse(exportOf('--tenant', 'acme').stdout).length, 1, "the tenant's own partition keeps its service");
  const single = runCli(['purge', '--operation', 'purge.service.all', '--before', '2021-01-01T00:00:00Z', '--tenant', '101'], { DATABASE_URL: db });
  assert.equal(single.status, 2);
  assert.match(single.stderr, /the config has no tenants/);
});
