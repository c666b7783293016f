// The business-attribute catalog (from the config file; the seed's ten state types built in as
// StateType), the `<Entity>.<field>` mapping, validation of mapped fields (`data-validation`) and
// value names in responses (`map-names`).
import { invalid, notFound } from './errors.js';
import { showValue, type LongOrString } from './fields.js';
import type { ElementEnd, EventData, ServiceAssociation, ServiceStart, StateStart, TaskStart } from './records.js';

export interface BusinessAttributeValue {
  name: string;
  dbid?: number;
  display_name?: string;
  description?: string;
  settings?: Record<string, unknown>;
}

export interface BusinessAttribute {
  name: string;
  dbid?: number;
  display_name?: string;
  description?: string;
  values?: BusinessAttributeValue[];
}

export interface CatalogSection {
  mapping?: Record<string, string>;
  attributes?: BusinessAttribute[];
}

export interface CatalogConfig extends CatalogSection {
  mapNames?: boolean;
  dataValidation?: boolean;
  /** per-tenant sections (`business-attributes.tenants.<tenant name or id>`) */
  tenants?: Record<string, CatalogSection>;
}

/** A `business-attributes.tenants` key names this tenant: its id, or its name in any case. */
export function namesTenant(key: string, tenant: { id: number; name: string }): boolean {
  return key === String(tenant.id) || key.toLowerCase() === tenant.name.toLowerCase();
}

/** The tenant's section of `tenants`, keyed by its name (case-insensitively) or its id. */
export function tenantSection(config: CatalogConfig, tenant: { id: number; name: string }): CatalogSection | undefined {
  const entries = Object.entries(config.tenants ?? {});
  return entries.find(([key]) => key === String(tenant.id))?.[1] ?? entries.find(([key]) => key.toLowerCase() === tenant.name.toLowerCase())?.[1];
}

/**
 * A tenant's catalog config: the global section overlaid by the tenant's — its mapping keys replace
 * the global ones, its attributes replace global attributes of the same name and add the others.
 */
export function catalogConfigFor(config: CatalogConfig, tenant?: { id: number; name: string }): CatalogConfig {
  const { tenants: _sections, ...global } = config;
  const section = tenant ? tenantSection(config, tenant) : undefined;
  if (!section) return global;
  const own = section.attributes ?? [];
  const ownNames = new Set(own.map((a) => a.name.toLowerCase()));
  return {
    ...global,
    mapping: { ...(global.mapping ?? {}), ...(section.mapping ?? {}) },
    attributes: [...(global.attributes ?? []).filter((a) => !ownNames.has(a.name.toLowerCase())), ...own],
  };
}

export const STATE_TYPES: BusinessAttribute = {
  name: 'StateType',
  // the schema marks an attribute's dbid mandatory; 100 is outside the built-in values' 1–10
  dbid: 100,
  display_name: 'State Type',
  values: [
    'Customer identification',
    'Service identification',
    'Assign service agent',
    'Waiting for service agent',
    'Offering another service while waiting for agent',
    'Offering callback',
    'Callback pending',
    'Delivering service',
    'Waiting for customer input',
    'Offering another service while delivering service',
  ].map((name, i) => ({ name, dbid: i + 1, display_name: name })),
};

export type MappedEntity = 'Service' | 'State' | 'Task';
/** `<Entity>.<field>` keys: `type` is the entity's own type field. */
export const MAPPABLE_FIELDS = ['type', 'disposition', 'application_type', 'resource_type', 'media_type'] as const;
type MappableField = (typeof MAPPABLE_FIELDS)[number];
const EVENT_FIELDS = ['application_type', 'resource_type', 'media_type'] as const;

export class BusinessAttributeCatalog {
  readonly attributes: BusinessAttribute[];
  readonly mapping: ReadonlyMap<string, BusinessAttribute>;
  readonly mapNames: boolean;
  readonly dataValidation: boolean;

  /** `config`: kept as given, so an import worker can build the same catalog */
  constructor(readonly config: CatalogConfig = {}) {
    const attributes = [...(config.attributes ?? [])];
    if (!attributes.some((a) => a.name.toLowerCase() === 'statetype')) attributes.push(STATE_TYPES);
    this.attributes = attributes;
    const mapping = new Map<string, BusinessAttribute>();
    const entries = Object.entries({ 'State.type': 'StateType', ...(config.mapping ?? {}) });
    for (const [key, attributeName] of entries) {
      const [entity, field] = key.split('.');
      if (!['Service', 'State', 'Task'].includes(entity) || !MAPPABLE_FIELDS.includes(field as MappableField)) {
        throw new Error(`business-attributes.mapping: ${key} is not <Service|State|Task>.<${MAPPABLE_FIELDS.join('|')}>`);
      }
      const attribute = this.find(attributeName);
      if (!attribute) throw new Error(`business-attributes.mapping: ${key} names ${attributeName}, which is not in business-attributes.attributes`);
      mapping.set(key, attribute);
    }
    this.mapping = mapping;
    this.mapNames = config.mapNames ?? false;
    this.dataValidation = config.dataValidation ?? false;
  }

  find(name: string): BusinessAttribute | undefined {
    return this.attributes.find((a) => a.name.toLowerCase() === name.toLowerCase());
  }

