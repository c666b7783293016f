import { Type } from '@sinclair/typebox';
import { ElementIdParam, Int32In, ListCursor, LongOrStringIn, QueryBoolean, QueryCount, QueryList, ServiceIdParam, endEventFieldsIn, eventBody, eventFieldsIn } from './common.js';

export const StateStartBody = eventBody(
  { state_type: LongOrStringIn, previous_state_id: Type.Optional(Int32In), est_duration: Type.Optional(Int32In), ...eventFieldsIn },
  'State Start Event. state_type is mandatory.',
);

export const ElementEndBody = eventBody(endEventFieldsIn, 'End Event; every field is optional. Start-event fields are ignored.');

const { timestamp, ...sharedWithoutTime } = eventFieldsIn;
export const TransitionBody = eventBody(
  {
    from: Type.Object(
      { state_id: Int32In, disposition: Type.Optional(LongOrStringIn), disposition_desc: Type.Optional(Type.String()) },
      { additionalProperties: true, description: 'the state to complete', 'x-expected': 'a JSON object' },
    ),
    to: Type.Object(
      { state_type: LongOrStringIn, est_duration: Type.Optional(Int32In) },
      { additionalProperties: true, description: 'the state to start', 'x-expected': 'a JSON object' },
    ),
    ...sharedWithoutTime,
    timestamp,
  },
  'State Transition Event: completes from.state_id and starts to.state_type in one step; the shared fields go to both events, extensions to the new state.',
);

export const StateParams = Type.Object({ service_id: ServiceIdParam, state_id: ElementIdParam });
export const StateExtensionParams = Type.Object({ service_id: ServiceIdParam, state_id: ElementIdParam, name: Type.String() });

export const StateQuery = Type.Object(
  { active_tasks: Type.Optional(QueryBoolean), completed_tasks: Type.Optional(QueryBoolean), extensions: Type.Optional(QueryList) },
  { additionalProperties: true },
);
export const StateListQuery = Type.Object(
  {
    state_types: Type.Optional(QueryList),
    active_tasks: Type.Optional(QueryBoolean),
    completed_tasks: Type.Optional(QueryBoolean),
    extensions: Type.Optional(QueryList),
    limit: Type.Optional(QueryCount),
    offset: Type.Optional(QueryCount),
    cursor: Type.Optional(ListCursor),
  },
  { additionalProperties: true },
);

export const StartStateOut = Type.Object({ state_id: Type.Integer() });
