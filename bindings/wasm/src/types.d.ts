/** A provider byokit speaks. */
export type Provider = "openai" | "anthropic" | "groq" | "gemini" | "mistral";
/** An exact amount of money in USD, as a decimal string (`"0.00608"`); never a float. */
export type Decimal = string;
/** An instant, RFC 3339 (`"2026-11-28T12:00:00Z"`). */
export type Instant = string;
/** A day, `YYYY-MM-DD`. */
export type Day = string;
/** Whether a cost can be trusted to the last digit. */
export type CostStatus = "exact" | "estimated" | "unpriced";
/** What kind of failure a provider reported, chosen by what the caller can do about it. */
export type ErrorKind =
  | "invalid_key" | "permission_denied" | "insufficient_credit" | "rate_limited"
  | "overloaded" | "server_error" | "bad_request" | "model_not_found";
/** Why a reply stopped. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "other";
/** Who pays for a call: the user's own key or the app's system key. */
export type Payer = "user" | "system";
/** The `kind` of an `Error` thrown by byokit. */
export type ByokitErrorKind =
  | "unknownProvider" | "unknownModel" | "invalidInput" | "invalidCatalog" | "invalidKey"
  | "malformedResponse" | "internal" | "permissionDenied" | "insufficientCredit" | "rateLimited"
  | "overloaded" | "serverError" | "badRequest" | "modelNotFound" | "systemCapReached" | "noKey"
  // byokit/daemon: byokd cannot be reached, or answered with an error of this kind.
  | "daemonUnreachable" | "methodNotFound" | "notFound" | "refused" | "providerError" | "unreachable" | "daemon";
/** An `Error` thrown by byokit. */
export interface ByokitError extends Error { kind: ByokitErrorKind }

/** Token counts, exactly as the provider reported them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Some counts are estimates, not the provider's own. */
  estimated: boolean;
}

/** What `estimateCost` prices. Absent counts are 0. */
export interface CostInput {
  provider: Provider;
  model: string;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
  /** Price with the Batch API prices. */
  batch?: boolean;
}

/** One token class of a cost. */
export interface LineItem { tokens: number; usdPerMillion: Decimal | null; costUsd: Decimal | null }

/** The exact cost of a call; the priced lines add up to `costUsd` to the last digit. */
export interface CostEstimate {
  provider: Provider;
  /** The canonical id (an alias resolved). */
  model: string;
  costUsd: Decimal | null;
  breakdown: { input?: LineItem; cachedInput?: LineItem; cacheWrite?: LineItem; output?: LineItem; reasoning?: LineItem };
  status: CostStatus;
  catalogVersion: string;
  priceEffective: Day | null;
  tierAbovePromptTokens: number | null;
  batch: boolean;
}

/** Prices in USD per million tokens. */
export interface Rates { input?: Decimal; output?: Decimal; cachedInput?: Decimal; cacheWrite?: Decimal }
/** A price set and the day it took effect. */
export interface PriceSet extends Rates {
  effective: Day;
  batch?: Rates;
  tiers?: Array<Rates & { abovePromptTokens: number; batch?: Rates }>;
}
/** A model of the catalog. */
export interface ModelInfo {
  provider: Provider;
  id: string;
  name?: string;
  aliases: string[];
  contextWindow?: number;
  maxOutputTokens?: number;
  deprecated?: boolean;
  /** Oldest first; the last is in force. */
  prices: PriceSet[];
}

/** A message of a conversation. */
export interface Message { role: "system" | "user" | "assistant"; content: string }
/** A provider-neutral chat request. */
export interface ChatRequest {
  model: string;
  system?: string;
  messages: Message[];
  maxOutputTokens?: number;
  temperature?: number;
  stop?: string[];
  stream?: boolean;
}
/** Where a request goes: another base URL (a proxy, a test server); browser headers. */
export interface RequestOptions { baseUrl?: string; browser?: boolean }
/** A request for `fetch`. Its headers carry the key: never log them. */
export interface HttpRequest { method: "GET" | "POST"; url: string; headers: Record<string, string>; body: string | null }

