// Reads a Server-Sent Events stream in tests: subscribe, act once the server greets, collect events.
import assert from 'node:assert/strict';

export interface Received {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** Opens the stream at `url`, runs `act` once the server has greeted, and collects events until `count` arrive (or 5 s pass). */
export async function collectEvents(url: string, count: number, act: () => Promise<void>, headers: Record<string, string> = {}, waitMs = 5000): Promise<Received[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const received: Received[] = [];
  const timer = setTimeout(() => controller.abort(), waitMs);
  let buffer = '';
  let acting: Promise<void> | undefined;
  try {
    while (received.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (block.startsWith(': contextd events')) acting ??= act();
        const data = /^data: (.*)$/m.exec(block);
        if (data) received.push({ id: /^id: (.*)$/m.exec(block)![1], event: /^event: (.*)$/m.exec(block)![1], data: JSON.parse(data[1]) });
      }
    }
  } catch {
    // aborted by the timeout: the assertions say what was missing
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  await acting;
  return received;
}
