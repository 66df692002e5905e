"""byokit's Python bindings on the shared fixtures: the same usage, errors and costs as in Rust.

Run by scripts/test-ffi.sh with the generated module and the library on PYTHONPATH, and the
fixtures folder in BYOKIT_FIXTURES.
"""

import csv
import datetime
import json
import os
import threading
import unittest
from decimal import Decimal
from pathlib import Path

import byokit_ffi as b

FIXTURES = Path(os.environ["BYOKIT_FIXTURES"])
CASES = json.loads((FIXTURES / "providers" / "expectations.json").read_text("utf-8"))["cases"]


def provider(name):
    return b.provider_from_name(name)


def body(case):
    return (FIXTURES / "providers" / case["file"]).read_bytes()


def usage_dict(u):
    return {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cached_input_tokens": u.cached_input_tokens,
        "cache_write_tokens": u.cache_write_tokens,
        "reasoning_tokens": u.reasoning_tokens,
    }


def enum_name(value):
    return None if value is None else value.name.lower()


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Fixtures(unittest.TestCase):
    def test_replies_streams_and_errors_read_as_in_rust(self):
        checked = 0
        for c in CASES:
            with self.subTest(provider=c["provider"], kind=c["kind"], file=c.get("file")):
                p = provider(c["provider"])
                want = c["expect"]
                if c["kind"] == "response":
                    r = b.usage_from_response(p, body(c))
                    self.assertEqual(usage_dict(r.usage), want["usage"])
                    self.assertEqual(r.text, want["text"])
                    self.assertEqual(r.model, want["model"])
                    self.assertEqual(enum_name(r.finish_reason), want["finish_reason"])
                elif c["kind"] == "stream":
                    data, s, deltas = body(c), b.StreamUsage(p), ""
                    try:
                        for i in range(0, len(data), 7):
                            deltas += "".join(s.push(data[i : i + 7]))
                        out = s.finish()
                    except b.ByokitError as e:
                        self.assertIn("error", want)
                        self.assertEqual(type(e).__name__.lower(), want["error"]["kind"].replace("_", ""))
                    else:
                        self.assertEqual(out.text, want["text"])
                        self.assertEqual(deltas, out.text)
                        if want["usage"] is None:
                            self.assertFalse(out.usage_reported)
                            self.assertTrue(out.usage.estimated)
                        else:
                            self.assertTrue(out.usage_reported)
                            self.assertEqual(usage_dict(out.usage), want["usage"])
                elif c["kind"] == "error":
                    e = b.classify_error(p, c["status"], c.get("headers", {}), body(c))
                    self.assertEqual(enum_name(e.kind), want["kind"])
                    if want["retry_after_seconds"] is None:
                        self.assertIsNone(e.retry_after_seconds)
                    else:
                        self.assertAlmostEqual(e.retry_after_seconds, want["retry_after_seconds"])
                    if want.get("message"):
                        self.assertEqual(e.message, want["message"])
                elif c["kind"] == "models":
                    now = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
                    args = (p, c["status"], c.get("headers", {}), body(c), now)
                    if want["outcome"] == "valid":
                        self.assertEqual(b.interpret_test_response(*args).models, want["models"])
                    else:
                        with self.assertRaises(b.ByokitError) as e:
                            b.interpret_test_response(*args)
                        self.assertEqual(type(e.exception).__name__.lower(), want["outcome"].replace("_", ""))
                        if want["outcome"] == "permission_denied":
                            self.assertEqual(e.exception.status, c["status"], "the provider's status is kept")
                elif c["kind"] == "rate_limits":
                    got = b.read_rate_limits(p, c.get("headers", {}), instant(c["now"]))
                    for field, value in want.items():
                        actual = getattr(got, field)
                        if field.endswith("_at"):
                            self.assertEqual(actual, instant(value), field)
                        else:
                            self.assertEqual(actual, value, field)
                checked += 1
        self.assertGreaterEqual(checked, 70)

    def test_golden_prices(self):
        with (FIXTURES / "prices" / "golden.csv").open() as f:
            rows = list(csv.DictReader(f))
        self.assertGreater(len(rows), 30)
        for row in rows:
            with self.subTest(model=row["model"]):
                p = provider(row["provider"])
                # 100,000 tokens: a tenth of the price per million, below every long-prompt tier.
                prompt = b.TokenUsage(input_tokens=100_000)
                cost = b.estimate_cost(b.CostInput(provider=p, model=row["model"], usage=prompt))
                self.assertEqual(Decimal(cost.cost_usd), Decimal(row["input"]) / 10)
                out = b.TokenUsage(output_tokens=100_000)
                cost = b.estimate_cost(b.CostInput(provider=p, model=row["model"], usage=out))
                self.assertEqual(Decimal(cost.cost_usd), Decimal(row["output"]) / 10)


