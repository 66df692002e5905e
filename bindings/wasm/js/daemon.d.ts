// byokit/daemon: a Node client of byokd. Arguments and results use camelCase keys; money is a
// decimal string. Errors are `Error`s with a `kind` (see `ByokitErrorKind`): the provider's or
// the routing refusal's kind when byokd gives one (`invalidKey`, `rateLimited`,
// `systemCapReached`, `budgetReached`, …), else `daemonUnreachable`, `invalidInput`, `notFound`, `refused`, ….
import type {
  Budget, BudgetAlert, BudgetSetParams, BudgetStatus, ByokitError, ChatParams, ConfigDeleteResult, ConfigGetResult,
  ConfigSaveParams, ConfigTarget, ConfigTestResult, DaemonChatReply, DaemonStatus, KeyConfig, RouteDecision,
  RouteParams, RoutingSettings, UsageRecord, UsageRecordResult, UsageSummary, UsageSummaryParams, UserParams,
} from "byokit";

// The protocol's parameters and results are generated from byokd's Rust types (in "byokit"),
// re-exported here under the names this client has always used.
export type { DaemonChatReply, KeyConfig, RoutingSettings, UsageRecord };

/** An error byokd answered with. */
export interface DaemonError extends ByokitError {
  /** The JSON-RPC error code. */
  code?: number;
  /** What byokd said a client can act on (`{kind, status, retryAfterSeconds}` for provider errors). */
  data?: Record<string, unknown> | null;
  /** Seconds to wait before retrying, when the provider said. */
  retryAfterSeconds?: number;
}

/** A chat call for byokd to route, make with the stored key and record. */
export interface DaemonChatRequest extends Omit<ChatParams, "stream"> {
  /** Stream the reply: called with each text delta as it arrives. */
  onDelta?: (text: string) => void;
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
  configSave(config: ConfigSaveParams): Promise<KeyConfig>;
  configGet(params?: UserParams): Promise<ConfigGetResult>;
  configDelete(params?: ConfigTarget): Promise<ConfigDeleteResult>;
  configTest(params?: ConfigTarget): Promise<ConfigTestResult>;
  usageRecord(record: UsageRecord): Promise<UsageRecordResult>;
  usageSummary(params?: UsageSummaryParams): Promise<UsageSummary>;
  route(params?: RouteParams): Promise<RouteDecision>;
  chat(request: DaemonChatRequest): Promise<DaemonChatReply>;
  routingGet(params?: UserParams): Promise<RoutingSettings>;
  routingSet(params: UserParams & Partial<RoutingSettings>): Promise<RoutingSettings>;
  budgetGet(params?: UserParams): Promise<{ budget: Budget; status: BudgetStatus } | null>;
  budgetSet(params: BudgetSetParams): Promise<Budget>;
  alertsList(params?: UserParams): Promise<BudgetAlert[]>;
  status(): Promise<DaemonStatus>;
}

/** Connects to byokd; the same as `DaemonClient.connect`. */
export function connect(socketPath?: string): Promise<DaemonClient>;
