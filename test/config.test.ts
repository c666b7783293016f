import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseDatabaseUrl } from '../src/config.js';
import { hashPassword } from '../src/domain/access.js';

test('defaults: port 8080, host 127.0.0.1, ./data/contextd.db, durability full, 404', () => {
  const config = loadConfig({}, {});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.deepEqual(config.database, { kind: 'sqlite', path: resolve('./data/contextd.db') });
  assert.equal(config.durability, 'full');
  assert.equal(config.notFoundStatus, 404);
  assert.equal(config.limits.bodyBytes, 1024 * 1024);
});

test('environment overrides, flags over environment', () => {
  const config = loadConfig({ host: '0.0.0.0' }, { PORT: '9090', HOST: '10.0.0.1', DATABASE_URL: 'sqlite:/tmp/x.db' });
  assert.equal(config.port, 9090);
  assert.equal(config.host, '0.0.0.0');
  assert.deepEqual(config.database, { kind: 'sqlite', path: '/tmp/x.db' });
});

test('DATABASE_URL forms', () => {
  assert.deepEqual(parseDatabaseUrl('/var/lib/c.db'), { kind: 'sqlite', path: '/var/lib/c.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/c.db'), { kind: 'sqlite', path: '/var/lib/c.db' });
  assert.deepEqual(parseDatabaseUrl('file:rel.db'), { kind: 'sqlite', path: resolve('rel.db') });
  assert.deepEqual(parseDatabaseUrl('postgres://u@h/db'), { kind: 'postgres', url: 'postgres://u@h/db' });
  assert.throws(() => parseDatabaseUrl('mysql://x/y'), ConfigError);
  assert.throws(() => parseDatabaseUrl('sqlite:'), ConfigError);
});

test('a missing file is named; use-role needs valid users; tenants must be consistent', () => {
  assert.throws(() => loadConfig({ configFile: 'nonexistent.json' }, {}), /cannot read config file nonexistent\.json/);
  const dir = mkdtempSync(join(tmpdir(), 'contextd-config-'));
  const roles = join(dir, 'roles.json');
  writeFileSync(roles, JSON.stringify({ cview: { 'use-role': true } }));
  assert.throws(() => loadConfig({ configFile: roles }, {}), /cview\.use-role is on but users is empty/);
  writeFileSync(roles, JSON.stringify({ cview: { 'use-role': true }, users: [{ name: 'a', password_hash: 'scrypt$nope', roles: ['Supervisor'] }] }));
  assert.throws(() => loadConfig({ configFile: roles }, {}), /users\[0\]\.password_hash/);
  writeFileSync(roles, JSON.stringify({ cview: { 'use-role': true }, users: [{ name: 'a', password_hash: hashPassword('p'), roles: ['Supervisor'] }] }));
  assert.equal(loadConfig({ configFile: roles }, {}).useRole, true);
  const tenants = join(dir, 'tenants.yaml');
  writeFileSync(tenants, 'tenants:\n  - id: 101\n    name: Acme\n    groups: [Sales, Care]\n');
  assert.deepEqual(loadConfig({ configFile: tenants }, {}).tenants, [{ id: 101, name: 'Acme', groups: ['Sales', 'Care'] }]);
  writeFileSync(tenants, 'tenants:\n  - id: 101\n    name: Acme\n  - id: 101\n    name: Other\n');
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /tenants: a tenant id appears twice/);
  writeFileSync(tenants, 'tenants:\n  - id: 101\n    name: Acme\n  - id: 102\n    name: "101"\n');
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /is another tenant's id/);
  writeFileSync(tenants, 'tenants:\n  - id: 101\n    name: Acme\n    groups: [Sales, sales]\n');
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /lists a group twice/);
  writeFileSync(tenants, 'tenants:\n  - id: 101\n    name: Acme\nbusiness-attributes:\n  tenants:\n    Globex: {}\n');
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /business-attributes\.tenants: Globex is not a tenant/);
  writeFileSync(tenants, 'tenants:\n  - id: 101\n    name: Acme\nbusiness-attributes:\n  tenants:\n    "101":\n      mapping: { Service.type: Nope }\n');
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /Service\.type names Nope/);
  const user = (tenantsOfUser?: unknown) => ({ name: 'a', password_hash: hashPassword('p'), roles: ['Supervisor'], ...(tenantsOfUser ? { tenants: tenantsOfUser } : {}) });
  const withUser = (tenantsOfUser?: unknown) =>
    writeFileSync(tenants, JSON.stringify({ tenants: [{ id: 101, name: 'Acme', groups: ['Sales'] }], cview: { 'use-role': true }, users: [user(tenantsOfUser)] }));
  withUser();
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /users\[0\] \(a\): with tenants, each user lists the tenants it may use/);
  withUser(['Globex']);
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /users\[0\]\.tenants: tenant "Globex" is not one of tenants/);
  withUser([{ tenant: 101, groups: ['Care'] }]);
  assert.throws(() => loadConfig({ configFile: tenants }, {}), /group "Care" is not a group of tenant Acme/);
  withUser(['acme', { tenant: 'Acme', groups: ['sales'] }, '*']);
  assert.equal(loadConfig({ configFile: tenants }, {}).users[0].tenants?.length, 3);
  const accepted = join(dir, 'accepted.yaml');
  writeFileSync(accepted, 'cview:\n  expiration: 2w\n  data-validation: true\ndurability: relaxed\n');
  assert.equal(loadConfig({ configFile: accepted }, {}).durability, 'relaxed');
  writeFileSync(accepted, 'cview:\n  expiration: 2 weeks\n');
  assert.throws(() => loadConfig({ configFile: accepted }, {}), /cview\.expiration/);
  rmSync(dir, { recursive: true, force: true });
});

test('events: retention and the NATS relay (stream and subject prefix default; a bad prefix names itself)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'contextd-config-'));
  try {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'events:\n  retention: 3d\n  nats:\n    url: nats://127.0.0.1:4222\n');
    const config = loadConfig({ configFile: file }, {});
    assert.equal(config.eventRetention, '3d');
    assert.deepEqual(config.nats, { url: 'nats://127.0.0.1:4222', stream: 'CONTEXTD', subjectPrefix: 'contextd' });
    writeFileSync(file, 'events:\n  nats:\n    url: nats://x\n    subject_prefix: "a b"\n');
    assert.throws(() => loadConfig({ configFile: file }, {}), (error: unknown) => error instanceof ConfigError && /subject_prefix/.test(error.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
