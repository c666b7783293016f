// The metadata store contract (extension schemas, identification keys), on every store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ExtensionSchema } from '../../src/domain/schemas.js';
import { kindOf } from '../helpers/errors.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => t.destroy());

const schema = (name: string): ExtensionSchema => ({ name, type: 'multi-valued', attributes: [{ name: 'email', type: 'string' } as never], unique: ['email'] });

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] extension schemas: created once per entity and name (any case), listed by name, deleted`, async () => {
  const { store } = t;
  await store.createExtensionSchema('services', schema('Cart'));
  assert.equal(await kindOf(store.createExtensionSchema('services', schema('CART'))), 'Validation');
  await store.createExtensionSchema('states', schema('Cart'));
  await store.createExtensionSchema('services', schema('Basket'));
  assert.deepEqual((await store.listExtensionSchemas('services')).map((s) => s.name), ['Basket', 'Cart']);
  await store.deleteExtensionSchema('services', 'cart');
  assert.deepEqual((await store.listExtensionSchemas('services')).map((s) => s.name), ['Basket']);
  assert.equal(await kindOf(store.deleteExtensionSchema('services', 'cart')), 'NotFound');
  assert.deepEqual((await store.listExtensionSchemas('states')).map((s) => s.name), ['Cart']);
});

test('identification keys index existing profiles; a unique key over duplicates is refused and leaves nothing; a key in use protects its extension', async () => {
  const { store } = t;
  await store.createExtensionSchema('profiles', schema('EmailAddress'));
  const withEmail = (customerId: string, email: string) => ({ customerId, attributes: { LastName: 'X' }, extensions: new Map([['emailaddress', { name: 'EmailAddress', value: [{ email }] }]]) });
  await store.createProfile(withEmail('M1', 'a@x'));
  await store.createProfile(withEmail('M2', 'a@x'));
  assert.equal(await kindOf(store.createIdentificationKey({ name: 'ByEmail', source: 'EmailAddress', attributes: ['email'], unique: true })), 'Validation');
  assert.deepEqual(await store.listIdentificationKeys(), []);
  assert.deepEqual(await t.raw('SELECT key_id FROM profile_identities'), []);

  const key = await store.createIdentificationKey({ name: 'ByEmail', source: 'EmailAddress', attributes: ['email'], unique: false });
  assert.deepEqual(await store.findCustomers(key.id, 'a%40x|', true), ['M1', 'M2']);
  assert.deepEqual(await store.findCustomers(key.id, 'a%40', false), ['M1', 'M2']);
  assert.equal(await kindOf(store.createIdentificationKey({ name: 'byemail', attributes: ['LastName'], unique: false })), 'Validation');
  assert.equal(await kindOf(store.deleteExtensionSchema('profiles', 'EmailAddress')), 'Validation');

  await store.deleteIdentificationKey('BYEMAIL');
  assert.deepEqual(await store.listIdentificationKeys(), []);
  assert.equal(await kindOf(store.deleteIdentificationKey('ByEmail')), 'NotFound');
  await store.deleteExtensionSchema('profiles', 'EmailAddress');
  assert.equal((await store.getProfiles(['M1']))[0].extensions.size, 0, 'deleting a profile extension schema deletes its records');
});
