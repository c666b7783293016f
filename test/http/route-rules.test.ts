// Every route's access rule, under every spelling the router accepts: the rule is declared on the
// route, so a trailing slash or a percent-encoded letter reaches the same rule. No credentials: 401 on
// every API route; a Supervisor: 403 exactly where the route needs Administrator (every write, and
// the reads that declare it); the routes outside the API answer without credentials.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashPassword, requiredRole } from '../../src/domain/access.js';
import { BASE, createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
before(async () => {
  t = await createTestApp({ users: [{ name: 'sup', password_hash: hashPassword('pw'), roles: ['Supervisor'] }] });
});
after(async () => t.close());

/** The route's path with ids filled in, and the other spellings the router takes for it. */
function spellings(url: string): string[] {
  const path = url.replace(/:[a-z_]+/g, '1');
  const rest = path.slice(BASE.length + 1); // e.g. services/1/end
  const letter = rest.search(/[a-z]/);
  const encoded = `${BASE}/${rest.slice(0, letter)}%${rest.charCodeAt(letter).toString(16)}${rest.slice(letter + 1)}`;
  return [path, `${path}/`, encoded, `${encoded}/`];
}

test('every API route, every spelling: 401 without credentials, 403 for a Supervisor exactly where Administrator is needed', async () => {
  const routes = t.app.routeTable.filter((r) => r.url.startsWith(`${BASE}/`));
  assert.ok(routes.length > 40);
  let checked = 0;
  for (const route of routes) {
    const needsAdmin = requiredRole(route.method, route.requires) === 'Administrator';
    for (const url of spellings(route.url)) {
      const payload = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
      const headers = payload ? { 'content-type': 'application/json' } : {};
      const anonymous = await t.app.inject({ method: route.method as 'GET', url, payload, headers });
      assert.equal(anonymous.statusCode, 401, `${route.method} ${url} without credentials: ${anonymous.body}`);
      // the events stream would stay open: its rule is checked without following it
      if (route.url.endsWith('/events') && !needsAdmin) continue;
      const supervisor = await t.app.inject({ method: route.method as 'GET', url, payload, headers: { ...headers, authorization: basic('sup', 'pw') } });
      if (needsAdmin) assert.equal(supervisor.statusCode, 403, `${route.method} ${url} as Supervisor: ${supervisor.body}`);
      else assert.ok(![401, 403].includes(supervisor.statusCode), `${route.method} ${url} as Supervisor: ${supervisor.statusCode} ${supervisor.body}`);
      checked++;
    }
  }
  assert.ok(checked > 150, `${checked} checks`);
  assert.ok(routes.some((r) => r.method === 'GET' && r.requires === 'Administrator'), 'some reads declare Administrator');
});

test('the routes outside the API answer without credentials', async () => {
  for (const url of ['/health', '/openapi.json', '/console', '/docs/']) {
    const res = await t.app.inject({ method: 'GET', url });
    assert.ok(res.statusCode < 400, `${url}: ${res.statusCode}`);
  }
});