  get(name: string): BusinessAttribute {
    const attribute = this.find(name);
    if (!attribute) throw notFound('business attribute', name);
    return attribute;
  }

  byCvAttribute(cvAttribute: string): BusinessAttribute {
    const attribute = this.mapping.get(cvAttribute);
    if (!attribute) throw notFound('business attribute', cvAttribute);
    return attribute;
  }

  present(attribute: BusinessAttribute): Record<string, unknown> {
    const cv = [...this.mapping].filter(([, a]) => a === attribute).map(([key]) => key);
    return {
      name: attribute.name,
      ...(attribute.dbid !== undefined ? { dbid: attribute.dbid } : {}),
      display_name: attribute.display_name ?? attribute.name,
      description: attribute.description ?? '',
      map_name: this.mapNames,
      cv_attributes: cv,
      values: (attribute.values ?? []).map((v) => ({
        name: v.name,
        ...(v.dbid !== undefined ? { dbid: v.dbid } : {}),
        display_name: v.display_name ?? v.name,
        description: v.description ?? '',
      })),
    };
  }

  private valueOf(attribute: BusinessAttribute, value: LongOrString): BusinessAttributeValue | undefined {
    return attribute.values?.find((v) => (typeof value === 'string' ? v.name === value : v.dbid !== undefined && BigInt(v.dbid) === BigInt(value)));
  }

  /** With data-validation on, a mapped field must hold a value's dbid or name. */
  check(entity: MappedEntity, field: MappableField, label: string, value: LongOrString | undefined): void {
    if (!this.dataValidation || value === undefined) return;
    const attribute = this.mapping.get(`${entity}.${field}`);
    if (!attribute || this.valueOf(attribute, value)) return;
    const known = (attribute.values ?? []).map((v) => (v.dbid !== undefined ? `${v.dbid} (${v.name})` : v.name)).join(', ');
    throw invalid(`${label} ${showValue(value)} is not a value of business attribute ${attribute.name}; known values: ${known}`);
  }

  private checkEvent(entity: MappedEntity, event: Partial<EventData>): void {
    for (const field of EVENT_FIELDS) this.check(entity, field, field, event[field]);
  }

  checkServiceStart(start: ServiceStart): void {
    this.check('Service', 'type', 'service_type', start.serviceType);
    this.check('Service', 'disposition', 'disposition', start.disposition);
    this.checkEvent('Service', start.started);
  }

  checkAssociation(association: ServiceAssociation): void {
    this.check('Service', 'type', 'service_type', association.serviceType);
    this.check('Service', 'disposition', 'disposition', association.disposition);
    this.checkEvent('Service', association.startedPatch);
  }

  checkEnd(entity: MappedEntity, end: ElementEnd): void {
    this.check(entity, 'disposition', 'disposition', end.disposition);
    this.checkEvent(entity, end.completed);
  }

  checkStateStart(start: StateStart): void {
    this.check('State', 'type', 'state_type', start.stateType);
    this.checkEvent('State', start.started);
  }

  checkTaskStart(start: TaskStart): void {
    this.check('Task', 'type', 'task_type', start.taskType);
    this.checkEvent('Task', start.started);
  }

  /** The `settings.expiration` of the service type's business-attribute value, if any. */
  expirationFor(serviceType: LongOrString | undefined): string | undefined {
    const attribute = this.mapping.get('Service.type');
    if (!attribute || serviceType === undefined) return undefined;
    const value = this.valueOf(attribute, serviceType);
    const expiration = value?.settings?.expiration;
    return typeof expiration === 'string' ? expiration : undefined;
  }

  /**
   * A `service_types` / `state_types` / `task_types` filter (or another mapped field's, e.g. the
   * search's `dispositions`): with the field mapped, each given value
   * also matches the other spelling of the same business-attribute value (its dbid for a name, its
   * name for a dbid), since elements may be stored with either.
   */
  typeFilter(entity: MappedEntity, values: string[], field: MappableField = 'type'): string[] {
    const attribute = this.mapping.get(`${entity}.${field}`);
    if (!attribute || values.length === 0) return values;
    const keys = new Set(values);
    for (const text of values) {
      const value = attribute.values?.find((v) => v.name === text || (v.dbid !== undefined && String(v.dbid) === text));
      if (!value) continue;
      keys.add(value.name);
      if (value.dbid !== undefined) keys.add(String(value.dbid));
    }
    return [...keys];
  }

  /** With map-names on, a stored dbid of a mapped field is shown as its value's name. */
  display(entity: MappedEntity, field: MappableField, value: LongOrString | undefined): LongOrString | undefined {
    if (!this.mapNames || value === undefined || typeof value === 'string') return value;
    const attribute = this.mapping.get(`${entity}.${field}`);
    return (attribute && this.valueOf(attribute, value)?.name) ?? value;
  }

  displayEvent(entity: MappedEntity, event: EventData): EventData {
    if (!this.mapNames) return event;
    const shown = { ...event };
    for (const field of EVENT_FIELDS) if (shown[field] !== undefined) shown[field] = this.display(entity, field, shown[field]);
    return shown;
  }
}
