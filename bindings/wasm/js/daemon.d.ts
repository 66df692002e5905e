// byokit/daemon: a Node client of byokd. Arguments and results use camelCase keys; money is a
// decimal string. Errors are `Error`s with a `kind` (see `ByokitErrorKind`): the provider's or
// the routing refusal's kind when byokd gives one (`invalidKey`, `rateLimited`,
// `systemCapReached`, `budgetReached`, …), else `daemonUnreachable`, `invalidInput`, `notFound`, `refused`, ….
import type {
  Budget, BudgetAlert, BudgetStatus, ByokitError, CostStatus, Decimal, FinishReason, Instant, Message, Payer,
  Provider, RouteDecision, TokenUsage, UsageSummary,
} from "byokit";

/** An error byokd answered with. */
export interface DaemonError extends ByokitError {
  /** The JSON-RPC error code. */
  code?: number;
  /** What byokd said a client can act on (`{kind, status, retryAfterSeconds}` for provider errors). */
  data?: Record<string, unknown> | null;
  /** Seconds to wait before retrying, when the provider said. */
  retryAfterSeconds?: number;
}

/** A stored configuration, the key masked. */
export interface KeyConfig {
  keyId: string;
  provider: Provider;
  apiKey: string;
  baseUrl: string | null;
  model: string | null;
  isActive: boolean;
  savedAt: Instant;
}

/** One call's usage, for byokd to price and store. */
export interface UsageRecord {
  user?: string;
  provider: Provider;
  model: string;
  usage: Partial<TokenUsage>;
  feature?: string;
  payer?: Payer;
  /** A retried record with the same key is counted once. */
  idempotencyKey?: string;
  at?: Instant;
  latencyMs?: number;
  outcome?: string;
}

/** A chat call for byokd to route, make with the stored key and record. */
export interface DaemonChatRequest {
  user?: string;
  messages: Message[];
  model?: string;
  feature?: string;
  system?: string;
  maxOutputTokens?: number;
  temperature?: number;
  stop?: string[];
  /** Stream the reply: called with each text delta as it arrives. */
  onDelta?: (text: string) => void;
}

/** A chat call's reply and what it cost. */
export interface DaemonChatReply {
  text: string;
  finishReason: FinishReason | null;
  provider: Provider;
  model: string;
  payer: Payer;
  usage: TokenUsage;
  usageId: number;
  costUsd: Decimal | null;
  costStatus: CostStatus;
}

/** A user's routing settings in byokd: fallback providers, and the model a feature uses. */
export interface RoutingSettings {
  fallbackChain: Provider[];
  featureModels: Record<string, { provider: Provider; model: string }>;
}

/** The socket byokd listens on by default. */
export function defaultSocketPath(env?: Record<string, string | undefined>): string;

/** A connection to byokd; calls may overlap. */
export class DaemonClient {
  /** Connects to byokd on `socketPath` (default: `defaultSocketPath()`). */
  static connect(socketPath?: string): Promise<DaemonClient>;
  readonly socketPath: string;
  /** Any method, parameters and result in camelCase. */
  call(method: string, params?: Record<string, unknown>, options?: { onNotification?: (method: string, params: any) => void }): Promise<any>;
  /** Any method with the protocol's own snake_case parameters and result. */
  callRaw(method: string, params?: Record<string, unknown>, options?: { onNotification?: (method: string, params: any) => void }): Promise<any>;
  close(): void;
  configSave(config: { user?: string; provider: Provider; apiKey: string; model?: string; baseUrl?: string }): Promise<KeyConfig>;
  configGet(params?: { user?: string }): Promise<{ active: KeyConfig | null; configs: KeyConfig[] }>;
  configDelete(params?: { user?: string; provider?: Provider }): Promise<{ deleted: number }>;
  configTest(params?: { user?: string; provider?: Provider }): Promise<{ provider: Provider; outcome: string; message: string | null; models: string[] }>;
  usageRecord(record: UsageRecord): Promise<{ id: number; costUsd: Decimal | null; costStatus: CostStatus; catalogVersion: string; duplicate: boolean }>;
  usageSummary(params?: { user?: string; days?: number }): Promise<UsageSummary>;
  route(params?: { user?: string; feature?: string; model?: string; estimatedTokens?: number }): Promise<RouteDecision>;
  chat(request: DaemonChatRequest): Promise<DaemonChatReply>;
  routingGet(params?: { user?: string }): Promise<RoutingSettings>;
  routingSet(params: { user?: string } & Partial<RoutingSettings>): Promise<RoutingSettings>;
  budgetGet(params?: { user?: string }): Promise<{ budget: Budget | null; status: BudgetStatus | null }>;
  budgetSet(params: { user?: string } & Budget): Promise<Budget>;
  alertsList(params?: { user?: string }): Promise<BudgetAlert[]>;
  status(): Promise<{ version: string; pid: number; uptimeSeconds: number; socket: string; dataDir: string; catalogVersion: string }>;
}

/** Connects to byokd; the same as `DaemonClient.connect`. */
export function connect(socketPath?: string): Promise<DaemonClient>;
