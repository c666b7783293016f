// Opaque, tamper-proof page cursors (#19): the position of a page's last row — its start time and id
// — signed together with a text naming what was asked (the filters), with the store's cursor key (the
// settings table, made by migration 013). Every node sharing the store accepts a cursor another made,
// a restart keeps them valid, and one cannot be forged into another position or moved onto other
// filters: either is a 400.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalid } from '../domain/errors.js';
import type { Position, Store } from '../store/store.js';

const keys = new WeakMap<Store, Promise<Buffer>>();

/** The store's cursor key, read once per store. */
export function cursorKey(store: Store): Promise<Buffer> {
  let key = keys.get(store);
  if (!key) {
    key = store.readSetting('cursor_key').then((value) => {
      if (!value) throw new Error('the settings table has no cursor_key (migration 013)');
      return Buffer.from(value, 'utf8');
    });
    key.catch(() => keys.delete(store));
    keys.set(store, key);
  }
  return key;
}

const sign = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest().subarray(0, 16);

/** A cursor to the rows after `last`, valid only for the request `context` names. */
export function encodeCursor(key: Buffer, context: string, last: Position): string {
  const body = Buffer.from(JSON.stringify({ t: last.startedAt, i: last.id.toString() }), 'utf8').toString('base64url');
  return `${body}.${sign(key, `${body}|${context}`).toString('base64url')}`;
}

/** The position a cursor holds; a 400 unless this store signed it for the same `context`. */
export function decodeCursor(key: Buffer, context: string, cursor: string): Position {
  const [body, mac, extra] = cursor.split('.');
  const given = Buffer.from(mac ?? '', 'base64url');
  const expected = sign(key, `${body}|${context}`);
  if (extra !== undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalid('cursor: not a cursor this request gave (cursors are signed and belong to the filters they were made with)');
  }
  const position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { t: number; i: string };
  return { startedAt: position.t, id: BigInt(position.i) };
}

/**
 * One page of rows sorted by (start, id), read one past the page: a next cursor only when there is
 * a next page. Without a limit every row from the cursor on is one page.
 */
export async function cursorPage<R>(
  store: Store,
  context: string,
  page: { cursor?: string; limit?: number },
  fetch: (after: Position | undefined, limit: number | undefined) => Promise<R[]>,
  positionOf: (row: R) => Position,
): Promise<{ rows: R[]; next?: string }> {
  const key = await cursorKey(store);
  const after = page.cursor === undefined ? undefined : decodeCursor(key, context, page.cursor);
  const found = await fetch(after, page.limit === undefined ? undefined : page.limit + 1);
  if (page.limit === undefined || found.length <= page.limit) return { rows: found };
  const rows = found.slice(0, page.limit);
  return { rows, next: encodeCursor(key, context, positionOf(rows[rows.length - 1])) };
}
