-- A person's cards, every status, newest first: the citizen record in the
-- console lists them (card_one_active covers only the active one).
CREATE INDEX card_by_person ON card (pid, issued_on);
-- The card of an application, for the work queues of card production and
-- delivery.
CREATE INDEX card_by_application ON card (application_id);
