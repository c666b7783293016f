import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

describe('POST /services/start', () => {
  test('201 with service_id, Location, and the stored service readable back', async () => {
    const res = await t.request('POST', '/services/start', {
      contact_key: '555-0100',
      service_type: 'Billing',
      interaction_id: 'IX-42',
      media_type: 'voice',
      est_duration: 120,
      timestamp: '2024-03-01T11:00:00.000+01:00',
      Cart: { items: 2, total: 59.9 },
    });
    assert.equal(res.statusCode, 201);
    const { service_id } = res.json();
    assert.equal(typeof service_id, 'number');
    assert.equal(res.headers.location, `/genesys/1/cs/services/${service_id}`);

    const got = await t.request('GET', `/services/${service_id}?extensions=Cart`);
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), {
      service_id,
      service_type: 'Billing',
      contact_key: '555-0100',
      est_duration: 120,
      started: { timestamp: '2024-03-01T10:00:00.000Z', interaction_id: 'IX-42', media_type: 'voice' },
      Cart: { items: 2, total: 59.9 },
    });
  });

  test('extensions are returned only when asked for', async () => {
    const id = await startService(t, { customer_id: 'C-ext', service_type: 1, Survey: { q: 1 }, Other: [{ a: 1 }, { a: 2 }] });
    const plain = (await t.request('GET', `/services/${id}`)).json();
    assert.equal(plain.Survey, undefined);
    assert.equal(plain.Other, undefined);
    const one = (await t.request('GET', `/services/${id}?extensions=survey`)).json();
    assert.deepEqual(one.Survey, { q: 1 });
    assert.equal(one.Other, undefined);
    const all = (await t.request('GET', `/services/${id}?extensions=*`)).json();
    assert.deepEqual(all.Other, [{ a: 1 }, { a: 2 }]);
    const repeated = (await t.request('GET', `/services/${id}?extensions=Survey&extensions=Other`)).json();
    assert.deepEqual(Object.keys(repeated).filter((k) => k === 'Survey' || k === 'Other').sort(), ['Other', 'Survey']);
  });

  test('numeric strings become integers; numbers become string ids; "long or string" values keep their JSON type', async () => {
    const id = await startService(t, {
      customer_id: 12345,
      service_type: 211,
      est_duration: '60',
      application_id: '-7',
      resource_id: 42,
      application_type: 'IVR',
      session_id: 99,
    });
    const body = (await t.request('GET', `/services/${id}`)).json();
    assert.equal(body.customer_id, '12345');
    assert.equal(body.service_type, 211);
    assert.equal(body.est_duration, 60);
    assert.equal(body.started.application_id, -7);
    assert.equal(body.started.resource_id, 42);
    assert.equal(body.started.application_type, 'IVR');
    assert.equal(body.started.session_id, '99');
  });

  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ['neither customer_id nor contact_key', { service_type: 'A' }, /customer_id or contact_key is mandatory/],
    ['no service_type', { customer_id: 'C' }, /service_type/],
    ['boolean customer_id (no Ajv coercion)', { customer_id: true, service_type: 'A' }, /customer_id/],
    ['empty customer_id', { customer_id: '', service_type: 'A' }, /customer_id/],
    ['float service_type', { customer_id: 'C', service_type: 1.5 }, /service_type/],
    ['service_type beyond 64 bits', { customer_id: 'C', service_type: 1e20 }, /service_type/],
    ['est_duration with an exponent string', { customer_id: 'C', service_type: 'A', est_duration: '1e3' }, /est_duration/],
    ['est_duration beyond 32 bits', { customer_id: 'C', service_type: 'A', est_duration: '2147483648' }, /est_duration/],
    ['est_duration as an object', { customer_id: 'C', service_type: 'A', est_duration: {} }, /est_duration/],
    ['bad timestamp', { customer_id: 'C', service_type: 'A', timestamp: '2024-02-30T10:00:00Z' }, /timestamp/],
    ['timestamp without zone', { customer_id: 'C', service_type: 'A', timestamp: '2024-03-01T10:00:00' }, /timestamp/],
    ['negative ttl', { customer_id: 'C', service_type: 'A', ttl: -1 }, /ttl/],
    ['bad expiration_time beside a ttl', { customer_id: 'C', service_type: 'A', ttl: 10, expiration_time: 'soon' }, /expiration_time/],
  ];
  for (const [name, body, message] of rejected) {
    test(`400 and nothing written: ${name}`, async () => {
      const before = (await t.request('GET', '/customers/C/services')).json().length;
      const res = await t.request('POST', '/services/start', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().exception, `${EXC}ValidationException`);
      assert.match(res.json().message, message);
      assert.equal((await t.request('GET', '/customers/C/services')).json().length, before);
    });
  }

  test('a rejected start leaves no row behind and does not consume the next id slot visibly', async () => {
    const count = async (table: string) => Number((await t.raw(`SELECT count(*) AS n FROM ${table}`))[0].n);
    const [services0, extensions0] = [await count('services'), await count('extensions')];
    const res = await t.request('POST', '/services/start', { customer_id: 'C', service_type: 'A', est_duration: 'x', Ext: { a: 1 } });
    assert.equal(res.statusCode, 400);
    assert.equal(await count('services'), services0);
    assert.equal(await count('extensions'), extensions0);
  });

  test('a missing body or a non-object body is a 400', async () => {
    assert.equal((await t.request('POST', '/services/start')).statusCode, 400);
    assert.equal((await t.request('POST', '/services/start', [1, 2])).statusCode, 400);
    assert.equal((await t.request('POST', '/services/start', '"text"')).statusCode, 400);
  });
});

