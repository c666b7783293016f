// Versioned migration files: `NNN_name.sql`, applied in order, each in its own transaction, recorded
// in schema_migrations. Files live in src/store/<kind>/migrations and ship with the package.
import { readdirSync, readFileSync } from 'node:fs';
import { packagePath } from '../package-root.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(kind: 'sqlite' | 'postgres'): Migration[] {
  const dir = packagePath(`src/store/${kind}/migrations/`);
  return readdirSync(dir)
    .filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(`${dir}/${file}`, 'utf8'),
    }));
}

const versions = new Map<string, number[]>();

/** The versions of the migrations shipped for `kind`, read once. */
export function migrationVersions(kind: 'sqlite' | 'postgres'): number[] {
  let known = versions.get(kind);
  if (!known) versions.set(kind, (known = loadMigrations(kind).map((m) => m.version)));
  return known;
}
