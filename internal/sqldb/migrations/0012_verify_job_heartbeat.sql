-- A running batch job shows it is alive with every chunk it finishes; a
-- job with no sign of life for a while was interrupted (the service
-- stopped) and is marked failed, so that its agency submits it again.
ALTER TABLE verify_job ADD COLUMN heartbeat_at TIMESTAMPTZ;
