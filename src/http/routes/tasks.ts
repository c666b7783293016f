// Tasks: start, end, query, extensions (spec reference §2.3).
import type { FastifyInstance } from 'fastify';
import { listPage } from '../pages.js';
import type { RequestTypeProvider } from '../types.js';
import { registerExtensionWrites } from './extension-writes.js';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../domain/errors.js';
import { parseElementEnd, parseTaskStart } from '../../domain/events.js';
import { readInt32, readQueryList } from '../../domain/fields.js';
import { parseElementId } from '../../domain/ids.js';
import { BASE, LIST_SUFFIXES, EmptyOut, TaskOut, errorResponses } from '../schemas/common.js';
import { ServiceIdParams } from '../schemas/services.js';
import { ElementEndBody } from '../schemas/states.js';
import { StartTaskOut, TaskExtensionParams, TaskListQuery, TaskParams, TaskQuery, TaskStartBody } from '../schemas/tasks.js';
import { readNesting, taskViews } from '../../app/views.js';

const tags = ['tasks'];

export default async function taskRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();
  const { clock } = app;

  app.post(
    `/services/:service_id/tasks/start`,
    {
      config: { optionalBody: true },
      schema: { tags, summary: 'Start Task', params: ServiceIdParams, body: TaskStartBody, response: { 201: StartTaskOut, ...errorResponses } } },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const taskId = await request.scope.journeys.startTask(serviceId, parseTaskStart(request.body, clock()));
      return reply.status(201).header('location', `${BASE}/services/${serviceId}/tasks/${taskId}`).send({ task_id: taskId });
    },
  );

  app.post(
    `/services/:service_id/tasks/:task_id/end`,
    {
      config: { optionalBody: true },
      schema: { tags, summary: 'Complete Task', params: TaskParams, body: ElementEndBody, response: { 204: EmptyOut, ...errorResponses } } },
    async (request, reply) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const taskId = parseElementId('task_id', request.params.task_id);
      await request.scope.journeys.endTask(serviceId, taskId, parseElementEnd(request.body, clock(), 'task'));
      return reply.status(204).send();
    },
  );

  app.get(
    `/services/:service_id/tasks/:task_id`,
    { schema: { tags, summary: 'Query Task by ID', params: TaskParams, querystring: TaskQuery, response: { 200: TaskOut, ...errorResponses } } },
    async (request) => {
      const serviceId = request.scope.serviceId(request.params.service_id);
      const taskId = parseElementId('task_id', request.params.task_id);
      const nesting = readNesting(request.query, 'task');
      if (!(await request.scope.store.getService(serviceId))) throw notFound('service', serviceId);
      const task = await request.scope.store.getTask(serviceId, taskId);
      if (!task) throw notFound('task', taskId);
      const [view] = await taskViews(request.scope, [task], nesting, true);
      return view;
    },
  );

  registerExtensionWrites(app, {
    url: `/services/:service_id/tasks/:task_id/extensions/:name`,
    entity: 'tasks',
    label: 'Task',
    params: TaskExtensionParams,
    owner: (request) => ({ kind: 'task', serviceId: request.scope.serviceId(request.params.service_id), id: parseElementId('task_id', request.params.task_id!) }),
  });

  for (const [suffix, status] of LIST_SUFFIXES) {
    app.get(
      `/services/:service_id/tasks${suffix}`,
      {
        schema: { tags, summary: `Query Tasks (${status})`, params: ServiceIdParams, querystring: TaskListQuery, response: { 200: Type.Array(TaskOut), ...errorResponses } },
      },
      async (request, reply) => {
        const { scope, query } = request;
        const serviceId = scope.serviceId(request.params.service_id);
        const nesting = readNesting(query, 'task');
        const filter = {
          serviceIds: [serviceId],
          status,
          taskTypes: scope.catalog.typeFilter('Task', readQueryList(query.task_types)),
          stateId: query.state_id === undefined ? undefined : readInt32('state_id', query.state_id),
        };
        if (!(await scope.store.getService(serviceId))) throw notFound('service', serviceId);
        const tasks = await listPage(
          request,
          reply,
          scope.store,
          app.limits.listLimit,
          (page) => scope.store.listTasks({ ...filter, ...page }),
          (task) => ({ startedAt: task.startedAt, id: BigInt(task.taskId) }),
        );
        return taskViews(scope, tasks, nesting, true);
      },
    );
  }
}
