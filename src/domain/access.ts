// Role-based access (cview/use-role): HTTP Basic credentials checked against the config's users,
// whose passwords are stored as scrypt hashes; Administrator reads and writes, Supervisor reads.
import { createHash, randomBytes, scrypt as scryptCallback, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

import type { Partition, Tenant } from './tenancy.js';

export type Role = 'Administrator' | 'Supervisor';

export interface User {
  name: string;
  password_hash: string;
  roles: Role[];
  /** multi-tenant mode: the tenants (and groups) this user may use; required there */
  tenants?: TenantGrant[];
}

// scrypt parameters for new hashes: N=2^15, r=8, p=1 (about 32 MiB and tens of ms per check)
const SCRYPT = { N: 32768, r: 8, p: 1 };
const maxmem = (o: { N: number; r: number }) => 128 * o.N * o.r * 2;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { ...SCRYPT, maxmem: maxmem(SCRYPT) });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export function parsePasswordHash(text: string): ParsedHash | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  const parsed = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]), salt: Buffer.from(m[4], 'base64'), hash: Buffer.from(m[5], 'base64') };
  if (parsed.N < 2 || (parsed.N & (parsed.N - 1)) !== 0 || parsed.hash.length < 16) return undefined;
  return parsed;
}

function scrypt(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Compares in constant time; an unknown user costs the same as a wrong password. */
export async function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  const key = await scrypt(password, stored.salt, stored.hash.length, { N: stored.N, r: stored.r, p: stored.p, maxmem: maxmem(stored) });
  return timingSafeEqual(key, stored.hash);
}

export const DUMMY_HASH = parsePasswordHash(`scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`)!;

export function parseBasicAuthorization(header: string | undefined): { name: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The role a request needs: a route's own rule, else Supervisor (or Administrator) to read and Administrator to write. */
export function requiredRole(method: string, routeRequires: Role | undefined): Role {
  return routeRequires ?? (method === 'GET' || method === 'HEAD' ? 'Supervisor' : 'Administrator');
}

/** Administrator may do everything a Supervisor may. */
export function allows(roles: readonly Role[], required: Role): boolean {
  return roles.includes('Administrator') || (required === 'Supervisor' && roles.includes('Supervisor'));
}

/** A digest of the presented credentials, for the verified-credentials cache (never the password itself). */
export function credentialDigest(header: string): string {
  return createHash('sha256').update(header).digest('base64');
}

/**
 * The tenants a user may work in (multi-tenant mode): `"*"` for every tenant; a tenant's id or name for
 * that tenant with all its groups; `{ tenant, groups }` for only those groups of it (not its no-group partition).
 */
export type TenantGrant = string | number | { tenant: string | number; groups: string[] };

/** Which partitions a user's grants allow; throws (naming the grant) when one names no configured tenant or group. */
export function grantedPartitions(grants: readonly TenantGrant[], tenants: readonly Tenant[]): (partition: Partition) => boolean {
  if (grants.includes('*')) return () => true;
  const whole = new Set<number>();
  const groups = new Set<string>();
  for (const grant of grants) {
    const name = typeof grant === 'object' ? grant.tenant : grant;
    const tenant = tenants.find((t) => String(t.id) === String(name)) ?? tenants.find((t) => t.name.toLowerCase() === String(name).toLowerCase());
    if (!tenant) throw new Error(`tenant ${JSON.stringify(name)} is not one of tenants`);
    if (typeof grant !== 'object') {
      whole.add(tenant.id);
      continue;
    }
    for (const group of grant.groups) {
      const configured = (tenant.groups ?? []).find((g) => g.toLowerCase() === group.toLowerCase());
      if (configured === undefined) throw new Error(`group ${JSON.stringify(group)} is not a group of tenant ${tenant.name}`);
      groups.add(`${tenant.id}/${configured}`);
    }
  }
  return (partition) => partition.tenant !== undefined && (whole.has(partition.tenant.id) || groups.has(partition.key));
}
