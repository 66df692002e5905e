-- byokit on PostgreSQL, version 1: the spec's tables with byokit's columns, daily totals, budgets,
-- alerts, routing settings, bearer tokens, system-key holds; row-level security on every table,
-- forced, so that every statement sees one user's rows only.
--
-- byokd applies this file at start, in one transaction; a team can apply it with its own tools
-- instead (psql -1 -f, `supabase migration up`): the file records itself in byokit_migrations,
-- where byokd finds it applied.
--
-- Who is the user. byokd names the user of each transaction with
--   SELECT set_config('byokit.user', '<user>', true)      -- local to the transaction
-- and Supabase's API names it in request.jwt.claims (what auth.uid() reads), so that a Supabase
-- project's signed-in users can read their own rows with the Supabase client as well. Only byokd
-- writes: the write policies accept byokit.user alone, so a signed-in user cannot delete their
-- usage to get more of the system key's quota.

CREATE OR REPLACE FUNCTION byokit_user() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(
    NULLIF(current_setting('byokit.user', true), ''),
    NULLIF(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub',
    NULLIF(current_setting('request.jwt.claim.sub', true), '')
  )
$$;

CREATE OR REPLACE FUNCTION byokit_writer() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('byokit.user', true), '')
$$;

-- The SHA-256 of the bearer token a request came with (hex), set by byokd to find its user:
-- whoever knows a token's hash may read that token's row, and nothing else.
CREATE OR REPLACE FUNCTION byokit_token_hash() RETURNS bytea
LANGUAGE sql STABLE AS $$
  SELECT decode(NULLIF(current_setting('byokit.token_hash', true), ''), 'hex')
$$;

-- byokd's own rows (the vault's check value, the applied migrations), read and written in a
-- transaction that says so.
CREATE OR REPLACE FUNCTION byokit_service() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT current_setting('byokit.scope', true) IS NOT DISTINCT FROM 'service'
$$;

CREATE TABLE byokit_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_api_configs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  clerk_id text NOT NULL,
  key_id text NOT NULL UNIQUE,
  provider text NOT NULL,
  api_key bytea NOT NULL,                -- XChaCha20-Poly1305: nonce then ciphertext
  api_key_masked text NOT NULL,
  base_url text,
  model text,
  is_active boolean NOT NULL DEFAULT false,
  sealed_version integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_api_configs_user ON user_api_configs (clerk_id, provider);

-- Ids are given out by byokd in blocks of 1,000 (nextval gives a block's first id), so that a
-- call's reply can name its record before the record's commit.
CREATE SEQUENCE api_usage_logs_id_blocks INCREMENT BY 1000 START WITH 1;

CREATE TABLE api_usage_logs (
  id bigint PRIMARY KEY,
  clerk_id text NOT NULL,
  provider text NOT NULL,
  model text NOT NULL,
  feature text NOT NULL DEFAULT '',
  payer text NOT NULL CHECK (payer IN ('user', 'system')),
  prompt_tokens bigint NOT NULL CHECK (prompt_tokens >= 0),   -- the provider's counts, as reported
  completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
  cached_input_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_input_tokens >= 0),
  cache_write_tokens bigint NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
  reasoning_tokens bigint NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0),
  input_tokens bigint NOT NULL CHECK (input_tokens >= 0),     -- input side as byokit bills it
  output_tokens bigint NOT NULL CHECK (output_tokens >= 0),   -- output side, reasoning included
  total_tokens bigint NOT NULL CHECK (total_tokens >= 0),     -- input_tokens + output_tokens
  usage_estimated boolean NOT NULL DEFAULT false,
  estimated_cost_usd numeric,            -- exact; NULL when unpriced; never floating point
  cost_status text NOT NULL CHECK (cost_status IN ('exact', 'estimated', 'unpriced')),
  catalog_version text NOT NULL,
  idempotency_key text,
  latency_ms bigint,
  outcome text NOT NULL DEFAULT 'ok',
  created_at timestamptz NOT NULL,
  UNIQUE (clerk_id, idempotency_key)
);
CREATE INDEX api_usage_logs_user_time ON api_usage_logs (clerk_id, created_at);

-- Daily totals per (user, UTC day, provider, payer, feature, model), kept in the transaction of
-- every record, so that a summary reads days, not events, however long the logs grow.
CREATE TABLE usage_daily (
  clerk_id text NOT NULL,
  day date NOT NULL,
  provider text NOT NULL,
  payer text NOT NULL,
  feature text NOT NULL,
  model text NOT NULL,
  requests bigint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  total_tokens bigint NOT NULL,
  cost_usd numeric NOT NULL,             -- exact sum of the priced calls
  unpriced_requests bigint NOT NULL,
  estimated_requests bigint NOT NULL,
  PRIMARY KEY (clerk_id, day, provider, payer, feature, model)
);

