// Bounds on what one connection can make the server hold. Node parses every pipelined request a read
// brings (64 KiB: thousands of small requests) before any is answered, and buffers every answer for
// a client that never reads. So: a connection with more than MAX_PIPELINED requests unanswered, or
// with more than MAX_UNSENT_BYTES of answers it has not read, is closed; and a connection on which
// nothing moves for IDLE_TIMEOUT_MS (no byte read or written, such as a client that stopped reading)
// is closed by the socket timeout (fastify's connectionTimeout). Well-behaved clients, including
// slow ones that read and pipelining clients with a few requests out, never meet these bounds.
//
// The same bookkeeping serves shutdown: connections whose request has not fully arrived are closed.
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const MAX_PIPELINED = 16;
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
export const IDLE_TIMEOUT_MS = 60_000;

interface ConnectionState {
  unanswered: number;
  /** the last request that arrived on it */
  last?: IncomingMessage;
}

declare module 'fastify' {
  interface FastifyInstance {
    connections: {
      /**
       * Closes the connections with no request being answered (idle, or headers still arriving) and
       * those whose last request's body is still arriving: nothing of theirs has been acted on.
       */
      closeUnfinished: () => void;
    };
  }
}

export function guardConnections(app: FastifyInstance): void {
  const open = new Map<Socket, ConnectionState>();
  app.server.on('connection', (socket: Socket) => {
    open.set(socket, { unanswered: 0 });
    socket.once('close', () => open.delete(socket));
  });
  // before fastify's own listener: the requests after the bound are never routed
  app.server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const state = open.get(socket);
    if (!state) return;
    state.unanswered++;
    state.last = request;
    if (state.unanswered > MAX_PIPELINED || socket.writableLength > MAX_UNSENT_BYTES) {
      socket.destroy();
      return;
    }
    response.once('close', () => state.unanswered--);
  });
  // requests already parsed from a connection closed above (the rest of its read) do no work
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.socket?.destroyed) return reply.hijack();
    done();
  });
  app.decorate('connections', {
    closeUnfinished: () => {
      for (const [socket, state] of open) if (state.unanswered === 0 || !state.last?.complete) socket.destroy();
    },
  });
}
