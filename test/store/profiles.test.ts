// The profile store contract (profiles, their extensions, identification), on every store.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProfileData } from '../../src/domain/profiles.js';
import { openTestStore, type TestStore } from '../helpers/stores.js';
import { kindOf } from '../helpers/errors.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => t.destroy());

const profile = (customerId: string, phone: string): ProfileData => ({
  customerId,
  attributes: { LastName: 'Doe', PhoneNumber: [phone] },
  extensions: new Map([['note', { name: 'Note', value: { text: `of ${customerId}`, big: 123456789012345678901n } }]]),
});

test(`[${process.env.CONTEXTD_TEST_STORE ?? 'sqlite'}] profiles: created once, read back exactly, updated in one step, deleted with their index entries`, async () => {
  const { store } = t;
  const key = await store.createIdentificationKey({ name: 'ByPhone', attributes: ['PhoneNumber'], unique: true });
  await store.createProfile(profile('P1', '555'));
  assert.equal(await kindOf(store.createProfile(profile('P1', '556'))), 'Validation');
  assert.equal(await kindOf(store.createProfile(profile('P2', '555'))), 'Validation', 'a unique key value of another customer');
  assert.deepEqual(await store.getProfiles(['P2']), []);
  const [read] = await store.getProfiles(['P1', 'nobody']);
  assert.deepEqual(read, profile('P1', '555'));
  assert.deepEqual(await store.findCustomers(key.id, '555|', true), ['P1']);

  await store.updateProfile('P1', (current) => ({ ...current, attributes: { ...current.attributes, PhoneNumber: ['777'] } }));
  assert.deepEqual(await store.findCustomers(key.id, '555|', true), []);
  assert.deepEqual(await store.findCustomers(key.id, '7', false), ['P1']);
  assert.equal(await kindOf(store.updateProfile('nobody', (c) => c)), 'NotFound');
  // a change that throws writes nothing
  await assert.rejects(store.updateProfile('P1', () => { throw new Error('no'); }));
  assert.deepEqual((await store.getProfiles(['P1']))[0].attributes.PhoneNumber, ['777']);

  await store.deleteProfile('P1');
  assert.deepEqual(await store.getProfiles(['P1']), []);
  assert.deepEqual(await store.findCustomers(key.id, '7', false), []);
  assert.equal(await kindOf(store.deleteProfile('P1')), 'NotFound');
});
