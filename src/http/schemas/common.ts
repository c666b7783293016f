// Schemas shared by the route modules. Input schemas carry `x-expected` (the one-line description the
// error mapper shows when a value matches none of a union's branches); output schemas pin shapes for
// fast serialization. Fine-grained rules (ranges of numeric strings, dates) live in src/domain/fields.ts.
import { Type, type TSchema } from '@sinclair/typebox';
import type { ElementStatus } from '../../domain/records.js';

export const BASE = '/genesys/1/cs';

export const ErrorBody = Type.Object(
  {
    message: Type.String({ description: 'what went wrong, naming the field or resource' }),
    exception: Type.String({ description: 'stable error name, e.g. com.genesyslab.gsg.services.contextservices.exceptions.NotFoundException' }),
  },
  { description: 'Every non-2xx response' },
);

export const errorResponses = {
  '4xx': ErrorBody,
  '5xx': ErrorBody,
};

const INT64_MIN = '-9223372036854775808';
const INT64_MAX = '9223372036854775807';

// ---- input field types ----

export const LongOrStringIn = Type.Unsafe<number | string>({
  anyOf: [
    { type: 'integer', minimum: Number(INT64_MIN), maximum: Number(INT64_MAX) },
    { type: 'string', minLength: 1 },
    { 'x-int64': true },
  ],
  'x-expected': 'a 64-bit integer or a string',
  description: 'long or string: a business-attribute value DB id (64-bit integer) or name',
});

export const Int32In = Type.Unsafe<number | string>({
  anyOf: [
    { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
    { type: 'string', pattern: '^-?[0-9]+$' },
  ],
  'x-expected': 'a 32-bit integer or a string of decimal digits',
  description: '32-bit integer; a string of decimal digits is accepted',
});

export const StringIdIn = Type.Unsafe<string | number>({
  anyOf: [{ type: 'string', minLength: 1, maxLength: 256 }, { type: 'number' }, { 'x-int64': true }],
  'x-expected': 'a non-empty string of at most 256 characters',
  description: 'string id; a number is taken as its decimal text',
});

export const TimestampIn = Type.String({
  description: 'ISO 8601 date-time with an offset or Z, e.g. 2024-03-01T10:00:00.000Z; server time when absent',
});

/** The event fields shared by start and end events. */
export const eventFieldsIn = {
  session_id: Type.Optional(StringIdIn),
  interaction_id: Type.Optional(StringIdIn),
  application_type: Type.Optional(LongOrStringIn),
  application_id: Type.Optional(Int32In),
  resource_type: Type.Optional(LongOrStringIn),
  resource_id: Type.Optional(Int32In),
  media_type: Type.Optional(LongOrStringIn),
  timestamp: Type.Optional(TimestampIn),
};

export const endEventFieldsIn = {
  ...eventFieldsIn,
  disposition: Type.Optional(LongOrStringIn),
  disposition_desc: Type.Optional(Type.String()),
};

/** A body object whose undocumented top-level keys are extensions (any JSON value). */
export function eventBody<P extends Record<string, TSchema>>(properties: P, description: string) {
  return Type.Object(properties, {
    additionalProperties: true,
    description: `${description} Any other top-level key is an extension (object: single-valued, array of objects: multi-valued).`,
    'x-expected': 'a JSON object',
  });
}

export const ExtensionValueIn = Type.Unknown({ description: 'the new value: a JSON object (single-valued) or an array of objects (multi-valued)' });

// ---- query parameters ----

export const QueryBoolean = Type.String({ description: 'true or false (case-insensitive)' });
export const QueryList = Type.Union([Type.String(), Type.Array(Type.String())], {
  description: 'comma-separated list; the key may also be repeated',
  'x-expected': 'a comma-separated list',
});
export const QueryCount = Type.String({ description: 'non-negative integer' });
export const QueryTime = Type.String({ description: 'ISO 8601 date-time' });
export const ListCursor = Type.String({
  description: 'the next page: with a `limit`, a page that has more after it answers `Link: <…&cursor=…>; rel="next"`, the same request with this cursor (signed; it belongs to the list and filters it was made for)',
});

// ---- path parameters ----

export const ServiceIdParam = Type.String({ description: 'service id: 64-bit decimal integer' });
export const ElementIdParam = Type.String({ description: '32-bit decimal integer' });

// ---- output ----

// `type: [...]` rather than anyOf: fast-json-stringify checks it with typeof, not a validator call per value
export const LongOrStringOut = Type.Unsafe<number | string>({ type: ['integer', 'string'] });

export const EventOut = Type.Object(
  {
    timestamp: Type.String(),
    session_id: Type.Optional(Type.String()),
    interaction_id: Type.Optional(Type.String()),
    application_type: Type.Optional(LongOrStringOut),
    application_id: Type.Optional(Type.Integer()),
    resource_type: Type.Optional(LongOrStringOut),
    resource_id: Type.Optional(Type.Integer()),
    media_type: Type.Optional(LongOrStringOut),
    previous_state_id: Type.Optional(Type.Integer()),
    ttl: Type.Optional(Type.Integer()),
    expiration_time: Type.Optional(Type.String()),
    auto_complete_after: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false, description: 'a start or end event' },
);

const elementOut = {
  est_duration: Type.Optional(Type.Integer({ description: 'estimated duration, seconds' })),
  disposition: Type.Optional(LongOrStringOut),
  disposition_desc: Type.Optional(Type.String()),
  duration: Type.Optional(Type.Integer({ description: 'completed minus started, milliseconds (completed elements only)' })),
  started: EventOut,
  completed: Type.Optional(EventOut),
};

export const TaskOut = Type.Object(
  {
    service_id: Type.Optional(Type.Integer({ description: 'top-level tasks only' })),
    task_id: Type.Integer(),
    task_type: Type.Optional(LongOrStringOut),
    state_id: Type.Optional(Type.Integer()),
    ...elementOut,
  },
  { additionalProperties: true, description: 'a task; extensions appear as extra keys when requested' },
);

export const StateOut = Type.Object(
  {
    service_id: Type.Optional(Type.Integer({ description: 'top-level states only' })),
    state_id: Type.Integer(),
    state_type: Type.Optional(LongOrStringOut),
    ...elementOut,
    active_tasks: Type.Optional(Type.Array(TaskOut)),
    completed_tasks: Type.Optional(Type.Array(TaskOut)),
  },
  { additionalProperties: true, description: 'a state; extensions appear as extra keys when requested' },
);

export const ServiceOut = Type.Object(
  {
    service_id: Type.Integer({ description: '64-bit' }),
    service_type: Type.Optional(LongOrStringOut),
    customer_id: Type.Optional(Type.String()),
    contact_key: Type.Optional(Type.String()),
    ...elementOut,
    active_states: Type.Optional(Type.Array(StateOut)),
    completed_states: Type.Optional(Type.Array(StateOut)),
    active_tasks: Type.Optional(Type.Array(TaskOut)),
    completed_tasks: Type.Optional(Type.Array(TaskOut)),
  },
  { additionalProperties: true, description: 'a service; extensions appear as extra keys when requested' },
);

export const EmptyOut = Type.Null({ description: 'no body' });

/** The three forms of every list route: all, `/active`, `/completed`. */
export const LIST_SUFFIXES: readonly (readonly [suffix: string, status: ElementStatus])[] = [
  ['', 'all'],
  ['/active', 'active'],
  ['/completed', 'completed'],
];