CREATE TABLE budgets (
  clerk_id text PRIMARY KEY,
  monthly_limit_usd numeric NOT NULL,
  policy text NOT NULL CHECK (policy IN ('block', 'allow_and_alert')),
  alert_thresholds smallint[] NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  clerk_id text NOT NULL,
  month text NOT NULL,                   -- YYYY-MM
  threshold_percent smallint NOT NULL,
  spent_usd numeric NOT NULL,
  limit_usd numeric NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (clerk_id, month, threshold_percent)
);

CREATE TABLE routing_settings (
  clerk_id text PRIMARY KEY,
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE http_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  clerk_id text NOT NULL,
  name text NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  sealed bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (clerk_id, name)
);

CREATE TABLE usage_repriced (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  usage_id bigint NOT NULL REFERENCES api_usage_logs (id),
  clerk_id text NOT NULL,
  repriced_at timestamptz NOT NULL DEFAULT now(),
  from_cost_usd numeric,
  from_status text NOT NULL,
  from_catalog_version text NOT NULL,
  to_cost_usd numeric,
  to_status text NOT NULL,
  to_catalog_version text NOT NULL
);
CREATE INDEX usage_repriced_by_user ON usage_repriced (clerk_id, usage_id);

-- System-key tokens held by calls in flight, against the monthly cap, by every byokd sharing
-- the database. A hold past expires_at is removed by whichever byokd next holds for that user.
CREATE TABLE system_holds (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  clerk_id text NOT NULL,
  month text NOT NULL,                   -- YYYY-MM
  tokens bigint NOT NULL CHECK (tokens >= 0),
  expires_at timestamptz NOT NULL
);
CREATE INDEX system_holds_user ON system_holds (clerk_id, month);

-- The vault's check value: which master key sealed the stored keys. Never the key itself.
CREATE TABLE byokit_vault (
  id smallint PRIMARY KEY CHECK (id = 1),
  check_value bytea NOT NULL
);

-- Row-level security on every table, forced (the tables' owner is held to it too).
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['user_api_configs', 'api_usage_logs', 'usage_daily', 'budgets',
      'alerts', 'routing_settings', 'http_tokens', 'usage_repriced', 'system_holds'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY byokit_read ON %I FOR SELECT USING (clerk_id = byokit_user())', t);
    EXECUTE format('CREATE POLICY byokit_insert ON %I FOR INSERT WITH CHECK (clerk_id = byokit_writer())', t);
    EXECUTE format('CREATE POLICY byokit_update ON %I FOR UPDATE USING (clerk_id = byokit_writer()) WITH CHECK (clerk_id = byokit_writer())', t);
    EXECUTE format('CREATE POLICY byokit_delete ON %I FOR DELETE USING (clerk_id = byokit_writer())', t);
  END LOOP;
END $$;
ALTER TABLE byokit_vault ENABLE ROW LEVEL SECURITY;
ALTER TABLE byokit_vault FORCE ROW LEVEL SECURITY;
CREATE POLICY byokit_service ON byokit_vault USING (byokit_service()) WITH CHECK (byokit_service());
-- Which versions are applied is no secret; who may add one is a matter of grants (the owner).
ALTER TABLE byokit_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE byokit_migrations FORCE ROW LEVEL SECURITY;
CREATE POLICY byokit_read ON byokit_migrations FOR SELECT USING (true);
CREATE POLICY byokit_record ON byokit_migrations FOR INSERT WITH CHECK (true);
CREATE POLICY byokit_token_lookup ON http_tokens FOR SELECT USING (token_hash = byokit_token_hash());

-- The role byokd serves as: not the tables' owner, no BYPASSRLS. Operators grant it to byokd's
-- login role (GRANT byokit_app TO byokd).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'byokit_app') THEN
    CREATE ROLE byokit_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- made meanwhile by the migration of another database of the same server
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_api_configs, api_usage_logs, usage_daily, budgets,
  alerts, routing_settings, http_tokens, usage_repriced, system_holds, byokit_vault TO byokit_app;
GRANT SELECT ON byokit_migrations TO byokit_app;
GRANT USAGE ON SEQUENCE api_usage_logs_id_blocks TO byokit_app;

-- In a Supabase project, its signed-in users read their own rows (the policies above) and
-- never write; its anonymous role reads nothing.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON user_api_configs, api_usage_logs, usage_daily, budgets, alerts,
      routing_settings, http_tokens, usage_repriced, system_holds, byokit_vault,
      byokit_migrations FROM authenticated;
    GRANT SELECT ON api_usage_logs, usage_daily, budgets, alerts, routing_settings TO authenticated;
    GRANT SELECT (id, clerk_id, key_id, provider, api_key_masked, base_url, model, is_active,
      created_at, updated_at) ON user_api_configs TO authenticated;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON user_api_configs, api_usage_logs, usage_daily, budgets, alerts,
      routing_settings, http_tokens, usage_repriced, system_holds, byokit_vault,
      byokit_migrations FROM anon;
  END IF;
END $$;

INSERT INTO byokit_migrations (version, name) VALUES (1, '0001_tables.sql');
