-- Relays carry the outbox out of contextd (NATS JetStream; webhooks later), each from its own
-- position. One node at a time holds a relay's lease and moves its position once what it sent was
-- acknowledged (src/store/sql/relays.ts).
CREATE TABLE event_relays (
  relay       TEXT PRIMARY KEY,                     -- e.g. nats
  last_id     INTEGER NOT NULL,                      -- the last event the relay delivered
  holder      TEXT,                                 -- the node holding the lease
  held_until  INTEGER NOT NULL                       -- epoch ms: the lease lapses then unless renewed
);
