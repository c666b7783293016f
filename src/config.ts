// The config file (JSON or YAML) plus environment overrides, validated once at start-up. Unknown keys
// and wrong types stop start-up with a message naming the key (spec: "The config file").
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { createRequire } from 'node:module';
import { BusinessAttributeCatalog, catalogConfigFor, namesTenant, type CatalogConfig } from './domain/business-attributes.js';
import { DEFAULT_CORE_ATTRIBUTES, type CoreAttribute } from './domain/profiles.js';
import { grantedPartitions, parsePasswordHash, type User } from './domain/access.js';
import { DEFAULT_EXPIRATION, parseLifetime } from './domain/expiration.js';
import { checkTenants, type Tenant } from './domain/tenancy.js';
import { DEFAULT_LIMITS, type Limits } from './domain/limits.js';
import type { LogFormat } from './logging.js';

const LOG_FORMATS: LogFormat[] = ['auto', 'pretty', 'json'];

const Expiration = Type.String({ pattern: '^[0-9]+[smhdwMy]$', description: '<integer><unit>, units s m h d w M y' });

const BusinessAttributeValue = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    dbid: Type.Optional(Type.Integer()),
    display_name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
const BusinessAttribute = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    dbid: Type.Optional(Type.Integer()),
    display_name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    values: Type.Optional(Type.Array(BusinessAttributeValue)),
  },
  { additionalProperties: false },
);
const BusinessAttributeSection = {
  mapping: Type.Optional(Type.Record(Type.String(), Type.String())),
  attributes: Type.Optional(Type.Array(BusinessAttribute)),
};

