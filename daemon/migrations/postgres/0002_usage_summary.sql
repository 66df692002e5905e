-- byokit on PostgreSQL, version 2: get_user_usage_summary(user_id, days), the spec's summary
-- function, giving the figures byokd's usage.summary gives (tested equal): totals, and the same
-- totals by provider, payer, feature and provider/model, costs as exact decimal strings.
--
-- It runs as its caller (SECURITY INVOKER), so row-level security holds: a Supabase user asking
-- for another user's summary gets zeros. Whole days come from usage_daily, the window's two edge
-- days from api_usage_logs, so that it reads days, not events.

CREATE OR REPLACE FUNCTION get_user_usage_summary(
  p_user_id text,
  p_days integer DEFAULT 30,
  p_end timestamptz DEFAULT now()
) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER AS $$
WITH w AS (
  SELECT p_end AS end_at,
         p_end - make_interval(days => p_days) AS start_at,
         (p_end AT TIME ZONE 'UTC')::date AS end_day,
         ((p_end - make_interval(days => p_days)) AT TIME ZONE 'UTC')::date AS start_day
),
parts AS (
  SELECT d.provider, d.payer, d.feature, d.model, d.requests, d.input_tokens, d.output_tokens,
         d.total_tokens, d.cost_usd, d.unpriced_requests, d.estimated_requests
  FROM usage_daily d, w
  WHERE d.clerk_id = p_user_id AND d.day > w.start_day AND d.day < w.end_day
  UNION ALL
  SELECT l.provider, l.payer, l.feature, l.model, 1, l.input_tokens, l.output_tokens,
         l.total_tokens,
         CASE WHEN l.cost_status <> 'unpriced' THEN COALESCE(l.estimated_cost_usd, 0) ELSE 0 END,
         CASE WHEN l.cost_status = 'unpriced' OR l.estimated_cost_usd IS NULL THEN 1 ELSE 0 END,
         CASE WHEN l.cost_status = 'estimated' AND l.estimated_cost_usd IS NOT NULL THEN 1 ELSE 0 END
  FROM api_usage_logs l, w
  WHERE l.clerk_id = p_user_id AND l.created_at > w.start_at AND l.created_at <= w.end_at
    AND (l.created_at AT TIME ZONE 'UTC')::date IN (w.start_day, w.end_day)
),
g AS (
  SELECT provider, payer, feature, provider || '/' || model AS provider_model,
         GROUPING(provider, payer, feature, provider || '/' || model) AS grouping_set,
         jsonb_build_object(
           'requests', COALESCE(SUM(requests), 0),
           'input_tokens', COALESCE(SUM(input_tokens), 0),
           'output_tokens', COALESCE(SUM(output_tokens), 0),
           'total_tokens', COALESCE(SUM(total_tokens), 0),
           'cost_usd', trim_scale(COALESCE(SUM(cost_usd), 0))::text,
           'unpriced_requests', COALESCE(SUM(unpriced_requests), 0),
           'estimated_requests', COALESCE(SUM(estimated_requests), 0)
         ) AS totals
  FROM parts
  GROUP BY GROUPING SETS ((), (provider), (payer), (feature), (provider || '/' || model))
)
SELECT jsonb_build_object(
  'user_id', p_user_id,
  'days', p_days,
  'end', p_end,
  'totals', (SELECT totals FROM g WHERE grouping_set = 15),
  'by_provider', COALESCE((SELECT jsonb_object_agg(provider, totals) FROM g WHERE grouping_set = 7), '{}'::jsonb),
  'by_payer', COALESCE((SELECT jsonb_object_agg(payer, totals) FROM g WHERE grouping_set = 11), '{}'::jsonb),
  'by_feature', COALESCE((SELECT jsonb_object_agg(feature, totals) FROM g WHERE grouping_set = 13), '{}'::jsonb),
  'by_model', COALESCE((SELECT jsonb_object_agg(provider_model, totals) FROM g WHERE grouping_set = 14), '{}'::jsonb)
)
$$;

GRANT EXECUTE ON FUNCTION get_user_usage_summary(text, integer, timestamptz) TO byokit_app;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    GRANT EXECUTE ON FUNCTION get_user_usage_summary(text, integer, timestamptz) TO authenticated;
  END IF;
END $$;

INSERT INTO byokit_migrations (version, name) VALUES (2, '0002_usage_summary.sql');
