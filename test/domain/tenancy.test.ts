import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogConfigFor } from '../../src/domain/business-attributes.js';
import { partitionsOf, resolvePartition, SINGLE_PARTITION } from '../../src/domain/tenancy.js';
import { partitionFilePath, partitionSchema } from '../../src/store/open.js';

const TENANTS = [
  { id: 101, name: 'Acme', groups: ['Sales', 'Care'] },
  { id: 102, name: 'Globex' },
];

test('partitions: one per tenant plus one per group; single-tenant mode has one and ignores the headers', () => {
  assert.deepEqual(partitionsOf(TENANTS).map((p) => p.key), ['101', '101/Sales', '101/Care', '102']);
  assert.deepEqual(partitionsOf([]), [SINGLE_PARTITION]);
  assert.equal(resolvePartition([], 'Initech', 'X'), SINGLE_PARTITION);
  assert.equal(resolvePartition(TENANTS, ' acme ', 'SALES').key, '101/Sales');
  assert.equal(resolvePartition(TENANTS, '102', '').key, '102', 'an empty GroupId is no group');
  assert.throws(() => resolvePartition(TENANTS, ['101', '102'], undefined), /more than once/);
  assert.throws(() => resolvePartition(TENANTS, '', undefined), /no tenant specified/);
});

test('partition files and schemas: readable, distinct, within PostgreSQL name limits', () => {
  const [, sales, care, globex] = partitionsOf(TENANTS);
  assert.equal(partitionFilePath('/d/contextd.db', globex), '/d/contextd.t102.db');
  assert.equal(partitionFilePath('/d/contextd.db', SINGLE_PARTITION), '/d/contextd.db');
  assert.notEqual(partitionFilePath('/d/contextd.db', sales), partitionFilePath('/d/contextd.db', care));
  assert.equal(partitionSchema(undefined, globex), 'contextd_t102');
  assert.match(partitionSchema('base', sales), /^base_t101_g_sales_[0-9a-f]{8}$/);
  const long = partitionsOf([{ id: 1, name: 'L', groups: ['x'.repeat(200), `${'x'.repeat(199)}y`] }]);
  const [a, b] = [partitionSchema('s'.repeat(40), long[1]), partitionSchema('s'.repeat(40), long[2])];
  assert.ok(a.length <= 63);
  assert.notEqual(a, b, 'long groups with one prefix stay apart');
});

test("a tenant's business attributes overlay the global ones", () => {
  const config = {
    mapping: { 'Service.type': 'ServiceType' },
    attributes: [
      { name: 'ServiceType', values: [{ name: 'Global' }] },
      { name: 'MediaType', values: [{ name: 'voice' }] },
    ],
    tenants: { acme: { attributes: [{ name: 'servicetype', values: [{ name: 'Own' }] }], mapping: { 'Service.media_type': 'MediaType' } } },
  };
  const acme = catalogConfigFor(config, TENANTS[0]);
  assert.deepEqual(acme.attributes!.map((a) => [a.name, a.values![0].name]), [['MediaType', 'voice'], ['servicetype', 'Own']]);
  assert.deepEqual(acme.mapping, { 'Service.type': 'ServiceType', 'Service.media_type': 'MediaType' });
  assert.equal('tenants' in acme, false);
  assert.deepEqual(catalogConfigFor(config, TENANTS[1]).attributes, config.attributes);
});

test('service id ranges: a tag per partition, ids below 2^53, colliding tags refused at start-up', async () => {
  const { partitionTag, partitionIdBase, serviceIdsOf, checkTenants } = await import('../../src/domain/tenancy.js');
  const ownsServiceId = (partition: Parameters<typeof serviceIdsOf>[0], id: bigint) => serviceIdsOf(partition)(id);
  const partitions = partitionsOf(TENANTS);
  const tags = partitions.map(partitionTag);
  assert.equal(new Set(tags).size, partitions.length);
  assert.ok(tags.every((tag) => tag > 0n && tag < 1n << 20n));
  assert.equal(partitionTag(SINGLE_PARTITION), 0n);
  const [acme, sales] = partitions;
  const base = partitionIdBase(sales);
  assert.ok(ownsServiceId(sales, base + 1n) && ownsServiceId(sales, base + (1n << 33n) - 1n));
  assert.ok(!ownsServiceId(acme, base + 1n) && !ownsServiceId(sales, base + (1n << 33n)) && !ownsServiceId(sales, 1n));
  assert.ok(ownsServiceId(SINGLE_PARTITION, base + 1n), 'the single partition owns every id');
  assert.ok(((1n << 20n) - 1n) << 33n < 1n << 53n, 'the highest range ends below 2^53');
  // two group names whose tags collide (found by search: 20-bit tags collide among ~1,500 names)
  const seen = new Map<bigint, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const group = `g${i}`;
    const tag = partitionTag({ key: `900/${group}` });
    const other = seen.get(tag);
    if (other) pair = [other, group];
    seen.set(tag, group);
  }
  assert.throws(() => checkTenants([{ id: 900, name: 'Big', groups: pair }]), /share an id range/);
});
