// Loads services straight into a contextd store, in the store's own format, fast (set-based SQL,
// no HTTP): `count` services for `customers` customers, 20% active, ids 1..count, each with
// STATES_PER_SERVICE states (the last one of an active service still open). Used by the bench
// before the server starts.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface SeedPlan {
  services: number;
  customers: number;
}

export const STATES_PER_SERVICE = 5;

// state j of service i: started a minute after the one before, ended a minute later, except the
// last state of an active service (i % 10 < 2), which is still open
const STATE_COLUMNS = 'service_id, state_type, started_at, completed_at, in_active_service, doc';
const stateValues = (concat: (...parts: string[]) => string) => `i, 'S' || j, 1704067200000 + i + j * 60000,
            CASE WHEN i % 10 < 2 AND j = ${STATES_PER_SERVICE - 1} THEN NULL ELSE 1704067200000 + i + j * 60000 + 60000 END,
            i % 10 < 2,
            CASE WHEN i % 10 < 2 AND j = ${STATES_PER_SERVICE - 1}
              THEN ${concat(`'{"type":"S'`, `j`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z"}}'`)}
              ELSE ${concat(`'{"type":"S'`, `j`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z"},"completed":{"timestamp":"2024-01-01T00:01:00.000Z"}}'`)} END`;

const DOC_SQL = (concat: (...parts: string[]) => string) =>
  `CASE WHEN i % 10 < 2
     THEN ${concat(`'{"type":"T'`, `(i % 5)`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z","interaction_id":"IX'`, `i`, `'"}}'`)}
     ELSE ${concat(`'{"type":"T'`, `(i % 5)`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z","interaction_id":"IX'`, `i`, `'"},"completed":{"timestamp":"2024-01-01T00:05:00.000Z"}}'`)}
   END`;

export function seedSqlite(path: string, plan: SeedPlan): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const concat = (...parts: string[]) => parts.join(' || ');
  db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
     INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, completed_at, updated_at, expires_at, doc)
     SELECT i, 'c' || (i % ?), NULL, 'T' || (i % 5), 1704067200000 + i,
            CASE WHEN i % 10 < 2 THEN NULL ELSE 1704067500000 END, 1704067200000, 4102444800000, ${DOC_SQL(concat)} FROM s`,
  ).run(BigInt(plan.services), BigInt(plan.customers)); // as integers: a JS number binds as a REAL ("c7.0")
  db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?), k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < ${STATES_PER_SERVICE - 1})
     INSERT INTO states (${STATE_COLUMNS}) SELECT ${stateValues(concat)} FROM s, k ORDER BY i, j`,
  ).run(BigInt(plan.services));
  db.close();
}

export async function seedPostgres(url: string, plan: SeedPlan): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const concat = (...parts: string[]) => parts.map((p) => (p.startsWith("'") ? p : `(${p})::text`)).join(' || ');
  await client.query(
    `INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, completed_at, updated_at, expires_at, doc)
     SELECT i, 'c' || (i % $2), NULL, 'T' || (i % 5), 1704067200000 + i,
            CASE WHEN i % 10 < 2 THEN NULL ELSE 1704067500000 END, 1704067200000, 4102444800000, ${DOC_SQL(concat)}
     FROM generate_series(1, $1::bigint) AS i`,
    [plan.services, plan.customers],
  );
  await client.query(`SELECT setval(pg_get_serial_sequence('services', 'service_id'), $1)`, [plan.services]);
  await client.query(
    `INSERT INTO states (${STATE_COLUMNS}) SELECT ${stateValues(concat)} FROM generate_series(1, $1::bigint) AS i, generate_series(0, ${STATES_PER_SERVICE - 1}) AS j ORDER BY i, j`,
    [plan.services],
  );
  await client.query('ANALYZE services');
  await client.query('ANALYZE states');
  await client.end();
}
