// byokit/daemon: a Node client of byokd. Arguments and results use camelCase keys; money is a
// decimal string. Errors are `Error`s with a `kind`: byokd's own kind (generated from the
// protocol's error kind, `DaemonErrorKind`: `invalidKey`, `rateLimited`, `systemCapReached`,
// `budgetReached`, `tooLarge`, …), else `daemonUnreachable` or `malformedResponse`.
import type {
  Budget, BudgetAlert, BudgetSetParams, BudgetStatus, ByokitError, CamelCase, CamelKeys, ChatParams, ConfigDeleteResult,
  ConfigGetResult, ConfigSaveParams, ConfigTarget, ConfigTestResult, DaemonChatReply, DaemonErrorKind, DaemonLine, DaemonStatus,
  KeyConfig, RouteDecision, RouteParams, RoutingSettings, UsageRecord, UsageRecordResult, UsageSummary, UsageSummaryParams,
  UserParams,
} from "byokit";

// The protocol's parameters and results are generated from byokd's Rust types (in "byokit"),
// re-exported here under the names this client has always used.
export type { DaemonChatReply, DaemonErrorKind, DaemonLine, KeyConfig, RoutingSettings, UsageRecord };

/** An error byokd answered with, or a request refused before it was sent. */
export interface DaemonError extends ByokitError {
  /** byokd's kind in camelCase, except that `parse_error`, `invalid_request` and `invalid_params`
   * are `invalidInput` and `bad_key` is `invalidKey`, as elsewhere in the package (`data.kind` has
   * byokd's own). */
  kind: Exclude<CamelCase<DaemonErrorKind["kind"]>, "parseError" | "invalidRequest" | "invalidParams" | "badKey"> | "invalidInput";
  /** The JSON-RPC error code. */
  code: number;
  /** byokd's kind with its data, keys in camelCase (`{kind: "rate_limited", status, retryAfterSeconds}`). */
  data: CamelKeys<DaemonErrorKind>;
  /** Seconds to wait before retrying, when known. */
  retryAfterSeconds?: number;
}

/** How long calls wait for byokd's next line for them. */
export interface DaemonClientOptions {
  /** Default 60 000. */
  readTimeoutMs?: number;
  /** For `chat` and `config.test`, which wait for a provider; default 660 000 (11 minutes). */
  providerReadTimeoutMs?: number;
}

/** The largest request line byokd reads, in bytes (1 MiB). */
export const MAX_MESSAGE_BYTES: number;
/** The default `readTimeoutMs`. */
export const DEFAULT_READ_TIMEOUT_MS: number;
/** The default `providerReadTimeoutMs`. */
export const DEFAULT_PROVIDER_READ_TIMEOUT_MS: number;

/** A request line, newline included; throws a `tooLarge` `DaemonError` over `MAX_MESSAGE_BYTES`. */
export function encodeRequest(id: number, method: string, params: unknown): string;
/** One line from byokd, read by the core codec's rules; throws a `malformedResponse` error otherwise. */
export function decodeLine(line: string): DaemonLine;

/** A chat call for byokd to route, make with the stored key and record. */
export interface DaemonChatRequest extends Omit<ChatParams, "stream"> {
  /** Stream the reply: called with each text delta as it arrives. */
  onDelta?: (text: string) => void;
}

/** The socket byokd listens on by default (on Windows, `platform` `win32`, a named pipe). */
export function defaultSocketPath(env?: Record<string, string | undefined>, platform?: string): string;

/** A connection to byokd; calls may overlap, and each fails rather than waits forever. */
export class DaemonClient {
  /** Connects to byokd on `socketPath` (default: `defaultSocketPath()`). */
  static connect(socketPath?: string, options?: DaemonClientOptions): Promise<DaemonClient>;
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
export function connect(socketPath?: string, options?: DaemonClientOptions): Promise<DaemonClient>;