class Api(unittest.TestCase):
    def test_the_must_show_costs(self):
        cost = b.estimate_cost(
            b.CostInput(
                provider=b.Provider.OPENAI,
                model="gpt-4o",
                usage=b.TokenUsage(input_tokens=2000, cached_input_tokens=1536, output_tokens=300),
            )
        )
        self.assertEqual(cost.cost_usd, "0.00608")
        self.assertEqual(cost.status, b.CostStatus.EXACT)
        self.assertEqual(sum(Decimal(line.cost_usd) for line in cost.lines), Decimal("0.00608"))
        sonnet = b.estimate_cost(
            b.CostInput(
                provider=b.Provider.ANTHROPIC,
                model="claude-sonnet-4",
                usage=b.TokenUsage(input_tokens=1000, output_tokens=1000),
            )
        )
        self.assertEqual((sonnet.model, sonnet.cost_usd), ("claude-sonnet-4-20250514", "0.018"))

    def test_errors_are_typed(self):
        with self.assertRaises(b.ByokitError.UnknownModel) as e:
            b.estimate_cost(b.CostInput(provider=b.Provider.OPENAI, model="gpt-4o-mni", usage=b.TokenUsage()))
        self.assertIn("gpt-4o-mini", e.exception.reason)
        self.assertEqual(e.exception.suggestions[0], "gpt-4o-mini")
        with self.assertRaises(b.ByokitError.UnknownProvider):
            b.provider_from_name("nosuch")
        with self.assertRaises(b.ByokitError.InvalidKey) as e:
            b.check_key(b.Provider.OPENAI, "sk-ant-api03-" + "a" * 90)
        self.assertEqual(e.exception.reason, "this looks like an API key for anthropic, not for openai")
        with self.assertRaises(b.ByokitError.InvalidCatalog):
            b.Catalog.load('[[models]]\nprovider = "openai"\nid = "x"\n[[models.prices]]\neffective = "2025-01-01"\ninput = "cheap"\noutput = "1"\n', "2026-11-28")

    def test_catalog_models_and_keys(self):
        catalog = b.Catalog.load('[[models]]\nprovider = "mistral"\nid = "acme-ft"\n[[models.prices]]\neffective = "2025-01-01"\ninput = "0.10"\noutput = "0.30"\n', "2026-11-28")
        self.assertTrue(catalog.version().endswith("+catalog"))
        cost = catalog.estimate_cost(b.CostInput(provider=b.Provider.MISTRAL, model="acme-ft", usage=b.TokenUsage(input_tokens=1_000_000)))
        self.assertEqual(cost.cost_usd, "0.1")
        gpt = next(m for m in b.list_models(b.Provider.OPENAI) if m.id == "gpt-4o")
        self.assertIn("gpt-4o-2024-08-06", gpt.aliases)
        self.assertEqual(gpt.prices.input, "2.5")
        self.assertEqual(b.mask_key("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1a1b2"), "sk-proj-…a1b2")
        req = b.build_chat_request(
            b.Provider.GEMINI,
            b.ChatRequest(model="gemini-2.5-flash", messages=[b.ChatMessage(role=b.Role.USER, content="Hi")]),
            "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
            b.RequestOptions(base_url="http://127.0.0.1:9/v1beta"),
        )
        self.assertNotIn("key=", req.url)
        self.assertEqual(req.headers["x-goog-api-key"], "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")

    def test_routing_budgets_and_summaries(self):
        now = datetime.datetime(2026, 11, 28, 12, tzinfo=datetime.timezone.utc)
        system = b.default_system_key_policy()
        state = b.RoutingState(keys=[], system=system, system_tokens_used=1_000_000)
        d = b.route(state, b.RouteInput(), now)
        self.assertEqual((d.provider, d.payer, d.key_id), (b.Provider.ANTHROPIC, b.Payer.SYSTEM, None))
        with self.assertRaises(b.ByokitError.SystemCapReached) as e:
            b.route(state, b.RouteInput(estimated_tokens=1), now)
        self.assertIn("add your own API key", e.exception.reason)
        bad = b.RoutingKey(id="k1", provider=b.Provider.OPENAI, saved_at=now, state=b.KeyState.INVALID(reason="revoked"),
                           requests_per_minute=None, requests_per_day=None, tokens_per_minute=None)
        with self.assertRaises(b.ByokitError.InvalidKey):
            b.route(b.RoutingState(keys=[bad], system=system), b.RouteInput(), now)
        # A key resting after a rate limit: the refusal says when to come back.
        resting = b.RoutingKey(id="k2", provider=b.Provider.OPENAI, saved_at=now,
                               state=b.KeyState.FAILING(until=now + datetime.timedelta(milliseconds=2300)),
                               requests_per_minute=None, requests_per_day=None, tokens_per_minute=None)
        with self.assertRaises(b.ByokitError.RateLimited) as e:
            b.route(b.RoutingState(keys=[resting]), b.RouteInput(), now)
        self.assertEqual((e.exception.retry_after_seconds, e.exception.status), (3.0, None))

        budget = b.Budget(monthly_limit_usd="10", policy=b.BudgetPolicy.BLOCK, alert_thresholds=[50, 80, 100])
        self.assertEqual(b.budget_status(budget, "8.5", now).percent_used, "85")
        alerts = b.budget_alerts(budget, [50], "8.5", now)
        self.assertEqual([a.threshold_percent for a in alerts], [80])

        events = [
            b.UsageEvent(at=now - datetime.timedelta(days=d), provider=b.Provider.OPENAI, model="gpt-4o",
                         feature="chat", payer=b.Payer.USER, usage=b.TokenUsage(input_tokens=100, output_tokens=10),
                         cost_usd="0.00035", cost_status=b.CostStatus.EXACT)
            for d in range(10)
        ]
        s = b.summarize(events, 7, now, None, None)
        self.assertEqual((s.totals.requests, s.totals.cost_usd, len(s.by_day)), (7, "0.00245", 8))  # a 7-day window ending at noon touches 8 UTC days
        self.assertEqual([(g.name, g.totals.requests) for g in s.by_provider], [("openai", 7)])
        self.assertEqual(sum([(g.name, g.totals.requests) for g in d.by_provider] == [("openai", 1)] for d in s.by_day), 7)
        with self.assertRaises(b.ByokitError.InvalidInput):
            b.summarize(events, 0, now, None, None)


