-- The births registered by month, for the indicators: the registration
-- revisions only, by time.
CREATE INDEX citizen_revision_births ON citizen_revision (at) WHERE action = 'register_birth';
