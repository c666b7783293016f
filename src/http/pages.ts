// Cursor paging of the documented lists (#19). Their bodies stay bare arrays, as every existing client
// reads them; with a `limit`, a page that has more after it says where they are in a
// `Link: <…&cursor=…>; rel="next"` header (RFC 8288), the same request with the next page's cursor.
// A cursor belongs to the route, its path parameters and its filters (every query parameter but
// `cursor`, `limit` and `offset`): reused on another list it is a 400. `offset` still works alone; with
// a cursor it is a 400 (the cursor already says where the page starts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cursorPage } from '../app/cursor.js';
import { readPage } from '../app/views.js';
import { invalid } from '../domain/errors.js';
import type { Position, Store } from '../store/store.js';

const PAGING = new Set(['cursor', 'limit', 'offset']);

export interface ListPage {
  after?: Position;
  limit?: number;
  offset?: number;
}

/** What a cursor belongs to: the route, its path parameters and every query parameter but the paging ones. */
export function cursorContext(request: FastifyRequest): string {
  const filters = Object.entries(request.query as Record<string, unknown>)
    .filter(([name]) => !PAGING.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([request.routeOptions.url, request.params, filters]);
}

/** One page of a list (`limit`, `offset` at most `maxLimit`; or `cursor`), with the next page's Link. */
export async function listPage<R>(
  request: FastifyRequest,
  reply: FastifyReply,
  store: Store,
  maxLimit: number,
  fetch: (page: ListPage) => Promise<R[]>,
  positionOf: (row: R) => Position,
): Promise<R[]> {
  const query = request.query as Record<string, unknown>;
  const page = readPage(query, maxLimit);
  const cursor = query.cursor;
  if (cursor === undefined) {
    // no cursor, no limit: the whole list, as always, without reading the store's key
    if (page.limit === undefined) return fetch(page);
  } else {
    if (typeof cursor !== 'string') throw invalid('cursor: give it once');
    if (page.offset) throw invalid('offset: not with a cursor (the cursor says where the page starts)');
  }
  const { rows, next } = await cursorPage(store, cursorContext(request), { cursor, limit: page.limit }, (after, limit) => fetch({ after, limit, offset: page.offset }), positionOf);
  if (next !== undefined) {
    const url = new URL(request.url, 'http://host');
    url.searchParams.delete('offset');
    url.searchParams.set('cursor', next);
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
  }
  return rows;
}
