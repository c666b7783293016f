-- Privacy requests and purges leave a record: who, when, what, how many.
CREATE TABLE audit_log (
  audit_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,                     -- epoch ms
  actor       TEXT NOT NULL,                        -- the user (roles on) or "anonymous"
  action      TEXT NOT NULL,                        -- customer.erase | customer.export | services.purge
  subject     TEXT,                                 -- the customer_id, or the purge operation
  counts      TEXT NOT NULL                         -- JSON {"profile": n, "services": n, …}
);
