// The NATS JetStream sink of the outbox relay (events.nats): each event is published to
// `<subject_prefix>.<tenant>.<group>.<kind>` with its partition and id as the message id
// (Nats-Msg-Id), so a page published again after a crash is de-duplicated by the stream, which then
// holds exactly one copy of each event. The stream is created when missing (subjects
// `<subject_prefix>.>`, a duplicate window of DUPLICATE_WINDOW_MS); an existing one is used as it is.
// The connection is made when first needed and re-made after a failure, so a NATS that is down never
// holds up contextd's start: the relay retries.
import type { JetStreamClient, NatsConnection } from 'nats';
import type { StoredEvent } from '../domain/event-kinds.js';
import { stringifyJson } from '../domain/json.js';
import type { Partition } from '../domain/tenancy.js';
import { toJourneyEvent } from './events.js';
import type { EventSink } from './relay.js';

export interface NatsOptions {
  url: string;
  stream: string;
  subjectPrefix: string;
}

/** How long the stream remembers message ids: a republish within it (a restart after a crash) is dropped as a duplicate. */
export const DUPLICATE_WINDOW_MS = 30 * 60_000;

/** A subject token: NATS subjects split on dots, and spaces and wildcards are not allowed. */
function token(text: string | undefined): string {
  return text === undefined || text === '' ? '_' : text.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** `<prefix>.<tenant>.<group>.<kind>`; `_` stands for no tenant (single-tenant mode) and for the tenant's own partition. */
export function subjectOf(prefix: string, partition: Partition, kind: string): string {
  return `${prefix}.${token(partition.tenant?.name)}.${token(partition.group)}.${kind}`;
}

/** The message id: unique in the stream, the same however often the event is published. */
export function messageIdOf(partition: Partition, event: StoredEvent): string {
  return `${partition.key || '_'}:${event.id}`;
}

export class NatsSink implements EventSink {
  readonly relay = 'nats';
  private connecting?: Promise<{ nc: NatsConnection; js: JetStreamClient }>;
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: NatsOptions) {}

  private connection(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.connecting ??= (async () => {
      const { connect, nanos } = await import('nats');
      // noAsyncTraces: the client would otherwise build two Error objects (stack traces) for every
      // acknowledged publish, about 15 % of the relay's CPU
      const nc = await connect({ servers: this.options.url, name: 'contextd', maxReconnectAttempts: -1, reconnectTimeWait: 1000, noAsyncTraces: true });
      try {
        const jsm = await nc.jetstreamManager();
        try {
          await jsm.streams.info(this.options.stream);
        } catch {
          await jsm.streams.add({ name: this.options.stream, subjects: [`${this.options.subjectPrefix}.>`], duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
        }
        return { nc, js: nc.jetstream() };
      } catch (error) {
        await nc.close();
        throw error;
      }
    })();
    this.connecting.catch(() => (this.connecting = undefined));
    return this.connecting;
  }

  async deliver(partition: Partition, events: readonly StoredEvent[]): Promise<void> {
    const { js } = await this.connection();
    // published back to back on one connection: the stream stores them in this order
    await Promise.all(
      events.map((event) =>
        js.publish(subjectOf(this.options.subjectPrefix, partition, event.kind), this.encoder.encode(stringifyJson(toJourneyEvent(event))), { msgID: messageIdOf(partition, event) }),
      ),
    );
  }

  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    const connection = await connecting?.catch(() => undefined);
    await connection?.nc.drain().catch(() => undefined);
  }
}
