// JSON in and out without losing 64-bit integers, and the Ajv set-up for explicit typing.
import type { FastifyInstance } from 'fastify';
import { addRouteHook } from './route-hooks.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the route takes an absent body as {} */
    optionalBody?: boolean;
  }
}
import AjvCompiler from '@fastify/ajv-compiler';
import fastJson from 'fast-json-stringify';
import type { Ajv } from 'ajv';
import { DomainError, invalid } from '../domain/errors.js';
import { INT64_MAX, INT64_MIN } from '../domain/fields.js';
import { checkJsonLimits, containsBigInt, parseJsonText, stringifyJson, type JsonLimits } from '../domain/json.js';

/**
 * Ajv keywords: `x-int64` accepts a bigint within the signed 64-bit range (integers beyond 2^53 are
 * parsed as bigint); `x-expected` is an annotation the error mapper reads.
 */
export function ajvKeywords(ajv: Ajv): Ajv {
  ajv.addKeyword({
    keyword: 'x-int64',
    schemaType: 'boolean',
    errors: false,
    validate: (_schema: boolean, data: unknown) => typeof data === 'bigint' && data >= INT64_MIN && data <= INT64_MAX,
  });
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
  return ajv;
}

/** Ajv options: no type coercion and no silent removal — numeric strings are converted by the domain, on purpose. */
export const ajvOptions = {
  customOptions: { coerceTypes: false as const, removeAdditional: false as const, useDefaults: true, allErrors: false, verbose: true },
  plugins: [ajvKeywords],
};

type Validator = ((data: unknown) => unknown) & { errors?: unknown };
type BuildValidator = (externalSchemas: unknown, options: unknown) => (route: unknown) => Validator;

/**
 * Fastify's Ajv compiler, compiling each route's validator on its first request rather than at
 * start-up (the same validators, the same options; only the moment changes).
 */
export function lazyValidatorFactory(): BuildValidator {
  const build = AjvCompiler() as unknown as BuildValidator;
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    return (route) => {
      let validate: Validator | undefined;
      const lazy: Validator = (data) => {
        validate ??= compile(route);
        const result = validate(data);
        lazy.errors = validate.errors;
        return result;
      };
      return lazy;
    };
  };
}

export function registerJson(app: FastifyInstance, bodyLimit: number, limits: JsonLimits): void {
  // JSON only: any other Content-Type on a body answers 415
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const text = body as string;
    request.rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    const tooBig = checkJsonLimits(text, limits);
    if (tooBig) return done(invalid(`the request body is refused: ${tooBig} (see limits in the configuration)`), undefined);
    try {
      done(null, parseJsonText(text));
    } catch (error) {
      // valid JSON that cannot be kept (a number beyond the double range) says so itself
      done(error instanceof DomainError ? error : invalid(`the request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });

  // NUL in a path or query (%00) is refused on every store alike (PostgreSQL text cannot hold it)
  app.addHook('onRequest', (request, _reply, done) => done(request.url.includes('%00') ? invalid('the URL must not contain the NUL character (%00)') : undefined));

  // End, associate and start-task bodies are optional: a request without one is the empty event.
  // A hook of those routes only, not one every request runs.
  app.addHook('onRoute', (route) => {
    if (!route.config?.optionalBody) return;
    addRouteHook(route, 'preValidation', (request, _reply, done) => {
      if (request.body === undefined) request.body = {};
      done();
    });
  });

  // Schema-driven serialization; a response holding a bigint beyond 2^53 (an exact 64-bit value in a
  // "long or string" field or an extension) falls back to the lossless writer.
  // Compiled on first use, not at start-up: a node answers its first request sooner.
  app.setSerializerCompiler(({ schema }) => {
    let fast: ((data: unknown) => string) | undefined;
    return (data: unknown) => {
      fast ??= fastJson(schema as Parameters<typeof fastJson>[0]);
      try {
        return fast(data);
      } catch (error) {
        if (error instanceof TypeError && containsBigInt(data)) return stringifyJson(data);
        throw error;
      }
    };
  });
}
