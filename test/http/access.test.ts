import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashPassword } from '../../src/domain/access.js';
import { EXC, createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const basic = (name: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });
const ADMIN = basic('admin', 'adm1n-pass');
const SUPERVISOR = basic('sup', 'sup-pass');

before(async () => {
  t = await createTestApp({
    users: [
      { name: 'admin', password_hash: hashPassword('adm1n-pass'), roles: ['Administrator'] },
      { name: 'sup', password_hash: hashPassword('sup-pass'), roles: ['Supervisor'] },
      { name: 'nobody', password_hash: hashPassword('x'), roles: [] },
    ],
  });
});
after(async () => t.close());

test('no or bad credentials: 401 with WWW-Authenticate, nothing written', async () => {
  for (const headers of [{}, basic('admin', 'wrong'), basic('ghost', 'adm1n-pass'), { authorization: 'Bearer abc' }, { authorization: 'Basic !!!' }]) {
    const res = await t.request('POST', '/services/start', { customer_id: 'R1', service_type: 'A' }, headers);
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="contextd"/);
    assert.equal(res.json().exception, `${EXC}AuthenticationException`);
  }
  assert.deepEqual((await t.request('GET', '/customers/R1/services', undefined, ADMIN)).json(), []);
});

test('a script asking with X-Requested-With gets the 401 without the Basic challenge (no browser prompt)', async () => {
  const res = await t.request('GET', '/customers/R1/services', undefined, { 'x-requested-with': 'contextd-console' });
  assert.equal(res.statusCode, 401);
  assert.equal(res.headers['www-authenticate'], undefined);
  assert.equal(res.json().exception, `${EXC}AuthenticationException`);
});

test('Administrator reads and writes; Supervisor reads; writes by a Supervisor are 403 Requires permission', async () => {
  const start = await t.request('POST', '/services/start', { customer_id: 'R2', service_type: 'A' }, ADMIN);
  assert.equal(start.statusCode, 201);
  const id = start.json().service_id;
  assert.equal((await t.request('GET', `/services/${id}`, undefined, ADMIN)).statusCode, 200);
  assert.equal((await t.request('GET', `/services/${id}`, undefined, SUPERVISOR)).statusCode, 200);
  for (const [method, path] of [
    ['POST', `/services/${id}/end`],
    ['DELETE', `/services/${id}`],
    ['PUT', `/services/${id}`],
    ['POST', '/metadata/services/extensions'],
  ]) {
    const res = await t.request(method, path, {}, SUPERVISOR);
    assert.equal(res.statusCode, 403, `${method} ${path}`);
    assert.deepEqual(res.json(), { message: 'Requires permission', exception: 'java.rmi.AccessException' });
  }
  assert.equal((await t.request('GET', `/services/${id}`, undefined, basic('nobody', 'x'))).statusCode, 403, 'a user without roles reads nothing');
  assert.equal((await t.request('GET', `/services/${id}`, undefined, ADMIN)).json().completed, undefined, 'the refused end wrote nothing');
});

test('/health and /openapi.json answer without credentials', async () => {
  assert.equal((await t.request('GET', '/health')).statusCode, 200);
  assert.equal((await t.request('GET', '/openapi.json')).statusCode, 200);
});
