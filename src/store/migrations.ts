// Versioned migration files: `NNN_name.sql`, applied in order, each in its own transaction, recorded
// in schema_migrations. Files live in src/store/<kind>/migrations and ship with the package.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// src/store/migrations.ts and dist/store/migrations.js are both two levels below the package root.
const packageRoot = new URL('../../', import.meta.url);

export function loadMigrations(kind: 'sqlite' | 'postgres'): Migration[] {
  const dir = fileURLToPath(new URL(`src/store/${kind}/migrations/`, packageRoot));
  return readdirSync(dir)
    .filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(`${dir}/${file}`, 'utf8'),
    }));
}
