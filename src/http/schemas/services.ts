import { Type } from '@sinclair/typebox';
import {
  Int32In,
  LongOrStringIn,
  QueryBoolean,
  QueryCount,
  QueryList,
  QueryTime,
  ServiceIdParam,
  StringIdIn,
  TimestampIn,
  endEventFieldsIn,
  eventBody,
  eventFieldsIn,
  ListCursor,
} from './common.js';

export const ServiceStartBody = eventBody(
  {
    customer_id: Type.Optional(StringIdIn),
    contact_key: Type.Optional(StringIdIn),
    service_type: LongOrStringIn,
    est_duration: Type.Optional(Int32In),
    ...eventFieldsIn,
    ttl: Type.Optional(Int32In),
    expiration_time: Type.Optional(TimestampIn),
    auto_complete_after: Type.Optional(Int32In),
  },
  'Service Start Event. customer_id or contact_key is mandatory.',
);

export const ServiceEndBody = eventBody(
  { ...endEventFieldsIn, ttl: Type.Optional(Int32In), expiration_time: Type.Optional(TimestampIn) },
  'Service End Event; every field is optional. Start-event fields are ignored.',
);

const { timestamp: _timestamp, ...associateEventFields } = eventFieldsIn;
export const AssociateBody = eventBody(
  { service_type: Type.Optional(LongOrStringIn), ...associateEventFields },
  'Optional start-event fields to update on the service.',
);

export const ExpirationBody = Type.Object(
  { ttl: Type.Optional(Int32In), expiration_time: Type.Optional(TimestampIn) },
  { additionalProperties: true, description: 'ttl (seconds from now) wins over expiration_time; one is mandatory', 'x-expected': 'a JSON object' },
);

export const ServiceIdParams = Type.Object({ service_id: ServiceIdParam });
export const ServiceExtensionParams = Type.Object({ service_id: ServiceIdParam, name: Type.String({ description: 'extension name' }) });
export const CustomerParams = Type.Object({ customer_id: Type.String() });
export const ContactKeyParams = Type.Object({ contact_key: Type.String() });
export const AssociateParams = Type.Object({ customer_id: Type.String(), service_id: ServiceIdParam });

const nestingQuery = {
  active_states: Type.Optional(QueryBoolean),
  completed_states: Type.Optional(QueryBoolean),
  active_tasks: Type.Optional(QueryBoolean),
  completed_tasks: Type.Optional(QueryBoolean),
  extensions: Type.Optional(QueryList),
};

export const ServiceQuery = Type.Object(nestingQuery, { additionalProperties: true });
export const ServiceListQuery = Type.Object(
  {
    ...nestingQuery,
    service_types: Type.Optional(QueryList),
    started_from: Type.Optional(QueryTime),
    started_to: Type.Optional(QueryTime),
    limit: Type.Optional(QueryCount),
    offset: Type.Optional(QueryCount),
    cursor: Type.Optional(ListCursor),
  },
  { additionalProperties: true },
);

export const ServiceSearchQuery = Type.Object(
  {
    ...nestingQuery,
    status: Type.Optional(Type.String({ description: 'active, completed or all (the default)', examples: ['active'] })),
    customer_id: Type.Optional(Type.String({ description: "the customer's services" })),
    contact_key: Type.Optional(Type.String({ description: 'services started with this contact key, anonymous or associated since' })),
    service_types: Type.Optional(QueryList),
    started_from: Type.Optional(QueryTime),
    started_to: Type.Optional(QueryTime),
    completed_from: Type.Optional(QueryTime),
    completed_to: Type.Optional(QueryTime),
    dispositions: Type.Optional(QueryList),
    state_types: Type.Optional({ ...QueryList, description: 'services that have or had a state of one of these types' }),
    limit: Type.Optional(QueryCount),
    cursor: Type.Optional(Type.String({ description: 'next_cursor of the previous page' })),
  },
  // ext.<Extension>.<attribute>[.min|.max] (see the route's description)
  { additionalProperties: true },
);

export const StartServiceOut = Type.Object({ service_id: Type.Integer({ description: '64-bit' }) });