@unittest.skipUnless(os.environ.get("BYOKIT_TEST_SOCKET"), "no byokd to talk to")
class Daemon(unittest.TestCase):
    def test_settings_and_usage_through_byokd(self):
        client = b.DaemonClient.connect(os.environ["BYOKIT_TEST_SOCKET"])
        key = "sk-proj-Py1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7Py42"
        saved = client.config_save("python", b.Provider.OPENAI, key, None, None)
        self.assertEqual(saved.masked_key, "sk-proj-…Py42")
        self.assertNotIn(key, repr(client.config_get("python")))
        record = b.UsageRecord(provider=b.Provider.GEMINI, model="gemini-2.5-flash",
                               usage=b.TokenUsage(input_tokens=1000, output_tokens=200), idempotency_key="py-1")
        first = client.usage_record("python", record)
        self.assertFalse(first.duplicate)
        self.assertTrue(client.usage_record("python", record).duplicate)
        summary = client.usage_summary("python", 7)
        self.assertEqual(summary.totals.requests, 1)
        self.assertEqual(summary.totals.cost_usd, first.cost_usd)
        with self.assertRaises(b.ByokitError.InvalidKey):
            client.config_save("python", b.Provider.OPENAI, "not a key", None, None)
        with self.assertRaises(b.ByokitError.DaemonUnreachable):
            b.DaemonClient.connect(os.environ["BYOKIT_TEST_SOCKET"] + ".nothing-here")

    def test_a_request_over_the_limit_fails_at_once(self):
        client = b.DaemonClient.connect(os.environ["BYOKIT_TEST_SOCKET"])
        record = b.UsageRecord(provider=b.Provider.OPENAI, model="gpt-4o", usage=b.TokenUsage(input_tokens=1),
                               feature="x" * (2 * 1024 * 1024))
        outcome = {}

        def call():
            try:
                outcome["result"] = client.usage_record("python", record)
            except Exception as e:  # noqa: BLE001 - the test looks at what it is
                outcome["error"] = e

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        thread.join(10)
        self.assertFalse(thread.is_alive(), "no answer within 10 s: the call hangs")
        error = outcome.get("error")
        self.assertIsInstance(error, b.ByokitError.InvalidInput, outcome)
        self.assertIn("over byokd's limit of 1048576 bytes; it was not sent", error.reason)
        # The same connection goes on serving.
        self.assertEqual(client.status().socket, os.environ["BYOKIT_TEST_SOCKET"])


if __name__ == "__main__":
    unittest.main()
