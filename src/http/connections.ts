// Bounds on what one connection can make the server hold. Node parses every pipelined request a read
// brings (64 KiB: thousands of small requests) before any is answered, and buffers every answer for
// a client that never reads. So: a connection with more than MAX_PIPELINED requests unanswered, or
// with more than MAX_UNSENT_BYTES of answers it has not read, is closed; and a connection on which
// nothing moves for IDLE_TIMEOUT_MS (no byte read or written, such as a client that stopped reading)
// is closed by the socket timeout (fastify's connectionTimeout). Well-behaved clients, including
// slow ones that read and pipelining clients with a few requests out, never meet these bounds.
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const MAX_PIPELINED = 16;
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
export const IDLE_TIMEOUT_MS = 60_000;

export function guardConnections(app: FastifyInstance): void {
  const unanswered = new WeakMap<Socket, number>();
  // before fastify's own listener: the requests after the bound are never routed
  app.server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const count = (unanswered.get(socket) ?? 0) + 1;
    unanswered.set(socket, count);
    if (count > MAX_PIPELINED || socket.writableLength > MAX_UNSENT_BYTES) {
      socket.destroy();
      return;
    }
    const done = () => unanswered.set(socket, (unanswered.get(socket) ?? 1) - 1);
    response.once('finish', done);
    response.once('close', () => response.writableFinished || done());
  });

  // requests already parsed from a connection closed above (the rest of its read) do no work
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.socket?.destroyed) return reply.hijack();
    done();
  });
}
