// A real local HTTP receiver for webhook tests: it records every delivery and answers as the test's
// `answer` says — a status, after a delay, or never (the request hangs until the receiver closes).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Delivery {
  /** the request's path and query */
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> & { id: number; kind: string; service_id?: string } };
  /** the status the receiver answered (undefined: it never did) */
  answered?: number;
}

export type Answer = number | { status: number; delayMs: number } | 'hang';

export interface Receiver {
  url: string;
  /** every request, in arrival order */
  deliveries: Delivery[];
  /** how the next request is answered (default 204) */
  answer: (delivery: Delivery, index: number) => Answer;
  /** requests that arrived and have not been answered */
  readonly inFlight: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    deliveries: [],
    answer: () => 204,
    get inFlight() {
      return hanging.size;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = {
        path: req.url ?? '',
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        json: JSON.parse(body),
      };
      const index = receiver.deliveries.push(delivery) - 1;
      const answer = receiver.answer(delivery, index);
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      if (answer === 'hang') return;
      const reply = () => {
        delivery.answered = typeof answer === 'number' ? answer : answer.status;
        res.writeHead(delivery.answered).end();
      };
      if (typeof answer === 'number') reply();
      else setTimeout(reply, answer.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

/**
 * The Standard Webhooks check, written here from the specification (not from contextd's code): the
 * signature is base64(HMAC-SHA256(key = base64-decoded secret after "whsec_", "<id>.<timestamp>.<body>")),
 * sent as "v1,<signature>" (several may be listed, space-separated), and the timestamp (seconds)
 * must be within five minutes of now.
 */
export function verifySignature(secret: string, delivery: Delivery, nowSeconds = Date.now() / 1000): boolean {
  if (!secret.startsWith('whsec_')) return false;
  if (Math.abs(nowSeconds - Number(delivery.timestamp)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${delivery.id}.${delivery.timestamp}.${delivery.body}`)
    .digest();
  return delivery.signature.split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}
