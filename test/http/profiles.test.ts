import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXC, createTestApp, startService, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await createTestApp();
  const schemas = [
    {
      name: 'Loyalty',
      type: 'single-valued',
      attributes: [
        { name: 'tier', type: 'string', length: 16, mandatory: true },
        { name: 'points', type: 'integer', default: 0 },
      ],
    },
    {
      name: 'Phone',
      type: 'multi-valued',
      unique: ['PhoneNumber'],
      attributes: [
        { name: 'PhoneType', type: 'integer', default: 0, mandatory: 'true' },
        { name: 'PhoneNumber', type: 'string', length: '15', mandatory: true },
        { name: 'description', type: 'string', length: 32 },
        { name: 'since', type: 'date' },
      ],
    },
  ];
  for (const schema of schemas) assert.equal((await t.request('POST', '/metadata/profiles/extensions', schema)).statusCode, 201);
  const keys = [
    { name: 'idMobile', source: 'Phone', attributes: ['PhoneNumber'] },
    { name: 'idName', attributes: ['LastName', 'FirstName'] },
    { name: 'idEmail', attributes: ['EmailAddress'], unique: true },
  ];
  for (const key of keys) assert.equal((await t.request('POST', '/metadata/identification-keys', key)).statusCode, 201);
});
after(async () => t.close());

const ADA = {
  FirstName: 'Ada',
  LastName: 'Lovelace',
  EmailAddress: ['ada@example.org', 'al@example.net'],
  Loyalty: { tier: 'gold' },
  Phone: [{ PhoneType: 1, PhoneNumber: '2075550100', description: 'home', since: '2020-01-31' }],
};

async function createProfile(body: Record<string, unknown>): Promise<string> {
  const res = await t.request('POST', '/profiles', body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().customer_id;
}

describe('profiles', () => {
  test('create: 201, a server-assigned id of at most 16 characters, Location; GET shows core attributes, extensions on request', async () => {
    const res = await t.request('POST', '/profiles', ADA);
    assert.equal(res.statusCode, 201);
    const id = res.json().customer_id;
    assert.match(id, /^[0-9A-Za-z]{1,16}$/);
    assert.equal(res.headers.location, `/genesys/1/cs/profiles/${id}`);
    const plain = (await t.request('GET', `/profiles/${id}`)).json();
    assert.deepEqual(plain, { customer_id: id, FirstName: 'Ada', LastName: 'Lovelace', EmailAddress: ['ada@example.org', 'al@example.net'] });
    const full = (await t.request('GET', `/profiles/${id}?extensions=loyalty,PHONE`)).json();
    assert.deepEqual(full.Loyalty, { tier: 'gold', points: 0 }, 'the default is applied');
    assert.deepEqual(full.Phone, [{ PhoneType: 1, PhoneNumber: '2075550100', description: 'home', since: '2020-01-31' }]);
    assert.equal((await t.request('GET', `/profiles/${id}?extensions=Nope`)).statusCode, 400);
    assert.equal((await t.request('GET', '/profiles/NOSUCHCUSTOMER')).statusCode, 404);
  });

  test('attribute names are case-insensitive; a client-chosen customer_id is kept; a taken one is a 400', async () => {
    const res = await t.request('POST', '/profiles', { customer_id: 'C-CHOSEN-1', firstname: 'Grace', LASTNAME: 'Hopper' });
    assert.equal(res.json().customer_id, 'C-CHOSEN-1');
    const got = (await t.request('GET', '/profiles/C-CHOSEN-1')).json();
    assert.equal(got.FirstName, 'Grace');
    assert.equal(got.LastName, 'Hopper');
    assert.equal((await t.request('POST', '/profiles', { customer_id: 'C-CHOSEN-1', FirstName: 'X' })).statusCode, 400);
    assert.equal((await t.request('POST', '/profiles', { customer_id: 'x'.repeat(17) })).statusCode, 400);
  });

  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ['unknown attribute or extension', { FirstName: 'A', Shoe: 42 }, /Shoe/],
    ['wrong core type', { FirstName: 42 }, /FirstName/],
    ['single-valued given an array', { Loyalty: [{ tier: 'x' }] }, /single-valued/],
    ['missing mandatory extension attribute', { Loyalty: { points: 3 } }, /Loyalty\.tier is mandatory/],
    ['string over its length', { Loyalty: { tier: 'x'.repeat(17) } }, /tier/],
    ['integer attribute given text', { Loyalty: { tier: 'a', points: 'many' } }, /points/],
    ['unknown extension attribute', { Loyalty: { tier: 'a', colour: 'red' } }, /colour/],
    ['bad date', { Phone: [{ PhoneNumber: '1', since: '2020-02-30' }] }, /since/],
    ['duplicate unique records', { Phone: [{ PhoneNumber: '1' }, { PhoneNumber: '1' }] }, /unique/],
    ['duplicate value of a unique identification key', { EmailAddress: 'al@example.net' }, /idEmail/],
  ];
  for (const [name, body, message] of rejected) {
    test(`400 and nothing written: ${name}`, async () => {
      const before = (await t.request('GET', '/profiles?LastName=Nobody-Like-This')).json();
      const res = await t.request('POST', '/profiles', { LastName: 'Nobody-Like-This', ...body });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().exception, `${EXC}ValidationException`);
      assert.match(res.json().message, message);
      assert.deepEqual((await t.request('GET', '/profiles?LastName=Nobody-Like-This')).json(), before);
    });
  }

  test('PUT replaces the core attributes and the extensions given; others stay; body id must match', async () => {
    const id = await createProfile({ FirstName: 'Alan', LastName: 'Turing', Loyalty: { tier: 'silver', points: 5 }, Phone: [{ PhoneNumber: '111' }] });
    const res = await t.request('PUT', `/profiles/${id}`, { customer_id: id, LastName: 'Turing', Phone: [{ PhoneNumber: '222' }] });
    assert.equal(res.statusCode, 200);
    const got = (await t.request('GET', `/profiles/${id}?extensions=Loyalty,Phone`)).json();
    assert.equal(got.FirstName, undefined, 'core attributes are replaced as a whole');
    assert.deepEqual(got.Loyalty, { tier: 'silver', points: 5 }, 'extensions not in the body are untouched');
    assert.deepEqual(got.Phone, [{ PhoneType: 0, PhoneNumber: '222' }]);
    assert.equal((await t.request('PUT', `/profiles/${id}`, { customer_id: 'other' })).statusCode, 400);
    assert.equal((await t.request('PUT', '/profiles/NOPE', { LastName: 'x' })).statusCode, 404);
    // the index follows the update
    assert.deepEqual((await t.request('GET', '/profiles?Phone.PhoneNumber=111')).json(), []);
    assert.deepEqual((await t.request('GET', '/profiles?Phone.PhoneNumber=222')).json(), [{ customer_id: id }]);
  });

  test('DELETE removes the profile, its extensions and index entries, and keeps its services', async () => {
    const id = await createProfile({ LastName: 'Gone', Phone: [{ PhoneNumber: '999000' }] });
    const service = await startService(t, { customer_id: id, service_type: 'A' });
    assert.equal((await t.request('DELETE', `/profiles/${id}`)).statusCode, 200);
    assert.equal((await t.request('GET', `/profiles/${id}`)).statusCode, 404);
    assert.equal((await t.request('DELETE', `/profiles/${id}`)).statusCode, 404);
    assert.deepEqual((await t.request('GET', '/profiles?Phone.PhoneNumber=999000')).json(), []);
    assert.equal((await t.request('GET', `/services/${service}`)).statusCode, 200);
  });
});