describe('POST /services/{id}/end', () => {
  test('204, then the service is completed with hoisted disposition and duration; a second end is 409 and changes nothing', async () => {
    const id = await startService(t, { customer_id: 'C-end', service_type: 'A', timestamp: '2024-01-01T00:00:00.000Z' });
    const end = await t.request('POST', `/services/${id}/end`, {
      disposition: 'Resolved',
      disposition_desc: 'paid online',
      interaction_id: 'IX-9',
      timestamp: '2024-01-01T00:00:05.250Z',
      service_type: 'ignored on end',
      customer_id: 'ignored on end',
      Feedback: { rating: 5 },
    });
    assert.equal(end.statusCode, 204);
    assert.equal(end.body, '');
    const body = (await t.request('GET', `/services/${id}?extensions=Feedback`)).json();
    assert.equal(body.disposition, 'Resolved');
    assert.equal(body.disposition_desc, 'paid online');
    assert.equal(body.duration, 5250);
    assert.equal(body.customer_id, 'C-end');
    assert.equal(body.service_type, 'A');
    assert.deepEqual(body.completed, { timestamp: '2024-01-01T00:00:05.250Z', interaction_id: 'IX-9' });
    assert.deepEqual(body.Feedback, { rating: 5 });

    const again = await t.request('POST', `/services/${id}/end`, { disposition: 'Other', timestamp: '2025-01-01T00:00:00Z' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().exception, `${EXC}ConflictException`);
    const unchanged = (await t.request('GET', `/services/${id}`)).json();
    assert.equal(unchanged.disposition, 'Resolved');
    assert.equal(unchanged.completed.timestamp, '2024-01-01T00:00:05.250Z');
  });

  test('no body at all ends the service with the server time', async () => {
    const id = await startService(t, { customer_id: 'C-end2', service_type: 'A' });
    const res = await t.request('POST', `/services/${id}/end`);
    assert.equal(res.statusCode, 204);
    const body = (await t.request('GET', `/services/${id}`)).json();
    assert.ok(Math.abs(Date.parse(body.completed.timestamp) - Date.now()) < 60_000);
  });

  test('unknown service: 404 with the documented message', async () => {
    const res = await t.request('POST', '/services/987654321/end', {});
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { message: 'There are no service found for : 987654321', exception: `${EXC}NotFoundException` });
  });
});

describe('service ids', () => {
  test('path ids that are not 64-bit decimal integers are 400; well-formed unknown ids are 404', async () => {
    for (const bad of ['abc', '1.5', '9223372036854775808', '0x10', '1e3']) {
      const res = await t.request('GET', `/services/${bad}`);
      assert.equal(res.statusCode, 400, bad);
      assert.match(res.json().message, /service_id/);
    }
    assert.equal((await t.request('GET', '/services/9223372036854775807')).statusCode, 404);
  });

  test('ids above 2^53 survive exactly, in and out', async () => {
    // its own store: ids above 2^53 would make JSON.parse in the other tests round
    const t = await createTestApp();
    after(async () => t.close());
    await t.insertServiceWithId(9007199254740993n, 'C-big');
    const got = await t.request('GET', '/services/9007199254740993');
    assert.equal(got.statusCode, 200);
    assert.match(got.body, /"service_id":9007199254740993[,}]/);
    // the next id continues above it, exactly
    const next = await t.request('POST', '/services/start', { customer_id: 'C-big', service_type: 'A' });
    assert.match(next.body, /^\{"service_id":9007199254740994\}$/);
    assert.equal(next.headers.location, '/genesys/1/cs/services/9007199254740994');
    const list = await t.request('GET', '/customers/C-big/services');
    assert.match(list.body, /"service_id":9007199254740993,.*"service_id":9007199254740994[,}]/);
  });

  test('"long or string" values and extension numbers beyond 2^53 round-trip exactly', async () => {
    const res = await t.request(
      'POST',
      '/services/start',
      '{"customer_id":"C-long","service_type":9223372036854775807,"media_type":-9223372036854775808,"Big":{"n":123456789012345678901234}}',
    );
    assert.equal(res.statusCode, 201, res.body);
    const id = res.json().service_id;
    const got = await t.request('GET', `/services/${id}?extensions=Big`);
    assert.match(got.body, /"service_type":9223372036854775807[,}]/);
    assert.match(got.body, /"media_type":-9223372036854775808[,}]/);
    assert.match(got.body, /"Big":\{"n":123456789012345678901234\}/);
    const tooBig = await t.request('POST', '/services/start', '{"customer_id":"C-long","service_type":9223372036854775808}');
    assert.equal(tooBig.statusCode, 400);
  });
});

