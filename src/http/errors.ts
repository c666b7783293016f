// The one error mapper: every non-2xx answer is {"message", "exception"} with a stable exception name.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError, type ErrorKind } from '../domain/errors.js';

export const EXCEPTION_PREFIX = 'com.genesyslab.gsg.services.contextservices.exceptions.';

/** Exception names clients can match on (listed in the README). */
export const Exceptions = {
  NotFound: `${EXCEPTION_PREFIX}NotFoundException`,
  Conflict: `${EXCEPTION_PREFIX}ConflictException`,
  Validation: `${EXCEPTION_PREFIX}ValidationException`,
  Unavailable: `${EXCEPTION_PREFIX}StoreUnavailableException`,
  Tenant: `${EXCEPTION_PREFIX}ContextServicesExceptionResource`,
  KeyReused: `${EXCEPTION_PREFIX}IdempotencyKeyReusedException`,
  RateLimited: `${EXCEPTION_PREFIX}TooManyRequestsException`,
  Forbidden: 'java.rmi.AccessException',
  UnknownRoute: `${EXCEPTION_PREFIX}UnknownRouteException`,
  MethodNotAllowed: `${EXCEPTION_PREFIX}MethodNotAllowedException`,
  PayloadTooLarge: `${EXCEPTION_PREFIX}PayloadTooLargeException`,
  UnsupportedMediaType: `${EXCEPTION_PREFIX}UnsupportedMediaTypeException`,
  Authentication: `${EXCEPTION_PREFIX}AuthenticationException`,
  BadRequest: `${EXCEPTION_PREFIX}BadRequestException`,
  Internal: `${EXCEPTION_PREFIX}InternalServerException`,
} as const;

export interface ErrorBody {
  message: string;
  exception: string;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: Record<string, unknown>;
}

function fieldName(dataVar: string, instancePath: string, extra?: string): string {
  const path = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const name = [path, extra].filter(Boolean).join('.');
  if (dataVar === 'body') return name || 'the request body';
  if (dataVar === 'querystring') return `query parameter ${name}`;
  if (dataVar === 'params') return `path parameter ${name}`;
  return name || dataVar;
}

/** Turns Ajv's errors into one sentence that names the field and what was expected. */
export function formatSchemaErrors(errors: AjvError[], dataVar: string): Error {
  const union = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const error = union ?? errors[0];
  let message: string;
  const expected = error.parentSchema?.['x-expected'];
  if (error.keyword === 'required') {
    message = `${fieldName(dataVar, error.instancePath, String(error.params.missingProperty))} is mandatory`;
  } else if (error.keyword === 'additionalProperties') {
    message = `${fieldName(dataVar, error.instancePath)} has an unknown field ${String(error.params.additionalProperty)}`;
  } else if (typeof expected === 'string') {
    message = `${fieldName(dataVar, error.instancePath)} must be ${expected}`;
  } else {
    message = `${fieldName(dataVar, error.instancePath)} ${error.message ?? 'is invalid'}`;
  }
  return new DomainError('Validation', message);
}

const statusOfKind = (kind: ErrorKind, notFoundStatus: number): number =>
  ({ NotFound: notFoundStatus, Conflict: 409, Validation: 400, Unavailable: 503, Tenant: 400, KeyReused: 422, RateLimited: 429, Forbidden: 403 })[kind];

export function toErrorResponse(error: FastifyError | Error, notFoundStatus: number): { status: number; body: ErrorBody } {
  if (error instanceof DomainError) {
    return { status: statusOfKind(error.kind, notFoundStatus), body: { message: error.message, exception: Exceptions[error.kind] } };
  }
  const fastifyError = error as FastifyError;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { message: 'the request body is larger than the configured limit', exception: Exceptions.PayloadTooLarge } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: { message: 'unsupported Content-Type: send application/json', exception: Exceptions.UnsupportedMediaType },
      };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, body: { message: fastifyError.message, exception: Exceptions.BadRequest } };
  }
  return { status: 500, body: { message: 'internal error; it has been logged', exception: Exceptions.Internal } };
}

/**
 * Fastify's own answers before routing (a malformed URL, a path parameter longer than the router's
 * limit) in the same {"message", "exception"} shape.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : error.code === 'FST_ERR_BAD_URL' ? 400 : 500;
  const message =
    status === 414 ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : status === 400 ? 'the URL is malformed' : 'internal error; it has been logged';
  void reply
    .status(status)
    .type('application/json')
    .send({ message, exception: status === 500 ? Exceptions.Internal : Exceptions.BadRequest });
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (headers or URL over the size limit,
 * a malformed request line, a request that took too long): answered in the same JSON shape, then the
 * connection is closed, as Node does.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request line and headers are larger than the server accepts (16 KiB)']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request was not received in time']
        : [400, 'the request could not be parsed as HTTP/1.1'];
  const body = JSON.stringify({ message, exception: Exceptions.BadRequest });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** The longest path parameter the router accepts (414 above). */
export const MAX_PARAM_LENGTH = 1024;

/**
 * The error handler; `notFoundStatus` is cview.not-found-status (400 or 404), which the services,
 * states and tasks routes install in their own context (the profile and metadata side keep 404).
 */
export function errorHandler(notFoundStatus: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorResponse(error, notFoundStatus);
    if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    else if (status === 503) request.log.warn({ err: error }, 'store unavailable');
    if (status < 500) return refuse(reply, status, body);
    return reply.status(status).type('application/json').send(body);
  };
}

/**
 * Installs the error handler and the not-found handler. A path that exists under another method
 * answers 405 with Allow, found through a shadow router fed by every registered route.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  const shadow = FindMyWay({ ignoreTrailingSlash: false });
  const methods = new Set<HTTPMethod>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[]) {
      // HEAD follows GET; OPTIONS is CORS's catch-all preflight route, not a method of any resource
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      try {
        shadow.on(method, route.url, () => undefined);
        methods.add(method);
      } catch {
        // already registered (e.g. a prefixed duplicate): nothing to add
      }
    }
  });

  app.setErrorHandler(errorHandler(404));

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    const allowed = [...methods].filter((m) => m !== request.method && shadow.find(m, path) !== null);
    if (allowed.length > 0) {
      return refuse(reply.header('allow', allowed.join(', ')), 405, { message: `method ${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, exception: Exceptions.MethodNotAllowed });
    }
    return refuse(reply, 404, { message: `no route ${request.method} ${path}`, exception: Exceptions.UnknownRoute });
  });
}

declare module 'fastify' {
  interface FastifyReply {
    /** the body of a 4xx this server sent (what logRefusals logs) */
    refusal: ErrorBody | null;
  }
}

/** Sends a 4xx body and remembers it for the refusal log line. */
export function refuse(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  reply.refusal = body;
  return reply.status(status).type('application/json').send(body);
}

/**
 * Every 4xx is logged at info with its reason, the exception name and the request id: what a client
 * did wrong is in the server's log too. Logged after the answer went out (onResponse), from what the
 * error mapper, the not-found handler and authentication remembered (refuse()).
 */
export function logRefusals(app: FastifyInstance): void {
  app.decorateReply('refusal', null);
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    if (status >= 400 && status < 500) request.log.info({ statusCode: status, reason: reply.refusal?.message, exception: reply.refusal?.exception }, 'request refused');
    done();
  });
}