/** A reply's text and exact usage. */
export interface ResponseUsage extends TokenUsage {
  totalTokens: number;
  model: string;
  text: string;
  finishReason: FinishReason | null;
}
/** What a finished stream said: the usage reported, or an estimate when the stream had none. */
export interface StreamSummary {
  text: string;
  finishReason: FinishReason | null;
  model: string | null;
  usage: { status: "reported"; usage: TokenUsage } | { status: "unknown"; estimate: TokenUsage };
}
/** An error reply, classified. */
export interface ClassifiedError {
  provider: Provider;
  kind: ErrorKind;
  status: number;
  retryAfterSeconds: number | null;
  message: string;
  code: string | null;
}
/** The rate limits a reply's headers reveal; absent fields were not given. */
export interface RateLimits {
  requestsLimit?: number; requestsRemaining?: number; requestsResetAt?: Instant;
  tokensLimit?: number; tokensRemaining?: number; tokensResetAt?: Instant;
  inputTokensLimit?: number; inputTokensRemaining?: number; inputTokensResetAt?: Instant;
  outputTokensLimit?: number; outputTokensRemaining?: number; outputTokensResetAt?: Instant;
}

/** One call's usage, as stored. */
export interface UsageEvent {
  at: Instant;
  provider: Provider;
  model: string;
  feature: string;
  payer: Payer;
  usage: TokenUsage;
  costUsd: Decimal | null;
  costStatus: CostStatus;
}
/** Totals of a set of calls. */
export interface Totals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: Decimal;
  unpricedRequests: number;
  estimatedRequests: number;
}
/** A calendar month (UTC). */
export interface Month { year: number; month: number }
/** A monthly spending limit on the user's own keys. */
export interface Budget {
  monthlyLimitUsd: Decimal;
  policy?: "block" | "allow_and_alert";
  /** Percentages of the limit; 50, 80 and 100 by default. */
  alertThresholds?: number[];
}
/** Where a budget stands in a month. */
export interface BudgetStatus {
  month: Month;
  limitUsd: Decimal;
  spentUsd: Decimal;
  remainingUsd: Decimal;
  percentUsed: Decimal;
  exceeded: boolean;
  policy: "block" | "allow_and_alert";
}
/** A budget alert. */
export interface BudgetAlert { month: Month; thresholdPercent: number; spentUsd: Decimal; limitUsd: Decimal }
/** The alerts fired in a month: keep what `budgetAlerts` returns, pass it to the next call. */
export interface FiredAlerts { month: Month | null; thresholds: number[] }
/** Usage over a window; the breakdowns add up to the totals exactly. */
export interface UsageSummary {
  window: { end: Instant; days: number };
  totals: Totals;
  byProvider: Partial<Record<Provider, Totals>>;
  /** `""` for calls without a feature. */
  byFeature: Record<string, Totals>;
  /** Keyed `provider/model`. */
  byModel: Record<string, Totals>;
  byPayer: Partial<Record<Payer, Totals>>;
  byDay: Array<Totals & { date: Day }>;
  systemQuota: { month: Month; usedTokens: number; capTokens: number; leftTokens: number } | null;
  budget: BudgetStatus | null;
}
/** `summarize`'s options. */
export interface SummaryOptions { days: number; now: Instant; systemTokenCap?: number; budget?: Budget }

/** One of the user's keys, as routing sees it (never the secret). */
export interface RoutingKey {
  id: string;
  provider: Provider;
  savedAt: Instant;
  lastUsedAt?: Instant;
  status: { state: "ok" } | { state: "invalid"; reason: string } | { state: "failing"; until: Instant };
  limits?: { requestsPerMinute?: number; requestsPerDay?: number; tokensPerMinute?: number };
}
/** Everything routing needs to know about a user. */
export interface RoutingState {
  keys?: RoutingKey[];
  /** Providers to try, in order, when the active one is rate limited or down. */
  fallbackChain?: Provider[];
  models?: { byProvider?: Partial<Record<Provider, string>>; byFeature?: Record<string, { provider: Provider; model: string }> };
  /** The app's shared key: Anthropic `claude-sonnet-4-20250514`, 1,000,000 tokens a month by default. */
  system?: { provider: Provider; model: string; monthlyTokenCap: number } | null;
  /** Tokens the user has used (and has in flight) through the system key this month. */
  systemTokensUsed?: number;
}
/** The call to route. */
export interface RouteRequest { feature?: string; model?: string; estimatedTokens?: number }
/** Who serves and pays for a call, and why. */
export interface RouteDecision {
  provider: Provider;
  model: string;
  key: { kind: "user"; keyId: string } | { kind: "system" };
  payer: Payer;
  explanation: string[];
  fallbacks: Array<{ provider: Provider; model: string; keyId: string }>;
}
