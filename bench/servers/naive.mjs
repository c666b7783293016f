// The naive store: the bare server doing one better-sqlite3 statement per request (WAL,
// synchronous=FULL, one fsync per write). Seeded with the same number of services as contextd.
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const port = Number(process.env.PORT);
const db = new Database(process.env.DB_PATH);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS services (id INTEGER PRIMARY KEY, customer_id TEXT, completed INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS by_customer ON services (customer_id, completed, id);`);
const seed = Number(process.env.SEED_SERVICES ?? 0);
const customers = Number(process.env.SEED_CUSTOMERS ?? 1);
if (seed > 0) {
  db.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
     INSERT INTO services (id, customer_id, completed, body)
     SELECT i, 'c' || (i % ?), CASE WHEN i % 10 < 2 THEN 0 ELSE 1 END,
            '{"customer_id":"c' || (i % ?) || '","service_type":"A","started":{"timestamp":"2024-01-01T00:00:00.000Z"}}' FROM s`,
  ).run(seed, customers, customers);
}
const insert = db.prepare('INSERT INTO services (customer_id, body) VALUES (?, ?) RETURNING id');
const end = db.prepare('UPDATE services SET completed = 1 WHERE id = ?');
const byId = db.prepare('SELECT body FROM services WHERE id = ?');
const active = db.prepare('SELECT body FROM services WHERE customer_id = ? AND completed = 0 ORDER BY id');

createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const parts = req.url.split('?')[0].split('/');
    if (req.method === 'POST' && req.url.endsWith('/start')) {
      const event = JSON.parse(body);
      const { id } = insert.get(event.customer_id ?? null, body);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(`{"service_id":${id}}`);
    } else if (req.method === 'POST') {
      end.run(Number(parts[5]));
      res.writeHead(204);
      res.end();
    } else if (parts[4] === 'customers') {
      const rows = active.all(decodeURIComponent(parts[5]));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`[${rows.map((r) => r.body).join(',')}]`);
    } else {
      const row = byId.get(Number(parts[5]));
      res.writeHead(row ? 200 : 404, { 'content-type': 'application/json' });
      res.end(row ? row.body : '{}');
    }
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
