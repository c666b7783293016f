// Loads services straight into a contextd store, in the store's own format, fast (set-based SQL,
// no HTTP): `count` services for `customers` customers, 20% active, ids 1..count, each with
// STATES_PER_SERVICE states (the last one of an active service still open). Used by the bench
// before the server starts.
import Database from 'better-sqlite3';
import pg from 'pg';
import { durationBin } from '../src/domain/analytics.js';

export interface SeedPlan {
  services: number;
  customers: number;
}

export const STATES_PER_SERVICE = 5;

// state j of service i: started a minute after the one before, ended a minute later, except the
// last state of an active service (i % 10 < 2), which is still open
// (state starts spread over 30 days: 2.592 s apart per service, so the time-in-state rollups hold 720 hours)
const STATE_COLUMNS = 'service_id, state_type, started_at, completed_at, in_active_service, counted, doc';
const STATE_START = (i: string, j: string) => `1704067200000 + ${i} * 2592 + ${j} * 60000`;
const stateValues = (concat: (...parts: string[]) => string) => `i, 'S' || j, ${STATE_START('i', 'j')},
            CASE WHEN i % 10 < 2 AND j = ${STATES_PER_SERVICE - 1} THEN NULL ELSE ${STATE_START('i', 'j')} + 60000 END,
            i % 10 < 2, TRUE,
            CASE WHEN i % 10 < 2 AND j = ${STATES_PER_SERVICE - 1}
              THEN ${concat(`'{"type":"S'`, `j`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z"}}'`)}
              ELSE ${concat(`'{"type":"S'`, `j`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z"},"completed":{"timestamp":"2024-01-01T00:01:00.000Z"}}'`)} END`;

/**
 * A services extension schema `Order` whose `order_id` is searchable, and each service's indexed
 * value (order i for service i) — the search index only: the seed leaves the extension rows out,
 * since the search reads the index and the bench asks for no nested extensions.
 */
const ORDER_SCHEMA = `INSERT INTO extension_schemas (entity, name_key, definition) VALUES ('services', 'order', '{"name":"Order","type":"single-valued","attributes":[{"name":"order_id","type":"long","mandatory":false,"searchable":true}],"unique":[]}')`;
const ORDER_VALUES = `INSERT INTO extension_values (service_id, owner_kind, owner_id, name_key, attribute, text_value, number_value)
  SELECT service_id, 'service', service_id, 'order', 'order_id', NULL, service_id FROM services`;

/** The time-in-state rollups of the seeded states (every completed one lasted a minute: one bin). */
const ROLLUP_SQL = [
  `INSERT INTO state_hours (hour, state_type, service_type, media_type, started, completed, removed, duration_sum, duration_max)
   SELECT s.started_at / 3600000, s.state_type, v.service_type, '', COUNT(*), COUNT(s.completed_at), 0,
          COALESCE(SUM(s.completed_at - s.started_at), 0), COALESCE(MAX(s.completed_at - s.started_at), 0)
   FROM states s JOIN services v ON v.service_id = s.service_id GROUP BY s.started_at / 3600000, s.state_type, v.service_type`,
  `INSERT INTO state_hour_bins (hour, state_type, service_type, media_type, bin, n)
   SELECT s.started_at / 3600000, s.state_type, v.service_type, '', ${durationBin(60_000)}, COUNT(*)
   FROM states s JOIN services v ON v.service_id = s.service_id WHERE s.completed_at IS NOT NULL GROUP BY s.started_at / 3600000, s.state_type, v.service_type`,
];

const DOC_SQL = (concat: (...parts: string[]) => string) =>
  `CASE WHEN i % 10 < 2
     THEN ${concat(`'{"type":"T'`, `(i % 5)`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z","interaction_id":"IX'`, `i`, `'"}}'`)}
     ELSE ${concat(`'{"type":"T'`, `(i % 5)`, `'","started":{"timestamp":"2024-01-01T00:00:00.000Z","interaction_id":"IX'`, `i`, `'"},"completed":{"timestamp":"2024-01-01T00:05:00.000Z"}}'`)}
   END`;

export function seedSqlite(path: string, plan: SeedPlan): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const concat = (...parts: string[]) => parts.join(' || ');
  // each service last written on 2024-01-01, expiring 5 years (the default lifetime) after it
  db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
     INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, completed_at, updated_at, expires_at, doc)
     SELECT i, 'c' || (i % ?), NULL, 'T' || (i % 5), 1704067200000 + i,
            CASE WHEN i % 10 < 2 THEN NULL ELSE 1704067500000 END, 1704067200000, 1861747200000, ${DOC_SQL(concat)} FROM s`,
  ).run(BigInt(plan.services), BigInt(plan.customers)); // as integers: a JS number binds as a REAL ("c7.0")
  db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?), k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < ${STATES_PER_SERVICE - 1})
     INSERT INTO states (${STATE_COLUMNS}) SELECT ${stateValues(concat)} FROM s, k ORDER BY i, j`,
  ).run(BigInt(plan.services));
  for (const sql of [...ROLLUP_SQL, ORDER_SCHEMA, ORDER_VALUES]) db.prepare(sql).run();
  db.close();
}

export async function seedPostgres(url: string, plan: SeedPlan): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const concat = (...parts: string[]) => parts.map((p) => (p.startsWith("'") ? p : `(${p})::text`)).join(' || ');
  await client.query(
    `INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, completed_at, updated_at, expires_at, doc)
     SELECT i, 'c' || (i % $2), NULL, 'T' || (i % 5), 1704067200000 + i,
            CASE WHEN i % 10 < 2 THEN NULL ELSE 1704067500000 END, 1704067200000, 1861747200000, ${DOC_SQL(concat)}
     FROM generate_series(1, $1::bigint) AS i`,
    [plan.services, plan.customers],
  );
  await client.query(`SELECT setval(pg_get_serial_sequence('services', 'service_id'), $1)`, [plan.services]);
  await client.query(
    `INSERT INTO states (${STATE_COLUMNS}) SELECT ${stateValues(concat)} FROM generate_series(1, $1::bigint) AS i, generate_series(0, ${STATES_PER_SERVICE - 1}) AS j ORDER BY i, j`,
    [plan.services],
  );
  for (const sql of [...ROLLUP_SQL, ORDER_SCHEMA, ORDER_VALUES]) await client.query(sql);
  // as a database that has been running is: vacuumed (index-only scans need the visibility map) and analyzed
  await client.query('VACUUM ANALYZE services');
  await client.query('VACUUM ANALYZE states');
  await client.query('VACUUM ANALYZE extension_values');
  await client.end();
}
