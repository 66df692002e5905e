// A typed use of the package, as a TypeScript app writes it: `tsc` checks it against the
// package's declarations (strict), then Node runs the compiled file, so the declarations are held
// to what the functions really return. Run by scripts/test-npm.sh.
import assert from "node:assert/strict";
import {
  budgetAlerts, budgetStatus, buildChatRequest, classifyError, estimateCost, isByokitError, listModels,
  route, StreamUsage, summarize, usageFromResponse, catalog, PricedModel,
  type CostEstimate, type CostUsage, type RouteDecision, type RoutingState, type StreamSummary, type UsageEvent, type UsageSummary,
} from "byokit";
import { DaemonClient, defaultSocketPath, type DaemonChatReply, type DaemonError, type KeyConfig } from "byokit/daemon";

const cost: CostEstimate = estimateCost({ provider: "openai", model: "gpt-4o", inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 });
const total: string | null = cost.costUsd;
assert.equal(total, "0.00608");
assert.equal(cost.breakdown.cachedInput?.tokens, 1536);
const lines: number = Object.keys(cost.breakdown).length;
assert.equal(lines, 3);

const model: PricedModel = catalog.model("openai", "gpt-4o");
const counts: CostUsage = { inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 };
const again: CostEstimate = model.cost(counts);
assert.equal(again.costUsd, "0.00608");
assert.equal(model.id, "gpt-4o");

const gpt = listModels("openai").find((m) => m.id === "gpt-4o");
assert.equal(gpt?.prices.at(-1)?.input, "2.5");

const request = buildChatRequest("anthropic", { model: "claude-sonnet-4", messages: [{ role: "user", content: "Hi" }], maxOutputTokens: 64 }, "sk-ant-api03-x", { browser: true });
const method: "GET" | "POST" = request.method;
assert.equal(method, "POST");
assert.equal(request.headers["anthropic-dangerous-direct-browser-access"], "true");

const reply = usageFromResponse("openai", new TextEncoder().encode(JSON.stringify({
  id: "x", object: "chat.completion", created: 1, model: "gpt-4o-2024-08-06",
  choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
})));
const tokens: number = reply.totalTokens;
assert.equal(tokens, 6);
assert.equal(reply.finishReason, "stop");

const stream = new StreamUsage("openai");
const deltas: string[] = stream.push('data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\n');
assert.deepEqual(deltas, ["Hello"]);
const ended: StreamSummary = stream.finish();
if (ended.usage.status === "unknown") assert.equal(ended.usage.estimate.estimated, true);
else assert.fail("the stream had no usage");

const failure = classifyError("openai", 429, { "retry-after": "2" }, '{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}');
assert.equal(failure.kind, "rate_limited");
assert.equal(failure.retryAfterSeconds, 2);

const now = "2026-11-28T12:00:00Z";
const state: RoutingState = {
  keys: [{ id: "k1", provider: "groq", savedAt: "2026-11-01T00:00:00Z", status: { state: "ok" }, limits: { requestsPerMinute: 60 } }],
  system: { provider: "anthropic", model: "claude-sonnet-4-20250514", monthlyTokenCap: 1_000_000 },
};
const decision: RouteDecision = route(state, { feature: "chat" }, now);
assert.equal(decision.payer, "user");
if (decision.key.kind === "user") assert.equal(decision.key.keyId, "k1");
else assert.fail("a user key was expected");
assert.throws(
  () => route({ system: state.system, systemTokensUsed: 1_000_000 }, { estimatedTokens: 1 }, now),
  (e: unknown) => isByokitError(e) && e.kind === "systemCapReached",
);

const budget = { monthlyLimitUsd: "10" };
assert.equal(Number(budgetStatus(budget, "8.5", now).percentUsed), 85);
const first = budgetAlerts(budget, "8.5", now, undefined);
assert.deepEqual(first.alerts.map((a) => a.thresholdPercent), [50, 80]);
assert.deepEqual(budgetAlerts(budget, "9", now, first.fired).alerts, []);

const events: UsageEvent[] = [{
  at: "2026-11-27T09:00:00Z", provider: "openai", model: "gpt-4o", feature: "chat", payer: "user",
  usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
  costUsd: "0.00035", costStatus: "exact",
}];
const week: UsageSummary = summarize(events, { days: 7, now, budget });
assert.equal(week.totals.costUsd, "0.00035");
assert.equal(week.byFeature["chat"]?.requests, 1);
assert.equal(week.budget?.spentUsd, "0.00035");

const socket: string = defaultSocketPath({ BYOKIT_SOCKET: "/tmp/x.sock" });
assert.equal(socket, "/tmp/x.sock");
const connecting: Promise<DaemonClient> = DaemonClient.connect("/nonexistent/byokd.sock");
await connecting.then(() => assert.fail("connected to nothing"), (e: unknown) => assert.ok(isByokitError(e) && e.kind === "daemonUnreachable"));
// The daemon client's methods, typed by byokd's protocol (checked by tsc only here; the client
// runs against a real byokd in daemon.test.mjs).
async function settingsPage(client: DaemonClient): Promise<string> {
  const saved: KeyConfig = await client.configSave({ provider: "openai", apiKey: "sk-proj-x", add: true });
  const reply: DaemonChatReply = await client.chat({
    messages: [{ role: "user", content: "hi" }], feature: "chat", onDelta: (text: string) => void text,
  });
  await client.configDelete({ keyId: saved.keyId });
  const budget = await client.budgetGet();
  return budget === null ? `${reply.usageId}` : `${budget.status.spentUsd} ${reply.costUsd ?? "unpriced"}`;
}
void settingsPage;
// byokd's error kinds and their data are generated from the protocol's: `data` narrows by kind.
function waitBeforeRetry(e: DaemonError): number | null {
  if (e.data.kind === "rate_limited" || e.data.kind === "overloaded") return e.data.retryAfterSeconds;
  if (e.data.kind === "too_large") return e.data.limitBytes > 0 ? null : 0;
  return e.kind === "budgetReached" ? null : e.retryAfterSeconds ?? null;
}
const limited = Object.assign(new Error("rate limited"), {
  kind: "rateLimited" as const, code: -32004, data: { kind: "rate_limited" as const, status: 429, retryAfterSeconds: 2 },
});
assert.equal(waitBeforeRetry(limited), 2);
console.log("typed usage: ok");
