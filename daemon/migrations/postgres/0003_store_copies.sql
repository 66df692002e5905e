-- byokit on PostgreSQL, version 3: where `byokit store copy` has got to with each desktop store
-- it copies, so that a copy interrupted anywhere goes on from there, and a copy run twice copies
-- nothing twice.

CREATE TABLE byokit_store_copies (
  source text PRIMARY KEY,               -- the SQLite store's identity (its vault check value, hex)
  usage_copied_through bigint NOT NULL DEFAULT 0,   -- the store's last usage id copied
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE byokit_store_copies ENABLE ROW LEVEL SECURITY;
ALTER TABLE byokit_store_copies FORCE ROW LEVEL SECURITY;
CREATE POLICY byokit_service ON byokit_store_copies USING (byokit_service()) WITH CHECK (byokit_service());
GRANT SELECT, INSERT, UPDATE ON byokit_store_copies TO byokit_app;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON byokit_store_copies FROM authenticated;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON byokit_store_copies FROM anon;
  END IF;
END $$;

INSERT INTO byokit_migrations (version, name) VALUES (3, '0003_store_copies.sql');