describe('DELETE /services/{id}', () => {
  test('200, then 404; its states, tasks and extensions are gone too', async () => {
    const id = await startService(t, { customer_id: 'C-del', service_type: 'A', Ext: { a: 1 } });
    const state = (await t.request('POST', `/services/${id}/states/start`, { state_type: 1, SExt: { b: 1 } })).json().state_id;
    const task = (await t.request('POST', `/services/${id}/tasks/start`, { state_id: state, TExt: { c: 1 } })).json().task_id;
    const res = await t.request('DELETE', `/services/${id}`, undefined, { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 200);
    assert.equal((await t.request('GET', `/services/${id}`)).statusCode, 404);
    assert.equal((await t.request('DELETE', `/services/${id}`)).statusCode, 404);
    const count = async (sql: string, param: unknown) => Number((await t.raw(sql, param))[0].n);
    assert.equal(await count('SELECT count(*) AS n FROM states WHERE state_id = ?', state), 0);
    assert.equal(await count('SELECT count(*) AS n FROM tasks WHERE task_id = ?', task), 0);
    assert.equal(await count('SELECT count(*) AS n FROM extensions WHERE service_id = ?', BigInt(id)), 0);
  });
});

describe('PUT /services/{id} (expiration)', () => {
  test('200 for ttl or expiration_time; 400 for neither or a negative ttl; 404 for unknown', async () => {
    const id = await startService(t, { customer_id: 'C-ttl', service_type: 'A' });
    assert.equal((await t.request('PUT', `/services/${id}`, { ttl: 86400 })).statusCode, 200);
    assert.equal((await t.request('PUT', `/services/${id}`, { expiration_time: '2030-01-01T00:00:00Z' })).statusCode, 200);
    assert.equal((await t.request('PUT', `/services/${id}`, { ttl: '3600' })).statusCode, 200);
    assert.equal((await t.request('PUT', `/services/${id}`, {})).statusCode, 400);
    assert.equal((await t.request('PUT', `/services/${id}`, { ttl: -5 })).statusCode, 400);
    assert.equal((await t.request('PUT', `/services/${id}`, { ttl: 5, expiration_time: 'nope' })).statusCode, 400);
    assert.equal((await t.request('PUT', '/services/77777777/', { ttl: 5 })).statusCode, 404);
  });
});

describe('PUT /services/{id}/extensions/{name}', () => {
  test('creates, then replaces the whole value; names compare case-insensitively', async () => {
    const id = await startService(t, { customer_id: 'C-pext', service_type: 'A' });
    assert.equal((await t.request('PUT', `/services/${id}/extensions/score`, { score: 85, agentID: 2025 })).statusCode, 200);
    assert.deepEqual((await t.request('GET', `/services/${id}?extensions=score`)).json().score, { score: 85, agentID: 2025 });
    const multi = [{ offer_name: 'Gold', type: 4 }, { offer_name: 'Life', type: 3 }];
    assert.equal((await t.request('PUT', `/services/${id}/extensions/Score`, multi)).statusCode, 200);
    const body = (await t.request('GET', `/services/${id}?extensions=SCORE`)).json();
    assert.deepEqual(body.Score, multi);
    assert.equal(body.score, undefined);
  });

  test('errors: unknown service 404, missing body 400, reserved name 400', async () => {
    assert.equal((await t.request('PUT', '/services/55555555/extensions/x', { a: 1 })).statusCode, 404);
    const id = await startService(t, { customer_id: 'C-pext2', service_type: 'A' });
    assert.equal((await t.request('PUT', `/services/${id}/extensions/x`)).statusCode, 400);
    assert.equal((await t.request('PUT', `/services/${id}/extensions/started`, { a: 1 })).statusCode, 400);
  });
});

describe('associate and the service lists', () => {
  test('an anonymous service moves to a customer, then to another; the last association wins', async () => {
    const id = await startService(t, { contact_key: '408-832-7799', service_type: 'A' });
    assert.equal((await t.request('GET', '/services/anonymous/408-832-7799')).json().length, 1);
    const res = await t.request('POST', `/customers/CUST-1/services/${id}`, { interaction_id: 'IX-2', service_type: 'B', Note: { n: 1 } });
    assert.equal(res.statusCode, 204);
    assert.deepEqual((await t.request('GET', '/services/anonymous/408-832-7799')).json(), []);
    const [owned] = (await t.request('GET', '/customers/CUST-1/services?extensions=Note')).json();
    assert.equal(owned.customer_id, 'CUST-1');
    assert.equal(owned.contact_key, '408-832-7799');
    assert.equal(owned.service_type, 'B');
    assert.equal(owned.started.interaction_id, 'IX-2');
    assert.deepEqual(owned.Note, { n: 1 });

    assert.equal((await t.request('POST', `/customers/CUST-2/services/${id}`)).statusCode, 204);
    assert.deepEqual((await t.request('GET', '/customers/CUST-1/services')).json(), []);
    assert.equal((await t.request('GET', '/customers/CUST-2/services')).json().length, 1);
    assert.equal((await t.request('POST', '/customers/CUST-2/services/31415926')).statusCode, 404);
  });

  test('active / completed / all, oldest first, with service_types, started_from (inclusive) / started_to (exclusive), limit / offset', async () => {
    const c = 'C-list';
    const ids: string[] = [];
    const times = ['2024-01-03T00:00:00Z', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-04T00:00:00Z'];
    const types = ['A', 'B', 'A', 'C'];
    for (let i = 0; i < 4; i++) ids.push(await startService(t, { customer_id: c, service_type: types[i], timestamp: times[i] }));
    await t.request('POST', `/services/${ids[2]}/end`, {});
    const listed = async (query: string) => ((await t.request('GET', `/customers/${c}/services${query}`)).json() as { service_id: number }[]).map((s) => String(s.service_id));

    assert.deepEqual(await listed(''), [ids[1], ids[2], ids[0], ids[3]]);
    assert.deepEqual(await listed('/active'), [ids[1], ids[0], ids[3]]);
    assert.deepEqual(await listed('/completed'), [ids[2]]);
    assert.deepEqual(await listed('?service_types=A,C'), [ids[2], ids[0], ids[3]]);
    assert.deepEqual(await listed('?service_types=A&service_types=C'), [ids[2], ids[0], ids[3]]);
    assert.deepEqual(await listed('?service_types=B,X&service_types=C'), [ids[1], ids[3]]);
    assert.deepEqual(await listed('?started_from=2024-01-02T00:00:00.000Z&started_to=2024-01-04T00:00:00Z'), [ids[2], ids[0]]);
    assert.deepEqual(await listed('?limit=2'), [ids[1], ids[2]]);
    assert.deepEqual(await listed('?limit=2&offset=1'), [ids[2], ids[0]]);
    assert.deepEqual(await listed('?offset=3'), [ids[3]]);
    assert.deepEqual(await listed('/active?service_types=B'), [ids[1]]);
  });

  test('ties in start time are ordered by id; a numeric service_types token matches a numeric type', async () => {
    const a = await startService(t, { customer_id: 'C-tie', service_type: 7, timestamp: '2024-05-01T00:00:00Z' });
    const b = await startService(t, { customer_id: 'C-tie', service_type: 'seven', timestamp: '2024-05-01T00:00:00Z' });
    const all = (await t.request('GET', '/customers/C-tie/services')).json();
    assert.deepEqual(all.map((s: { service_id: number }) => String(s.service_id)), [a, b]);
    assert.deepEqual((await t.request('GET', '/customers/C-tie/services?service_types=7')).json().map((s: { service_type: unknown }) => s.service_type), [7]);
  });

  test('anonymous lists return only services without a customer_id; unknown keys give []', async () => {
    await startService(t, { contact_key: 'K-mixed', service_type: 'A' });
    await startService(t, { contact_key: 'K-mixed', customer_id: 'C-mixed', service_type: 'A' });
    const anonymous = (await t.request('GET', '/services/anonymous/K-mixed')).json();
    assert.equal(anonymous.length, 1);
    assert.equal(anonymous[0].customer_id, undefined);
    assert.deepEqual((await t.request('GET', '/services/anonymous/nobody-here/active')).json(), []);
    assert.deepEqual((await t.request('GET', '/customers/nobody-here/services/completed')).json(), []);
  });

  test('bad query values are 400', async () => {
    for (const query of ['limit=-1', 'limit=abc', 'offset=1.5', 'started_from=yesterday', 'active_states=yes', 'completed_tasks=1']) {
      const res = await t.request('GET', `/customers/C-list/services?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.json().exception, `${EXC}ValidationException`);
    }
    assert.equal((await t.request('GET', '/customers/C-list/services?active_states=TRUE')).statusCode, 200);
  });
});
