// Extension schemas, identification keys, the core profile schema and business attributes
// (spec: reference/profiles-schemas.md §2.10–2.18). Schema changes are online: no maintenance mode.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../domain/errors.js';
import { parseIdentificationKey, presentIdentificationKey } from '../../domain/profiles.js';
import { SCHEMA_ENTITIES, parseExtensionSchema, presentExtensionSchema } from '../../domain/schemas.js';
import { BASE, EmptyOut, errorResponses } from '../schemas/common.js';
import type { RequestTypeProvider } from '../types.js';

const tags = ['metadata'];
const NameParams = Type.Object({ name: Type.String() });
const Created = Type.Object({ name: Type.String() });
const AnyOut = Type.Object({}, { additionalProperties: true });
const AnyBody = Type.Object({}, { additionalProperties: true, 'x-expected': 'a JSON object' });

export default async function metadataRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  app.get(
    `/metadata/profiles`,
    {
      schema: {
        tags,
        summary: 'Query Profile Schema (core attributes)',
        response: { 200: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })), ...errorResponses },
      },
    },
    async () => app.profileCore.map((a) => ({ name: a.name, type: a.type })),
  );

  for (const entity of SCHEMA_ENTITIES) {
    const path = `/metadata/${entity}/extensions`;
    app.post(
      path,
      { schema: { tags, summary: `Create ${entity} extension schema`, body: AnyBody, response: { 201: Created, ...errorResponses } } },
      async (request, reply) => {
        const schema = parseExtensionSchema(request.body, entity);
        await request.scope.store.createExtensionSchema(entity, schema);
        request.scope.schemas.invalidate(entity);
        return reply.status(201).header('location', `${BASE}${path}/${schema.name}`).send({ name: schema.name });
      },
    );
    app.get(path, { schema: { tags, summary: `Query ${entity} extension schemas`, response: { 200: Type.Array(AnyOut), ...errorResponses } } }, async (request) =>
      (await request.scope.store.listExtensionSchemas(entity)).map((s) => presentExtensionSchema(s, entity)),
    );
    app.get(
      `${path}/:name`,
      { schema: { tags, summary: `Query one ${entity} extension schema`, params: NameParams, response: { 200: AnyOut, ...errorResponses } } },
      async (request) => {
        const schema = (await request.scope.store.listExtensionSchemas(entity)).find((s) => s.name.toLowerCase() === request.params.name.toLowerCase());
        if (!schema) throw notFound('extension', request.params.name);
        return presentExtensionSchema(schema, entity);
      },
    );
    app.delete(
      `${path}/:name`,
      { schema: { tags, summary: `Delete ${entity} extension schema`, params: NameParams, response: { 204: EmptyOut, ...errorResponses } } },
      async (request, reply) => {
        await request.scope.store.deleteExtensionSchema(entity, request.params.name);
        request.scope.schemas.invalidate(entity);
        return reply.status(204).send();
      },
    );
  }

  const keys = `/metadata/identification-keys`;
  app.post(keys, { schema: { tags, summary: 'Create Identification Key', body: AnyBody, response: { 201: Created, ...errorResponses } } }, async (request, reply) => {
    const key = parseIdentificationKey(request.body, { core: app.profileCore, schemas: await request.scope.store.listExtensionSchemas('profiles') });
    await request.scope.store.createIdentificationKey(key);
    return reply.status(201).header('location', `${BASE}${keys}/${key.name}`).send({ name: key.name });
  });
  app.get(keys, { schema: { tags, summary: 'Get Identification Keys', response: { 200: Type.Array(AnyOut), ...errorResponses } } }, async (request) =>
    (await request.scope.store.listIdentificationKeys()).map(presentIdentificationKey),
  );
  app.get(
    `${keys}/:name`,
    { schema: { tags, summary: 'Get one Identification Key', params: NameParams, response: { 200: AnyOut, ...errorResponses } } },
    async (request) => {
      const key = (await request.scope.store.listIdentificationKeys()).find((k) => k.name.toLowerCase() === request.params.name.toLowerCase());
      if (!key) throw notFound('identification key', request.params.name);
      return presentIdentificationKey(key);
    },
  );
  app.delete(
    `${keys}/:name`,
    { schema: { tags, summary: 'Delete Identification Key', params: NameParams, response: { 204: EmptyOut, ...errorResponses } } },
    async (request, reply) => {
      await request.scope.store.deleteIdentificationKey(request.params.name);
      return reply.status(204).send();
    },
  );

  const attributes = `/metadata/business-attributes`;
  app.get(
    attributes,
    {
      schema: {
        tags,
        summary: 'Query Business Attribute Schema (all, or the one mapped to ?cv-attribute=Entity.field)',
        querystring: Type.Object({ 'cv-attribute': Type.Optional(Type.String({ description: 'e.g. Service.type' })) }),
        response: { 200: Type.Union([AnyOut, Type.Array(AnyOut)]), ...errorResponses },
      },
    },
    async (request) => {
      const cv = request.query['cv-attribute'];
      if (cv !== undefined) return request.scope.catalog.present(request.scope.catalog.byCvAttribute(cv));
      return request.scope.catalog.attributes.map((a) => request.scope.catalog.present(a));
    },
  );
  app.get(
    `${attributes}/:name`,
    { schema: { tags, summary: 'Query one Business Attribute', params: NameParams, response: { 200: AnyOut, ...errorResponses } } },
    async (request) => request.scope.catalog.present(request.scope.catalog.get(request.params.name)),
  );
}