describe('profile extension records', () => {
  test('POST inserts: single-valued replaced, multi-valued upserted by unique attributes', async () => {
    const id = await createProfile({ LastName: 'Records', Loyalty: { tier: 'bronze' }, Phone: [{ PhoneNumber: '1', description: 'one' }] });
    const res = await t.request('POST', `/profiles/${id}/extensions`, {
      customer_id: id,
      Loyalty: { tier: 'gold', points: 10 },
      Phone: [{ PhoneNumber: '1', description: 'first' }, { PhoneNumber: '2' }],
    });
    assert.equal(res.statusCode, 200, res.body);
    const got = (await t.request('GET', `/profiles/${id}?extensions=Loyalty,Phone`)).json();
    assert.deepEqual(got.Loyalty, { tier: 'gold', points: 10 });
    assert.deepEqual(got.Phone, [
      { PhoneType: 0, PhoneNumber: '1', description: 'first' },
      { PhoneType: 0, PhoneNumber: '2' },
    ]);
    assert.equal((await t.request('POST', `/profiles/${id}/extensions`, { Nope: {} })).statusCode, 400);
    assert.equal((await t.request('POST', '/profiles/NOPE/extensions', { Loyalty: { tier: 'x' } })).statusCode, 404);
  });

  test('PUT by/unique updates one record (not its unique attributes); delete/by/unique removes it; 404 for none', async () => {
    const id = await createProfile({ LastName: 'ByUnique', Phone: [{ PhoneNumber: '10', description: 'a' }, { PhoneNumber: '20', description: 'b' }] });
    const update = await t.request('PUT', `/profiles/${id}/extensions/phone/by/unique`, { PhoneNumber: '20', description: 'work hours only', PhoneType: 3 });
    assert.equal(update.statusCode, 204, update.body);
    let phones = (await t.request('GET', `/profiles/${id}?extensions=Phone`)).json().Phone;
    assert.deepEqual(phones[1], { PhoneType: 3, PhoneNumber: '20', description: 'work hours only' });
    assert.equal((await t.request('PUT', `/profiles/${id}/extensions/Phone/by/unique`, { PhoneNumber: '30', description: 'x' })).statusCode, 404);
    assert.equal((await t.request('PUT', `/profiles/${id}/extensions/Phone/by/unique`, { description: 'no key' })).statusCode, 400);
    assert.equal((await t.request('PUT', `/profiles/${id}/extensions/Loyalty/by/unique`, { tier: 'x' })).statusCode, 400);
    const del = await t.request('PUT', `/profiles/${id}/extensions/Phone/delete/by/unique`, { PhoneNumber: '10', description: 'ignored' });
    assert.equal(del.statusCode, 204);
    phones = (await t.request('GET', `/profiles/${id}?extensions=Phone`)).json().Phone;
    assert.deepEqual(phones.map((p: { PhoneNumber: string }) => p.PhoneNumber), ['20']);
    assert.equal((await t.request('PUT', `/profiles/${id}/extensions/Phone/delete/by/unique`, { PhoneNumber: '10' })).statusCode, 404);
    assert.deepEqual((await t.request('GET', '/profiles?Phone.PhoneNumber=10')).json(), []);
  });
});

