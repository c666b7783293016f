// Customer profiles, their extensions and identification (spec: reference/profiles-schemas.md §2.2–2.9).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../domain/errors.js';
import { readQueryList } from '../../domain/fields.js';
import {
  IDENTIFY_OPTIONS,
  deleteRecordByUnique,
  insertExtensionRecords,
  newCustomerId,
  parseProfileBody,
  planIdentify,
  presentProfile,
  updateRecordByUnique,
  type ProfileModel,
} from '../../domain/profiles.js';
import { BASE, EmptyOut, errorResponses } from '../schemas/common.js';
import { AnyObjectBody, CreatedProfileOut, CustomerIdParams, IdentifyQuery, ProfileBody, ProfileExtensionParams, ProfileOut, ProfileQuery } from '../schemas/profiles.js';
import type { RequestTypeProvider } from '../types.js';
import type { Scope } from '../scope.js';

const tags = ['profiles'];

function readYesNo(field: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower === 'yes' || lower === 'true') return true;
  if (lower === 'no' || lower === 'false') return false;
  throw invalid(`${field} must be yes or no, got ${JSON.stringify(value)}`);
}

export default async function profileRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<RequestTypeProvider>();

  const model = async (scope: Scope): Promise<ProfileModel> => ({ core: app.profileCore, schemas: [...(await scope.schemas.get('profiles')).values()] });

  /** Extension names from `extensions=`, each of which must have a profile extension schema. */
  const selection = async (scope: Scope, value: string | string[] | undefined): Promise<Set<string>> => {
    const schemas = await scope.schemas.get('profiles');
    const names = readQueryList(value).map((n) => n.toLowerCase());
    for (const name of names) if (!schemas.has(name)) throw invalid(`extensions: ${name} is not a profile extension`);
    return new Set(names);
  };

  app.post(
    `/profiles`,
    { schema: { tags, summary: 'Create Customer Profile', body: ProfileBody, response: { 201: CreatedProfileOut, ...errorResponses } } },
    async (request, reply) => {
      const parsed = parseProfileBody(request.body, await model(request.scope));
      const customerId = parsed.customerId ?? newCustomerId();
      await request.scope.store.createProfile({ customerId, attributes: parsed.attributes, extensions: parsed.extensions });
      return reply.status(201).header('location', `${BASE}/profiles/${encodeURIComponent(customerId)}`).send({ customer_id: customerId });
    },
  );

  app.get(
    `/profiles/:customer_id`,
    { schema: { tags, summary: 'Query Customer Profile', params: CustomerIdParams, querystring: ProfileQuery, response: { 200: ProfileOut, ...errorResponses } } },
    async (request) => {
      const extensions = await selection(request.scope, request.query.extensions);
      const [profile] = await request.scope.store.getProfiles([request.params.customer_id]);
      if (!profile) throw notFound('profile', request.params.customer_id);
      return presentProfile(profile, { core: true, extensions });
    },
  );

  app.put(
    `/profiles/:customer_id`,
    {
      schema: {
        tags,
        summary: 'Update Customer Profile (replaces the core attributes and the extensions given; others untouched)',
        params: CustomerIdParams,
        body: ProfileBody,
        response: { 200: EmptyOut, ...errorResponses },
      },
    },
    async (request, reply) => {
      const customerId = request.params.customer_id;
      const parsed = parseProfileBody(request.body, await model(request.scope));
      if (parsed.customerId !== undefined && parsed.customerId !== customerId) throw invalid(`customer_id ${parsed.customerId} in the body does not match the path (${customerId})`);
      await request.scope.store.updateProfile(customerId, (current) => ({
        customerId,
        attributes: parsed.attributes,
        extensions: new Map([...current.extensions, ...parsed.extensions]),
      }));
      return reply.status(200).send();
    },
  );

  app.delete(
    `/profiles/:customer_id`,
    {
      schema: { tags, summary: 'Delete Customer Profile (with its extensions and index entries; services are kept)', params: CustomerIdParams, response: { 200: EmptyOut, ...errorResponses } },
    },
    async (request, reply) => {
      await request.scope.store.deleteProfile(request.params.customer_id);
      return reply.status(200).send();
    },
  );

  app.get(
    `/profiles`,
    { schema: { tags, summary: 'Identify Customer', querystring: IdentifyQuery, response: { 200: Type.Array(ProfileOut), ...errorResponses } } },
    async (request) => {
      const query = request.query as Record<string, string | string[] | undefined>;
      const attributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(query)) {
        if (IDENTIFY_OPTIONS.has(name)) continue;
        if (typeof value !== 'string') throw invalid(`${name} must be given once`);
        attributes[name] = value;
      }
      const includeProfile = readYesNo('include_profile', query.include_profile as string | undefined, false);
      const includeExtensions = (query.include_extensions as string | undefined)?.toLowerCase() ?? 'always';
      if (includeExtensions !== 'always' && includeExtensions !== 'unique') throw invalid(`include_extensions must be always or unique, got ${JSON.stringify(query.include_extensions)}`);
      const extensions = await selection(request.scope, query.extensions);
      const plan = planIdentify(attributes, await request.scope.store.listIdentificationKeys(), await model(request.scope), query.id_key as string | undefined);
      const customerIds = await request.scope.store.findCustomers(plan.key.id, plan.text, plan.exact);
      const withExtensions = includeExtensions === 'always' || customerIds.length === 1 ? extensions : new Set<string>();
      const profiles = includeProfile || withExtensions.size > 0 ? await request.scope.store.getProfiles(customerIds) : customerIds.map((customerId) => ({ customerId, attributes: {}, extensions: new Map() }));
      return profiles.map((p) => presentProfile(p, { core: includeProfile, extensions: withExtensions }));
    },
  );

  app.post(
    `/profiles/:customer_id/extensions`,
    {
      schema: { tags, summary: 'Insert Extension Records', params: CustomerIdParams, body: AnyObjectBody, response: { 200: EmptyOut, ...errorResponses } },
    },
    async (request, reply) => {
      const profileModel = await model(request.scope);
      await request.scope.store.updateProfile(request.params.customer_id, (current) => insertExtensionRecords(current, request.body, profileModel));
      return reply.status(200).send();
    },
  );

  app.put(
    `/profiles/:customer_id/extensions/:name/by/unique`,
    {
      schema: {
        tags,
        summary: 'Update Record In Profile Extension (selected by its unique attributes)',
        params: ProfileExtensionParams,
        body: AnyObjectBody,
        response: { 204: EmptyOut, ...errorResponses },
      },
    },
    async (request, reply) => {
      const profileModel = await model(request.scope);
      await request.scope.store.updateProfile(request.params.customer_id, (current) => updateRecordByUnique(current, request.params.name, request.body, profileModel));
      return reply.status(204).send();
    },
  );

  app.put(
    `/profiles/:customer_id/extensions/:name/delete/by/unique`,
    {
      schema: {
        tags,
        summary: 'Delete Record From Profile Extension (selected by its unique attributes)',
        params: ProfileExtensionParams,
        body: AnyObjectBody,
        response: { 204: EmptyOut, ...errorResponses },
      },
    },
    async (request, reply) => {
      const profileModel = await model(request.scope);
      await request.scope.store.updateProfile(request.params.customer_id, (current) => deleteRecordByUnique(current, request.params.name, request.body, profileModel));
      return reply.status(204).send();
    },
  );
}