export const ConfigFileSchema = Type.Object(
  {
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    host: Type.Optional(Type.String({ minLength: 1 })),
    database_url: Type.Optional(Type.String({ minLength: 1 })),
    log_level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
    log_format: Type.Optional(Type.Union(LOG_FORMATS.map((f) => Type.Literal(f)), { description: 'pretty: readable lines; json: one JSON object a line; auto (default): pretty on a terminal' })),
    idempotency: Type.Optional(
      Type.Object({ retention: Type.Optional(Expiration) }, { additionalProperties: false, description: 'Idempotency-Key answers: how long they are replayed (default 24h)' }),
    ),
    events: Type.Optional(
      Type.Object(
        {
          retention: Type.Optional(Expiration),
          nats: Type.Optional(
            Type.Object(
              {
                url: Type.String({ minLength: 1, description: 'e.g. nats://127.0.0.1:4222' }),
                stream: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', description: 'the JetStream stream (default CONTEXTD; created when missing)' })),
                subject_prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', description: 'subjects are <prefix>.<tenant>.<group>.<kind> (default contextd)' })),
              },
              { additionalProperties: false, description: 'publish every committed event to NATS JetStream' },
            ),
          ),
          webhooks: Type.Optional(
            Type.Object(
              {
                timeout: Type.Optional(Expiration),
                retry_for: Type.Optional(Expiration),
                concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
              },
              {
                additionalProperties: false,
                description: 'webhook deliveries: a receiver that has not answered within timeout (default 10s) has failed; a failed event is retried for retry_for (default 24h), then dead-lettered; at most concurrency requests in flight per webhook (default 16)',
              },
            ),
          ),
        },
        { additionalProperties: false, description: 'The outbox of committed events: how long they are kept, to resume the stream with Last-Event-ID (default 7d), and where they are relayed' },
      ),
    ),
    cors: Type.Optional(
      Type.Object(
        { write_origins: Type.Optional(Type.Array(Type.String({ pattern: '^https?://[^/]+$' }), { description: 'origins allowed to write and to send credentials' })) },
        { additionalProperties: false },
      ),
    ),
    rate_limit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({ minimum: 1, description: 'requests per window, per tenant (per client address in single-tenant mode)' }),
          window_ms: Type.Optional(Type.Integer({ minimum: 100, description: 'window length, ms (default 1000)' })),
        },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          body_bytes: Type.Optional(Type.Integer({ minimum: 1024, description: 'largest request body, bytes (default 1 MiB)' })),
          json_depth: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000, description: 'deepest nesting in a body (default 32)' })),
          string_length: Type.Optional(Type.Integer({ minimum: 64, description: 'longest string in a body, characters (default 65536)' })),
          extensions_per_element: Type.Optional(Type.Integer({ minimum: 1, description: 'most extensions on one service, state or task write (default 100)' })),
          list_limit: Type.Optional(Type.Integer({ minimum: 1, description: 'largest accepted list `limit` (default 10000)' })),
        },
        { additionalProperties: false },
      ),
    ),
    durability: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('relaxed')])),
    'profile-attributes': Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }), type: Type.Union([Type.Literal('string'), Type.Literal('date'), Type.Literal('datetime')]) },
          { additionalProperties: false },
        ),
        { description: 'core profile attributes (default FirstName, LastName, Title, PhoneNumber, EmailAddress)' },
      ),
    ),
    pool_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'PostgreSQL connections per node (default 10)' })),
    pg_connect_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, description: 'PostgreSQL: the longest wait for a connection (default 3000)' })),
    pg_query_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000, description: 'PostgreSQL: the longest a query or a write batch may take (default 10000)' })),
    cview: Type.Optional(
      Type.Object(
        {
          expiration: Type.Optional(Expiration),
          'data-validation': Type.Optional(Type.Boolean()),
          'use-role': Type.Optional(Type.Boolean()),
          'auto-complete-enabled': Type.Optional(Type.Boolean()),
          'auto-complete-after': Type.Optional(Type.Integer({ minimum: 1 })),
          'not-found-status': Type.Optional(Type.Union([Type.Literal(404), Type.Literal(400)])),
        },
        { additionalProperties: false },
      ),
    ),
    tenants: Type.Optional(
      Type.Array(
        Type.Object(
          { id: Type.Integer(), name: Type.String({ minLength: 1 }), groups: Type.Optional(Type.Array(Type.String({ minLength: 1 }))) },
          { additionalProperties: false },
        ),
      ),
    ),
    users: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            password_hash: Type.String({ pattern: '^scrypt\\$' }),
            roles: Type.Array(Type.Union([Type.Literal('Administrator'), Type.Literal('Supervisor')])),
            tenants: Type.Optional(
              Type.Array(
                Type.Union([
                  Type.String({ minLength: 1 }),
                  Type.Integer(),
                  Type.Object(
                    { tenant: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]), groups: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
                    { additionalProperties: false },
                  ),
                ]),
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    'business-attributes': Type.Optional(
      Type.Object(
        {
          'map-names': Type.Optional(Type.Boolean()),
          ...BusinessAttributeSection,
          tenants: Type.Optional(Type.Record(Type.String(), Type.Object(BusinessAttributeSection, { additionalProperties: false }))),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;

export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Config {
  /** cview.use-role: HTTP Basic against `users` */
  useRole: boolean;
  users: User[];
  /** cview/expiration */
  expiration: string;
  autoComplete: { enabled: boolean; afterSeconds?: number };
  /** core profile attributes */
  profileAttributes: CoreAttribute[];
  /** the business-attribute catalog, mapping and the validation / map-names switches, with per-tenant sections */
  businessAttributes: CatalogConfig;
  /** cors.write_origins */
  corsWriteOrigins: string[];
  rateLimit?: { max: number; windowMs: number };
  /** idempotency.retention */
  idempotencyRetention?: string;
  /** events.retention */
  eventRetention?: string;
  /** events.nats: relay every committed event to NATS JetStream */
  nats?: { url: string; stream: string; subjectPrefix: string };
  /** events.webhooks, in ms */
  webhooks: { timeoutMs: number; retryForMs: number; concurrency: number };
  /** multi-tenant mode when not empty */
  tenants: Tenant[];
  port: number;
  host: string;
  database: DatabaseTarget;
  durability: 'full' | 'relaxed';
  logLevel: string;
  logFormat: LogFormat;
  limits: Limits;
  poolSize: number;
  /** PostgreSQL: a request waiting on an unreachable database answers 503 within connect + query timeout */
  pgTimeouts: { connectMs: number; queryMs: number };
  notFoundStatus: 404 | 400;
  /** the whole validated file, for options read by later features */
  file: ConfigFile;
}

export class ConfigError extends Error {}

export const DEFAULT_DATABASE_URL = './data/contextd.db';

/** A file path, `sqlite:PATH` / `sqlite://PATH` / `file:PATH`, or a `postgres://` / `postgresql://` URL. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  let path = url;
  const scheme = /^(sqlite|file):(\/\/)?/.exec(url);
  if (scheme) path = url.slice(scheme[0].length);
  if (path.length === 0) throw new ConfigError(`database_url: no file path in ${JSON.stringify(url)}`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) throw new ConfigError(`database_url: unsupported scheme in ${JSON.stringify(url)} (use a file path, sqlite:PATH or postgres://…)`);
  return { kind: 'sqlite', path: resolve(path) };
}

const MASK = '***';

/** A URL with its password masked; undefined when it cannot be parsed. */
function withoutPassword(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    return parsed.toString();
  } catch {
    return undefined;
  }
}

/** The store as a person reads it in a log line or an error: the file, or the URL without its password. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return `SQLite ${target.path}`;
  return `PostgreSQL ${withoutPassword(target.url) ?? '(an unparsable URL)'}`;
}

/** The yaml package, loaded when a YAML file is read or printed. */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

// Checked by TypeBox's interpreter, not a compiled Ajv validator: it runs once, at start-up, where a
// code-generating compile would cost more than the check.
function describeError(data: unknown): string | undefined {
  const error = Value.Errors(ConfigFileSchema, data).First();
  if (!error) return undefined;
  const path = error.path.replace(/^\//, '').replace(/\//g, '.');
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return `unknown key ${path}`;
  return `${path || '(root)'}: ${error.message}, got ${JSON.stringify(error.value)}`;
}

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    // yaml is loaded only for YAML files
    data = /\.json$/i.test(file) ? JSON.parse(text) : yaml().parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  return checkConfigFile(data ?? {}, file);
}

export function checkConfigFile(data: unknown, source = 'config'): ConfigFile {
  const problem = describeError(data);
  if (problem) throw new ConfigError(`${source}: ${problem}`);
  return data as ConfigFile;
}

export interface ConfigOverrides {
  configFile?: string;
  port?: string;
  host?: string;
  databaseUrl?: string;
}

function parsePort(value: string, source: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new ConfigError(`${source} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Builds the effective configuration: command-line flags over environment (PORT, HOST, DATABASE_URL,
 * LOG_LEVEL, LOG_FORMAT, CONTEXTD_CONFIG) over the config file over defaults.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const configFile = overrides.configFile ?? env.CONTEXTD_CONFIG;
  const file = configFile ? readConfigFile(configFile) : checkConfigFile({});
  const users = file.users ?? [];
  for (const [i, user] of users.entries()) {
    if (!parsePasswordHash(user.password_hash)) throw new ConfigError(`users[${i}].password_hash: not a hash from \`contextd hash-password\``);
  }
  if (new Set(users.map((u) => u.name)).size !== users.length) throw new ConfigError('users: a name appears twice');
  if (file.cview?.['use-role'] && users.length === 0) throw new ConfigError('cview.use-role is on but users is empty: nobody could use the server');
  const tenants: Tenant[] = file.tenants ?? [];
  try {
    checkTenants(tenants);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (tenants.length > 0) {
    for (const [i, user] of users.entries()) {
      if (!user.tenants) throw new ConfigError(`users[${i}] (${user.name}): with tenants, each user lists the tenants it may use (users[].tenants; "*" for all)`);
      try {
        grantedPartitions(user.tenants, tenants);
      } catch (error) {
        throw new ConfigError(`users[${i}].tenants: ${(error as Error).message}`);
      }
    }
  }
  const port =
    overrides.port !== undefined ? parsePort(overrides.port, '--port') : env.PORT !== undefined && env.PORT !== '' ? parsePort(env.PORT, 'PORT') : (file.port ?? 8080);
  const host = overrides.host ?? (env.HOST || undefined) ?? file.host ?? '127.0.0.1';
  const databaseUrl = overrides.databaseUrl ?? (env.DATABASE_URL || undefined) ?? file.database_url ?? DEFAULT_DATABASE_URL;
  const logLevel = env.LOG_LEVEL || file.log_level || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL: unknown level ${JSON.stringify(logLevel)}`);
  const logFormat = (env.LOG_FORMAT || file.log_format || 'auto') as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) throw new ConfigError(`LOG_FORMAT: ${JSON.stringify(logFormat)} is not one of ${LOG_FORMATS.join(', ')}`);
  const businessAttributes: CatalogConfig = {
    mapNames: file['business-attributes']?.['map-names'],
    mapping: file['business-attributes']?.mapping,
    attributes: file['business-attributes']?.attributes,
    dataValidation: file.cview?.['data-validation'],
    tenants: file['business-attributes']?.tenants,
  };
  try {
    for (const key of Object.keys(businessAttributes.tenants ?? {})) {
      if (!tenants.some((t) => namesTenant(key, t))) throw new Error(`business-attributes.tenants: ${key} is not a tenant of tenants`);
    }
    // the global catalog and each tenant's must hold together
    for (const tenant of [undefined, ...tenants]) {
      const catalog = catalogConfigFor(businessAttributes, tenant);
      const where = tenant ? `business-attributes.tenants.${tenant.name}` : 'business-attributes';
      new BusinessAttributeCatalog(catalog);
      for (const attribute of catalog.attributes ?? []) {
        for (const value of attribute.values ?? []) {
          if (value.settings?.expiration !== undefined) parseLifetime(`${where} ${attribute.name}.${value.name} settings.expiration`, value.settings.expiration);
        }
      }
    }
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    port,
    host,
    database: parseDatabaseUrl(databaseUrl),
    durability: file.durability ?? 'full',
    logLevel,
    logFormat,
    limits: {
      bodyBytes: file.limits?.body_bytes ?? DEFAULT_LIMITS.bodyBytes,
      jsonDepth: file.limits?.json_depth ?? DEFAULT_LIMITS.jsonDepth,
      stringLength: file.limits?.string_length ?? DEFAULT_LIMITS.stringLength,
      extensionsPerElement: file.limits?.extensions_per_element ?? DEFAULT_LIMITS.extensionsPerElement,
      listLimit: file.limits?.list_limit ?? DEFAULT_LIMITS.listLimit,
    },
    poolSize: file.pool_size ?? 10,
    pgTimeouts: { connectMs: file.pg_connect_timeout_ms ?? 3000, queryMs: file.pg_query_timeout_ms ?? 10_000 },
    useRole: file.cview?.['use-role'] ?? false,
    expiration: file.cview?.expiration ?? DEFAULT_EXPIRATION,
    autoComplete: { enabled: file.cview?.['auto-complete-enabled'] ?? false, afterSeconds: file.cview?.['auto-complete-after'] },
    users: users as User[],
    profileAttributes: file['profile-attributes'] ?? DEFAULT_CORE_ATTRIBUTES,
    businessAttributes,
    tenants,
    idempotencyRetention: file.idempotency?.retention,
    eventRetention: file.events?.retention,
    nats: file.events?.nats && { url: file.events.nats.url, stream: file.events.nats.stream ?? 'CONTEXTD', subjectPrefix: file.events.nats.subject_prefix ?? 'contextd' },
    webhooks: {
      timeoutMs: parseLifetime('events.webhooks.timeout', file.events?.webhooks?.timeout ?? '10s'),
      retryForMs: parseLifetime('events.webhooks.retry_for', file.events?.webhooks?.retry_for ?? '24h'),
      concurrency: file.events?.webhooks?.concurrency ?? 16,
    },
    corsWriteOrigins: file.cors?.write_origins ?? [],
    rateLimit: file.rate_limit ? { max: file.rate_limit.max, windowMs: file.rate_limit.window_ms ?? 1000 } : undefined,
    notFoundStatus: file.cview?.['not-found-status'] ?? 404,
    file,
  };
}

/**
 * The configuration in force as YAML, in the config file's own keys (`contextd config print`): every
 * default, the file, the environment and the flags applied; secrets masked (password hashes, passwords
 * in URLs).
 */
export function printConfig(config: Config): string {
  return yaml().stringify(effectiveConfig(config));
}

function effectiveConfig(config: Config): Record<string, unknown> {
  const file = config.file;
  const maskUrl = (url: string) => withoutPassword(url) ?? url;
  return {
    port: config.port,
    host: config.host,
    database_url: config.database.kind === 'sqlite' ? config.database.path : maskUrl(config.database.url),
    durability: config.durability,
    log_level: config.logLevel,
    log_format: config.logFormat,
    pool_size: config.poolSize,
    pg_connect_timeout_ms: config.pgTimeouts.connectMs,
    pg_query_timeout_ms: config.pgTimeouts.queryMs,
    limits: {
      body_bytes: config.limits.bodyBytes,
      json_depth: config.limits.jsonDepth,
      string_length: config.limits.stringLength,
      extensions_per_element: config.limits.extensionsPerElement,
      list_limit: config.limits.listLimit,
    },
    cview: {
      expiration: config.expiration,
      'data-validation': config.businessAttributes.dataValidation ?? false,
      'use-role': config.useRole,
      'auto-complete-enabled': config.autoComplete.enabled,
      ...(config.autoComplete.afterSeconds !== undefined ? { 'auto-complete-after': config.autoComplete.afterSeconds } : {}),
      'not-found-status': config.notFoundStatus,
    },
    idempotency: { retention: config.idempotencyRetention ?? '24h' },
    events: {
      retention: config.eventRetention ?? '7d',
      ...(config.nats ? { nats: { url: maskUrl(config.nats.url), stream: config.nats.stream, subject_prefix: config.nats.subjectPrefix } } : {}),
      webhooks: { timeout: file.events?.webhooks?.timeout ?? '10s', retry_for: file.events?.webhooks?.retry_for ?? '24h', concurrency: config.webhooks.concurrency },
    },
    cors: { write_origins: config.corsWriteOrigins },
    ...(config.rateLimit ? { rate_limit: { max: config.rateLimit.max, window_ms: config.rateLimit.windowMs } } : {}),
    tenants: config.tenants,
    users: config.users.map((user) => ({ ...user, password_hash: MASK })),
    'profile-attributes': config.profileAttributes,
    ...(file['business-attributes'] ? { 'business-attributes': file['business-attributes'] } : {}),
  };
}
