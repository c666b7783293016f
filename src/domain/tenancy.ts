// Multi-tenancy (spec README "Tenancy", reference §6.1): the ContactCenterId header names a configured
// tenant (by id or name) and the optional GroupId one of its groups. Data is partitioned by
// (tenant, group); a request without GroupId works in the tenant's own no-group partition. Without
// tenants in the config there is one partition and the headers are ignored.
import { createHash } from 'node:crypto';
import { DomainError } from './errors.js';

export interface Tenant {
  id: number;
  name: string;
  groups?: string[];
}

export interface Partition {
  /** '' in single-tenant mode; `<tenant id>` or `<tenant id>/<group>` otherwise */
  key: string;
  tenant?: Tenant;
  group?: string;
}

export const SINGLE_PARTITION: Partition = { key: '' };

export function tenantError(message: string): DomainError {
  return new DomainError('Tenant', `Invalid tenant specified : ${message}`);
}

function partitionOf(tenant: Tenant, group?: string): Partition {
  return { key: group === undefined ? String(tenant.id) : `${tenant.id}/${group}`, tenant, group };
}

/** Every partition a config allows: each tenant's no-group partition and one per group. */
export function partitionsOf(tenants: readonly Tenant[]): Partition[] {
  if (tenants.length === 0) return [SINGLE_PARTITION];
  return tenants.flatMap((tenant) => [partitionOf(tenant), ...(tenant.groups ?? []).map((group) => partitionOf(tenant, group))]);
}

/** Checks a config's tenants: ids and names unique, no name that is another tenant's id, groups unique within a tenant (case-insensitively). */
export function checkTenants(tenants: readonly Tenant[]): void {
  const ids = new Set(tenants.map((t) => String(t.id)));
  if (ids.size !== tenants.length) throw new Error('tenants: a tenant id appears twice');
  if (new Set(tenants.map((t) => t.name.toLowerCase())).size !== tenants.length) throw new Error('tenants: a tenant name appears twice');
  for (const tenant of tenants) {
    if (tenant.name !== String(tenant.id) && ids.has(tenant.name)) {
      throw new Error(`tenants: the name ${tenant.name} of tenant ${tenant.id} is another tenant's id; ContactCenterId could not tell them apart`);
    }
    const groups = tenant.groups ?? [];
    if (new Set(groups.map((g) => g.toLowerCase())).size !== groups.length) throw new Error(`tenants: tenant ${tenant.name} lists a group twice`);
  }
  checkPartitionTags(partitionsOf(tenants));
}

function single(value: string | string[] | undefined, header: string): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw tenantError(`HTTP header '${header}' is given more than once. Verify configuration and '${header}' HTTP header.`);
    value = value[0];
  }
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The partition a request works in, from its ContactCenterId and GroupId headers. Tenant names and
 * group names match case-insensitively; the partition uses the configured spelling.
 */
export function resolvePartition(tenants: readonly Tenant[], contactCenterId: string | string[] | undefined, groupId: string | string[] | undefined): Partition {
  if (tenants.length === 0) return SINGLE_PARTITION;
  const wanted = single(contactCenterId, 'ContactCenterId');
  if (wanted === undefined) throw tenantError("no tenant specified in multi-tenant environment. Verify configuration and 'ContactCenterId' HTTP header.");
  const lower = wanted.toLowerCase();
  const tenant = tenants.find((t) => String(t.id) === wanted) ?? tenants.find((t) => t.name.toLowerCase() === lower);
  if (!tenant) throw tenantError(`specified tenant in HTTP header 'ContactCenterId'='${wanted}' not configured. Verify configuration.`);
  const groupName = single(groupId, 'GroupId');
  if (groupName === undefined) return partitionOf(tenant);
  const group = (tenant.groups ?? []).find((g) => g === groupName) ?? (tenant.groups ?? []).find((g) => g.toLowerCase() === groupName.toLowerCase());
  if (group === undefined) {
    throw tenantError(`specified group in HTTP header 'GroupId'='${groupName}' not configured for tenant '${tenant.name}'. Verify configuration.`);
  }
  return partitionOf(tenant, group);
}

/** `tenant Acme` or `group Sales of tenant Acme`, for messages. */
export function describePartition(partition: Partition): string {
  if (!partition.tenant) return 'the single partition';
  return partition.group === undefined ? `tenant ${partition.tenant.name}` : `group ${partition.group} of tenant ${partition.tenant.name}`;
}

/**
 * Service ids name one service in the whole deployment: a tenant partition's ids carry the
 * partition's tag in bits 33–52 (`tag << 33` + a counter of 33 bits, 8.6 × 10^9 services per
 * partition). A request in another partition can then never reach the service, whatever id it sends.
 * Every id stays below 2^53, so JavaScript clients that read ids as numbers keep them exact. The
 * single partition has tag 0, so single-tenant ids are unchanged.
 */
export const PARTITION_ID_BITS = 33n;
const TAG_BITS = 20;

/** The partition's tag: 20 bits of a digest of its key, never 0 (that is the single partition's). */
export function partitionTag(partition: Partition): bigint {
  if (partition.key === '') return 0n;
  const tag = createHash('sha256').update(partition.key).digest().readUInt32BE(0) >>> (32 - TAG_BITS);
  return BigInt(tag === 0 ? 1 : tag);
}

/** The first id of the partition's range (ids below it belong to no partition but the single one). */
export function partitionIdBase(partition: Partition): bigint {
  return partitionTag(partition) << PARTITION_ID_BITS;
}

/** Whether a service id belongs to the partition (the single partition takes every id); the tag is computed once. */
export function serviceIdsOf(partition: Partition): (serviceId: bigint) => boolean {
  if (partition.key === '') return () => true;
  const tag = partitionTag(partition);
  return (serviceId) => serviceId >> PARTITION_ID_BITS === tag;
}

/** Two configured partitions whose tags collide could read each other's ids: refused at start-up. */
export function checkPartitionTags(partitions: readonly Partition[]): void {
  const seen = new Map<bigint, Partition>();
  for (const partition of partitions) {
    const tag = partitionTag(partition);
    const other = seen.get(tag);
    if (other) throw new Error(`tenants: ${describePartition(other)} and ${describePartition(partition)} share an id range (tag ${tag}); rename a group`);
    seen.set(tag, partition);
  }
}
