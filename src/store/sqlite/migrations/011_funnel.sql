-- The funnel (GET /analytics/funnel, #17) walks the services of one type started in a window, in start
-- order, with their states (states_by_service).
CREATE INDEX services_by_type ON services (service_type, started_at, service_id);
