// Relay positions and leases (migration 007). A relay (NATS, later each webhook) reads the outbox
// after its position; one node at a time holds its lease, renewed on every claim and advance, so with
// several nodes one delivers and another takes over within a lease when it stops.
import { applyOnly, type Write } from './write.js';

/**
 * Takes or renews the lease; the relay's position if `holder` holds it now. A relay seen for the
 * first time starts at the newest event (it carries what happens from then on, not the history).
 */
export function claimRelay(relay: string, holder: string, leaseMs: number): Write<number | undefined, undefined> {
  return applyOnly(async (tx, now) => {
    // WHERE TRUE: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON
    await tx.run('INSERT INTO event_relays (relay, last_id, holder, held_until) SELECT CAST(? AS TEXT), last_id, NULL, 0 FROM event_sequence WHERE TRUE ON CONFLICT (relay) DO NOTHING', [relay]);
    const row = await tx.one<{ last_id: bigint | number | string }>(
      'UPDATE event_relays SET holder = ?, held_until = ? WHERE relay = ? AND (holder = ? OR held_until < ?) RETURNING last_id',
      [holder, now + leaseMs, relay, holder, now],
    );
    return row === undefined ? undefined : Number(row.last_id);
  });
}

/** Moves the position past what was delivered and renews the lease; false when `holder` lost the lease meanwhile. */
export function advanceRelay(relay: string, holder: string, lastId: number, leaseMs: number): Write<boolean, undefined> {
  return applyOnly(
    async (tx, now) => (await tx.run('UPDATE event_relays SET last_id = ?, held_until = ? WHERE relay = ? AND holder = ?', [BigInt(lastId), now + leaseMs, relay, holder])) > 0,
  );
}

/** Gives the lease up (a node that stops): another node takes the relay over at once. */
export function releaseRelay(relay: string, holder: string): Write<void, undefined> {
  return applyOnly(async (tx) => void (await tx.run('UPDATE event_relays SET held_until = 0 WHERE relay = ? AND holder = ?', [relay, holder])));
}
