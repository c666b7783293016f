import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import {
  readInt32,
  readLongOrString,
  readQueryBoolean,
  readQueryCount,
  readQueryList,
  readStringId,
  readTimestamp,
} from '../../src/domain/fields.js';
import { parseElementId, parseServiceId } from '../../src/domain/ids.js';
import { parseJsonText, stringifyJson } from '../../src/domain/json.js';

const rejects = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof DomainError && e.kind === 'Validation' && pattern.test(e.message));

test('readInt32: integers and decimal strings within 32 bits, nothing else', () => {
  assert.equal(readInt32('f', 5), 5);
  assert.equal(readInt32('f', '-12'), -12);
  assert.equal(readInt32('f', '2147483647'), 2147483647);
  for (const bad of ['2147483648', '-2147483649', '1e3', '0x10', ' 1', '', '1.0', 1.5, true, null, {}, [1]]) rejects(() => readInt32('f', bad), /^f must be/);
});

test('readLongOrString: 64-bit integers (number or bigint) or non-empty strings', () => {
  assert.equal(readLongOrString('t', 'Billing'), 'Billing');
  assert.equal(readLongOrString('t', 211), 211);
  assert.equal(readLongOrString('t', 9223372036854775807n), 9223372036854775807n);
  assert.equal(readLongOrString('t', 1e18), 1000000000000000000n);
  for (const bad of [1.5, 9223372036854775808n, 1e19, '', true, null, {}]) rejects(() => readLongOrString('t', bad), /^t must/);
});

test('readStringId: strings up to 256 chars, numbers as their digits', () => {
  assert.equal(readStringId('customer_id', 'abc'), 'abc');
  assert.equal(readStringId('customer_id', 42), '42');
  assert.equal(readStringId('customer_id', 12345678901234567890n), '12345678901234567890');
  for (const bad of ['', 'x'.repeat(257), true, null, {}, []]) rejects(() => readStringId('customer_id', bad), /customer_id/);
});

test('readTimestamp: ISO 8601 with an offset, normalized to UTC', () => {
  assert.equal(readTimestamp('ts', '2014-09-02T08:00:00.000Z'), Date.UTC(2014, 8, 2, 8));
  assert.equal(readTimestamp('ts', '2014-09-02T10:00:00+02:00'), Date.UTC(2014, 8, 2, 8));
  assert.equal(readTimestamp('ts', '2014-09-02T03:30-0430'), Date.UTC(2014, 8, 2, 8));
  assert.equal(readTimestamp('ts', '2014-09-02T08:00:00.123456Z'), Date.UTC(2014, 8, 2, 8, 0, 0, 123));
  for (const bad of ['2014-09-02', '2014-09-02T08:00:00', '2014-02-30T00:00:00Z', '2014-09-02T24:00:00Z', '2014-09-02T08:00:00+25:00', 'now', 1409644800000]) {
    rejects(() => readTimestamp('ts', bad), /^ts must be an ISO 8601/);
  }
});

test('query readers', () => {
  assert.equal(readQueryBoolean('b', 'TRUE'), true);
  assert.equal(readQueryBoolean('b', 'false'), false);
  assert.equal(readQueryBoolean('b', undefined), false);
  rejects(() => readQueryBoolean('b', '1'), /^b must be true or false/);
  rejects(() => readQueryBoolean('b', ['true', 'true']), /^b must/);
  assert.equal(readQueryCount('limit', '10'), 10);
  rejects(() => readQueryCount('limit', '-1'), /limit/);
  assert.deepEqual(readQueryList(['A,B', 'C', ' ,D ']), ['A', 'B', 'C', 'D']);
  assert.deepEqual(readQueryList(undefined), []);
});

test('path ids: service ids are exact bigints, element ids 32-bit', () => {
  assert.equal(parseServiceId('9007199254740993'), 9007199254740993n);
  assert.equal(parseServiceId('9223372036854775807'), 9223372036854775807n);
  rejects(() => parseServiceId('9223372036854775808'), /service_id/);
  rejects(() => parseServiceId('12a'), /service_id/);
  assert.equal(parseElementId('state_id', '15928'), 15928);
  rejects(() => parseElementId('task_id', '2147483648'), /task_id/);
});

test('JSON: integers beyond 2^53 stay exact; prototype keys are refused', () => {
  const value = parseJsonText('{"a":9007199254740993,"b":1.25,"c":"12345678901234567890"}') as Record<string, unknown>;
  assert.equal(value.a, 9007199254740993n);
  assert.equal(value.b, 1.25);
  assert.equal(value.c, '12345678901234567890');
  assert.equal(stringifyJson(value), '{"a":9007199254740993,"b":1.25,"c":"12345678901234567890"}');
  assert.throws(() => parseJsonText('{"__proto__":{"x":1}}'));
  assert.throws(() => parseJsonText('{"n":12345678901234567,"__proto__":{"x":1}}'));
});
