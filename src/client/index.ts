// contextd/client: a typed client for contextd's API. The types are generated from the server's
// OpenAPI document (api-types.ts, openapi-typescript); requests go through openapi-fetch with a fetch
// of our own underneath that
//   - sets an Idempotency-Key on every write, so a write can be sent again safely,
//   - sends a request again after a 503 or a network error (exponential backoff with jitter),
//   - reads integers beyond 2^53 as bigint (a 64-bit service id stays exact) and writes bigints as digits,
// and an event stream that resumes with Last-Event-ID after a disconnect.
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { parseStoredJson, stringifyJson } from '../domain/json.js';
import type { paths } from './api-types.js';

export type { paths } from './api-types.js';

export interface ContextClientOptions {
  /** the server, e.g. http://127.0.0.1:8080 (the API's base path is part of each operation's path) */
  baseUrl: string;
  /** HTTP Basic, when the server has cview.use-role on */
  user?: string;
  password?: string;
  /** multi-tenant mode: ContactCenterId and GroupId */
  tenant?: string | number;
  group?: string;
  /** how many times a request is sent again after a 503 or a network error (default 3) */
  retries?: number;
  /** the first wait before sending again, ms (default 100; doubled each time, ±50 % jitter) */
  retryDelayMs?: number;
  /** the fetch underneath (default: the global one) */
  fetch?: typeof fetch;
}

export type ContextClient = Client<paths> & {
  /** The events of the partition (GET /events) as they commit, resuming after a disconnect where the last one left off. */
  events(options?: EventStreamOptions): AsyncGenerator<JourneyEvent>;
};

export interface EventStreamOptions {
  customerId?: string;
  contactKey?: string;
  serviceId?: number | bigint | string;
  /** event kinds, e.g. ['state.started', 'state.ended'] */
  kinds?: string[];
  /** resume after this event id (every event from the outbox after it, within events.retention) */
  lastEventId?: string;
  /** ends the stream */
  signal?: AbortSignal;
}

export interface JourneyEvent {
  /** the outbox id: pass it as lastEventId to resume after this event */
  id: string;
  kind: string;
  data: Record<string, unknown>;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** A Response whose json() keeps integers beyond 2^53 exact (bigint). */
class ExactJsonResponse extends Response {
  constructor(
    private readonly text_: string,
    init: ResponseInit,
  ) {
    super(text_, init);
  }
  override async json(): Promise<unknown> {
    return parseStoredJson(this.text_);
  }
}

function resilientFetch(options: ContextClientOptions): typeof fetch {
  const underlying = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 3;
  const firstDelay = options.retryDelayMs ?? 100;
  // exponential, ±50 % jitter: clients that failed together do not come back together
  const backoff = (attempt: number, signal: AbortSignal) => sleep(firstDelay * 2 ** attempt * (0.5 + Math.random()), signal);
  return async (input, init) => {
    const request = new Request(input, init);
    // one key for every attempt: the server answers a repeat with the first answer, and acts once
    if (WRITES.has(request.method) && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', randomUUID());
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await underlying(request.clone());
      } catch (error) {
        if (attempt >= retries || request.signal.aborted) throw error;
        await backoff(attempt, request.signal);
        continue;
      }
      if (response.status === 503 && attempt < retries) {
        await response.body?.cancel();
        await backoff(attempt, request.signal);
        continue;
      }
      if (!/json/.test(response.headers.get('content-type') ?? '')) return response;
      const text = await response.text();
      // content-length set: openapi-fetch then reads the body through json()
      const headers = new Headers(response.headers);
      headers.set('content-length', String(Buffer.byteLength(text)));
      return new ExactJsonResponse(text, { status: response.status, statusText: response.statusText, headers });
    }
  };
}

export function createContextClient(options: ContextClientOptions): ContextClient {
  const headers: Record<string, string> = {};
  if (options.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  if (options.tenant !== undefined) headers.ContactCenterId = String(options.tenant);
  if (options.group !== undefined) headers.GroupId = options.group;
  const fetchWithRetries = resilientFetch(options);
  const client = createClient<paths>({ baseUrl: options.baseUrl, headers, fetch: fetchWithRetries, bodySerializer: (body) => stringifyJson(body) });

  async function* events(stream: EventStreamOptions = {}): AsyncGenerator<JourneyEvent> {
    let lastEventId = stream.lastEventId;
    let failures = 0;
    const query = new URLSearchParams();
    if (stream.customerId !== undefined) query.set('customer_id', stream.customerId);
    if (stream.contactKey !== undefined) query.set('contact_key', stream.contactKey);
    if (stream.serviceId !== undefined) query.set('service_id', String(stream.serviceId));
    if (stream.kinds) query.set('kinds', stream.kinds.join(','));
    const url = `${options.baseUrl.replace(/\/$/, '')}/genesys/1/cs/events${query.size > 0 ? `?${query}` : ''}`;
    while (!stream.signal?.aborted) {
      try {
        const response = await fetchWithRetries(url, { headers: { ...headers, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: stream.signal });
        if (!response.ok || !response.body) {
          const body = await response.text();
          // a refusal (bad filter, credentials, tenant) does not get better by asking again
          if (response.status >= 400 && response.status < 500) throw new Error(`GET /events answered ${response.status}: ${body}`);
          throw new Error(`GET /events answered ${response.status}`);
        }
        failures = 0;
        const frames = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
        for await (const frame of frames) {
          if (frame.id) lastEventId = frame.id;
          if (!frame.event || !frame.data) continue;
          yield { id: frame.id ?? '', kind: frame.event, data: parseStoredJson(frame.data) as Record<string, unknown> };
        }
      } catch (error) {
        if (stream.signal?.aborted) return;
        if (error instanceof Error && /answered 4\d\d/.test(error.message)) throw error;
        failures++;
      }
      // the stream ended or broke: resume after the last event seen
      await sleep(Math.min(5000, (options.retryDelayMs ?? 100) * 2 ** Math.min(failures, 6)), stream.signal);
    }
  }

  return Object.assign(client, { events });
}
