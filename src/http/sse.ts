// Writes one Server-Sent Events stream with a bound on what it buffers for a slow subscriber. A
// replay (Last-Event-ID) is written with backpressure: the next event waits until the socket has
// drained, while live events queue behind it in order. A subscriber that stops reading is cut off
// once its unsent output passes the bound; it reconnects with Last-Event-ID and misses nothing that
// the outbox still keeps.
import type { ServerResponse } from 'node:http';
import { stringifyJson } from '../domain/json.js';
import type { JourneyEvent } from '../app/events.js';

/** Unsent bytes a subscriber may have before it is disconnected. */
export const SSE_MAX_BUFFERED = 1024 * 1024;
/** Live events queued behind a replay before the subscriber is disconnected. */
const MAX_QUEUED = 10_000;

export class SseWriter {
  private replaying = true;
  private queue: JourneyEvent[] = [];
  private lastId = 0;
  private overflowed = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly onOverflow: () => void,
  ) {}

  /** Cut off, or the stream has ended or closed. */
  private get closed(): boolean {
    return this.overflowed || this.raw.destroyed || this.raw.writableEnded;
  }

  /** A live event: written now, or queued behind the replay. */
  live(event: JourneyEvent): void {
    if (this.closed) return;
    if (this.replaying) {
      if (this.queue.push(event) > MAX_QUEUED) this.overflow();
      return;
    }
    this.write(event);
  }

  /** Writes the backlog, page by page, with backpressure, then what arrived meanwhile (without repeating an event). */
  async replay(backlog: AsyncIterable<readonly JourneyEvent[]>): Promise<void> {
    for await (const page of backlog) {
      for (const event of page) {
        if (this.closed) return;
        if (!this.write(event)) await this.drained();
      }
    }
    this.replaying = false;
    const queued = this.queue;
    this.queue = [];
    for (const event of queued) if (!this.closed) this.write(event);
  }

  /** A comment line (greeting, heartbeat). */
  comment(text: string): void {
    if (!this.closed) this.raw.write(text);
  }

  /** Returns false when the socket wants a drain first. */
  private write(event: JourneyEvent): boolean {
    if (event.id <= this.lastId) return true;
    this.lastId = event.id;
    const ok = this.raw.write(`id: ${event.id}\nevent: ${event.kind}\ndata: ${stringifyJson(event)}\n\n`);
    if (this.raw.writableLength > SSE_MAX_BUFFERED) this.overflow();
    return ok;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.raw.off('drain', done);
        this.raw.off('close', done);
        resolve();
      };
      this.raw.once('drain', done);
      this.raw.once('close', done);
    });
  }

  private overflow(): void {
    if (this.closed) return;
    this.overflowed = true;
    this.queue = [];
    this.onOverflow();
  }
}
