import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseElementEnd, parseServiceStart, parseStateTransition } from '../../src/domain/events.js';
import { parseExtensionSelection } from '../../src/domain/present.js';

const NOW = Date.UTC(2024, 0, 1);

test('service start: hoisted fields, event fields under started, the rest are extensions', () => {
  const start = parseServiceStart(
    { customer_id: 'C', service_type: 'S', est_duration: '5', media_type: 2, ttl: 60, Cart: { n: 1 }, cart2: [1] },
    NOW,
  );
  assert.equal(start.customerId, 'C');
  assert.equal(start.estDuration, 5);
  assert.deepEqual(start.started, { timestamp: '2024-01-01T00:00:00.000Z', media_type: 2, ttl: 60 });
  assert.deepEqual(start.expiry, { lifetimeMs: 60_000 });
  assert.deepEqual([...start.extensions.keys()], ['cart', 'cart2']);
  assert.equal(start.extensions.get('cart')!.name, 'Cart');
});

test('end events ignore start-only fields instead of taking them as extensions', () => {
  const end = parseElementEnd({ customer_id: 'x', service_type: 'y', state_type: 1, disposition: 3 }, NOW, 'state');
  assert.equal(end.extensions.size, 0);
  assert.equal(end.disposition, 3);
});

test('transition: shared fields on both events, previous_state_id on the new one', () => {
  const tr = parseStateTransition({ from: { state_id: '4', disposition: 'd' }, to: { state_type: 9 }, session_id: 's', X: { a: 1 } }, NOW);
  assert.equal(tr.fromStateId, 4);
  assert.deepEqual(tr.end.completed, { timestamp: '2024-01-01T00:00:00.000Z', session_id: 's' });
  assert.deepEqual(tr.start.started, { timestamp: '2024-01-01T00:00:00.000Z', session_id: 's', previous_state_id: 4 });
  assert.equal(tr.end.extensions.size, 0);
  assert.equal(tr.start.extensions.size, 1);
});

test('extension selection by level', () => {
  const service = parseExtensionSelection(['A', 'State.B', 'task.*'], 'service');
  assert.deepEqual([...(service.self as Set<string>)], ['a']);
  assert.deepEqual([...(service.state as Set<string>)], ['b']);
  assert.equal(service.task, 'all');
  const state = parseExtensionSelection(['State.B', 'c', 'Task.D'], 'state');
  assert.deepEqual([...(state.self as Set<string>)].sort(), ['b', 'c']);
  assert.deepEqual([...(state.task as Set<string>)], ['d']);
  const all = parseExtensionSelection(['*'], 'service');
  assert.deepEqual([all.self, all.state, all.task], ['all', 'all', 'all']);
});
