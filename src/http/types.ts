import type { FastifyTypeProvider } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';

/**
 * Types requests from their TypeBox schemas. Replies are not typed from the response schemas: the
 * presenters build them (with bigint service ids), and the response schemas pin the shape at
 * serialization time.
 */
export interface RequestTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: unknown;
}
