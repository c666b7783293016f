import { Type } from '@sinclair/typebox';

export const ProfileBody = Type.Object(
  { customer_id: Type.Optional(Type.String({ maxLength: 16, description: 'optional on create: assigned by the server when absent' })) },
  {
    additionalProperties: true,
    description: 'Core attributes (a value, or an array whose element 0 is primary) and profile extensions (object: single-valued, array: multi-valued), all top-level.',
    'x-expected': 'a JSON object',
  },
);
export const AnyObjectBody = Type.Object({}, { additionalProperties: true, 'x-expected': 'a JSON object' });

export const CustomerIdParams = Type.Object({ customer_id: Type.String() });
export const ProfileExtensionParams = Type.Object({ customer_id: Type.String(), name: Type.String() });

export const ProfileQuery = Type.Object(
  { extensions: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'extension names to include' })) },
  { additionalProperties: true },
);

export const IdentifyQuery = Type.Object(
  {
    id_key: Type.Optional(Type.String({ description: 'identification key to use; inferred when absent' })),
    include_profile: Type.Optional(Type.String({ description: 'yes: return core attributes; no (default): only customer_id' })),
    extensions: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    include_extensions: Type.Optional(Type.String({ description: 'always (default) or unique: extensions only when exactly one customer matches' })),
  },
  { additionalProperties: Type.String(), description: '<attribute>=<value> and <extension>.<attribute>=<value> pairs' },
);

export const ProfileOut = Type.Object({ customer_id: Type.String() }, { additionalProperties: true });
export const CreatedProfileOut = Type.Object({ customer_id: Type.String() });
