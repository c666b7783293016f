-- The live board (GET /analytics/live, #17): active services by type and open states by type, each
-- with its count, its oldest and its median start, read from two partial indexes in start order.
-- A state left open when its service ended is nobody waiting: in_active_service turns false when the
-- service ends (a state started in an ended service starts false), and the state index leaves it out.
ALTER TABLE states ADD COLUMN in_active_service BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE states SET in_active_service = FALSE
  WHERE completed_at IS NULL AND service_id IN (SELECT service_id FROM services WHERE completed_at IS NOT NULL);
CREATE INDEX services_active_by_type ON services (service_type, started_at) WHERE completed_at IS NULL;
CREATE INDEX states_waiting_by_type ON states (state_type, started_at) WHERE completed_at IS NULL AND in_active_service;