describe('identify', () => {
  test('by an extension key, by a core key, by a prefix of a key; [] when nothing matches', async () => {
    const a = await createProfile({ FirstName: 'John', LastName: 'Doe', Phone: [{ PhoneNumber: '4088883214' }] });
    const b = await createProfile({ FirstName: 'Jane', LastName: 'Doe', Phone: [{ PhoneNumber: '4088883214' }] });
    const both = [a, b].sort();
    assert.deepEqual((await t.request('GET', '/profiles?Phone.PhoneNumber=4088883214')).json().map((p: { customer_id: string }) => p.customer_id), both);
    assert.deepEqual((await t.request('GET', '/profiles?LastName=Doe&FirstName=Jane')).json(), [{ customer_id: b }]);
    assert.deepEqual((await t.request('GET', '/profiles?lastname=Doe')).json().map((p: { customer_id: string }) => p.customer_id), both, 'prefix of idName');
    assert.deepEqual((await t.request('GET', '/profiles?LastName=Nobody')).json(), []);
  });

  test('include_profile, extensions and include_extensions=unique', async () => {
    const id = await createProfile({ FirstName: 'Solo', LastName: 'Unique-Person', Loyalty: { tier: 'gold' } });
    const found = (await t.request('GET', '/profiles?LastName=Unique-Person&include_profile=yes&extensions=Loyalty&include_extensions=unique')).json();
    assert.deepEqual(found, [{ customer_id: id, FirstName: 'Solo', LastName: 'Unique-Person', Loyalty: { tier: 'gold', points: 0 } }]);
    await createProfile({ FirstName: 'Duo', LastName: 'Unique-Person', Loyalty: { tier: 'gold' } });
    const two = (await t.request('GET', '/profiles?LastName=Unique-Person&extensions=Loyalty&include_extensions=unique')).json();
    assert.equal(two.length, 2);
    assert.ok(two.every((p: Record<string, unknown>) => p.Loyalty === undefined && p.FirstName === undefined));
    const always = (await t.request('GET', '/profiles?LastName=Unique-Person&extensions=Loyalty')).json();
    assert.ok(always.every((p: Record<string, unknown>) => p.Loyalty !== undefined));
  });

  test('key inference: a fully covered key wins; id_key forces a key; uncovered attributes are a 400', async () => {
    const id = await createProfile({ FirstName: 'Inf', LastName: 'Erence', EmailAddress: 'inf@example.org' });
    assert.deepEqual((await t.request('GET', '/profiles?EmailAddress=inf@example.org&LastName=Wrong')).json(), [{ customer_id: id }], 'idEmail is fully covered');
    assert.deepEqual((await t.request('GET', '/profiles?EmailAddress=inf@example.org&LastName=Erence&id_key=idName')).json(), [{ customer_id: id }]);
    assert.equal((await t.request('GET', '/profiles?Title=Dr')).statusCode, 400);
    assert.equal((await t.request('GET', '/profiles?LastName=x&id_key=nokey')).statusCode, 400);
    assert.equal((await t.request('GET', '/profiles?LastName=x&include_profile=maybe')).statusCode, 400);
  });

  test('a unique key is enforced on every write, across customers', async () => {
    const a = await createProfile({ LastName: 'U1', EmailAddress: 'shared@example.org' });
    const b = await createProfile({ LastName: 'U2', EmailAddress: 'own@example.org' });
    const res = await t.request('PUT', `/profiles/${b}`, { LastName: 'U2', EmailAddress: ['own@example.org', 'shared@example.org'] });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /idEmail/);
    assert.deepEqual((await t.request('GET', `/profiles/${b}`)).json().EmailAddress, 'own@example.org');
    assert.equal((await t.request('PUT', `/profiles/${a}`, { LastName: 'U1', EmailAddress: 'shared@example.org' })).statusCode, 200, 'a customer may keep its own value');
  });
});
