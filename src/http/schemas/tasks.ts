import { Type } from '@sinclair/typebox';
import { ElementIdParam, Int32In, ListCursor, LongOrStringIn, QueryCount, QueryList, ServiceIdParam, eventBody, eventFieldsIn } from './common.js';

export const TaskStartBody = eventBody(
  {
    task_type: Type.Optional(LongOrStringIn),
    state_id: Type.Optional(Type.Unsafe({ ...Int32In, description: 'the owning state (of the same service); absent: the task belongs to the service' })),
    est_duration: Type.Optional(Int32In),
    ...eventFieldsIn,
  },
  'Task Start Event.',
);

export const TaskParams = Type.Object({ service_id: ServiceIdParam, task_id: ElementIdParam });
export const TaskExtensionParams = Type.Object({ service_id: ServiceIdParam, task_id: ElementIdParam, name: Type.String() });

export const TaskQuery = Type.Object({ extensions: Type.Optional(QueryList) }, { additionalProperties: true });
export const TaskListQuery = Type.Object(
  {
    state_id: Type.Optional(Type.String({ description: 'only tasks of this state' })),
    task_types: Type.Optional(QueryList),
    extensions: Type.Optional(QueryList),
    limit: Type.Optional(QueryCount),
    offset: Type.Optional(QueryCount),
    cursor: Type.Optional(ListCursor),
  },
  { additionalProperties: true },
);

export const StartTaskOut = Type.Object({ task_id: Type.Integer() });
