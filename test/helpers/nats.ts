// Reads a JetStream stream in tests (the real NATS server these machines run; CI starts it).
import type { JetStreamManager } from 'nats';

export const NATS_URL = process.env.CONTEXTD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
/** scripts/test.sh found no NATS (outside CI, where that fails instead): the relay tests say so and skip */
export const NATS_SKIP = process.env.CONTEXTD_TEST_NATS === 'absent' ? `no NATS at ${NATS_URL}` : false;

export interface StreamMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  data: Record<string, unknown>;
}

/** Every message the stream holds, in stream order. */
export async function streamMessages(jsm: JetStreamManager, stream: string): Promise<StreamMessage[]> {
  const info = await jsm.streams.info(stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const messages: StreamMessage[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    messages.push({ seq, subject: m.subject, msgId: m.header?.get('Nats-Msg-Id') || undefined, data: JSON.parse(new TextDecoder().decode(m.data)) });
  }
  return messages;
}

/** Polls `read` until `done` holds (or `timeoutMs` passes: the last value is returned for the assertions to explain). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
