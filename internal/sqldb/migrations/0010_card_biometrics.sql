-- The face image and fingerprints taken with a card application, and the
-- face data group (DG2) of the card produced from it. Fingerprint templates
-- are sealed with the data key, bound to their application and finger.
ALTER TABLE card_application ADD COLUMN photo BYTEA;
ALTER TABLE card_application ADD COLUMN fingerprints BYTEA;
ALTER TABLE card ADD COLUMN dg2 BYTEA;
