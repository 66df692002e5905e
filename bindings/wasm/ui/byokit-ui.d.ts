// byokit/ui: the spec's two settings pages as custom elements (docs/ui.md).

/** An error the REST API answered with; `kind` is what a caller acts on (docs/http-api.md). */
export class ByokitApiError extends Error {
  readonly name: 'ByokitApiError';
  /** The HTTP status (0 when the server could not be reached). */
  readonly status: number;
  /** `unauthorized`, `invalid_params`, `not_found`, `rate_limited`, `unreachable`, … */
  readonly kind: string;
  readonly retryAfterSeconds: number | null;
}

export interface ByokitClientOptions {
  /** Where the REST API is (`https://byokit.example.com`); '' for the page's own origin. */
  baseUrl?: string;
  /** The current bearer token: a JWT of the app's sign-in, or a user's token. */
  getToken?: () => string | null | Promise<string | null>;
  fetch?: typeof fetch;
}

/** A stored key, masked, as GET /api/settings/api-config gives it. */
export interface SavedConfig {
  key_id: string;
  provider: string;
  api_key: string;
  base_url: string | null;
  model: string | null;
  is_active: boolean;
  saved_at: string;
}

export interface ConfigTestResult {
  provider: string;
  outcome: 'valid' | 'invalid_key' | 'permission_denied' | 'insufficient_credit' | 'rate_limited'
    | 'overloaded' | 'server_error' | 'bad_request' | 'model_not_found' | 'unreachable';
  message: string | null;
  models: string[];
}

/** Totals as the REST API gives them: money a decimal string. */
export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: string;
  unpriced_requests: number;
  estimated_requests: number;
}

export interface UsageSummaryJson {
  window: { end: string; days: number };
  totals: UsageTotals;
  by_provider: Record<string, UsageTotals>;
  by_feature: Record<string, UsageTotals>;
  by_model: Record<string, UsageTotals>;
  by_payer: Record<string, UsageTotals>;
  /** Every UTC day of the window, with its totals split by provider (the providers called that day). */
  by_day: ({ date: string; by_provider: Record<string, UsageTotals> } & UsageTotals)[];
  system_quota: { month: { year: number; month: number }; used_tokens: number; cap_tokens: number; left_tokens: number } | null;
  budget: unknown | null;
}

/** The chart's data: each provider's cost per day, the summary's decimal strings. */
export interface UsageChartData {
  days: string[];
  providers: string[];
  cost: Record<string, string[]>;
  dayTotals: string[];
  /** Every day's sum equals the summary's own total for that day. */
  consistent: boolean;
}

/** A small client of the REST API of docs/http-api.md. */
export class ByokitClient {
  constructor(options?: ByokitClientOptions);
  getConfig(): Promise<{ active: SavedConfig | null; configs: SavedConfig[] }>;
  saveConfig(config: { provider: string; api_key: string; model?: string; base_url?: string; add?: boolean }): Promise<unknown>;
  deleteConfig(target?: { provider?: string; keyId?: string }): Promise<{ deleted: number }>;
  testConfig(target?: string | { provider: string; api_key: string; base_url?: string }): Promise<ConfigTestResult>;
  usage(days: number): Promise<UsageSummaryJson>;
  exportUsage(days: number, format?: 'csv'): Promise<string>;
  exportUsage(days: number, format: 'jsonl'): Promise<Record<string, unknown>[]>;
  budget(): Promise<unknown | null>;
  setBudget(budget: { monthly_limit_usd: string; policy?: 'block' | 'allow_and_alert'; alert_thresholds?: number[] }): Promise<unknown>;
  alerts(): Promise<unknown>;
  catalog(): Promise<{ catalog_version: string; models: unknown[] }>;
}

/** Sets the client every element uses unless it has its own, and reloads the elements. */
export function configure(options: ByokitClientOptions): void;

/** A decimal string as money, every digit kept (at least 2 decimals). */
export function formatMoney(amount: string, locale?: string, currency?: string): string;
/** The exact sum of decimal strings. */
export function sumDecimals(values: string[]): string;

/** Each connection test outcome, in words. */
export const TEST_OUTCOMES: Record<ConfigTestResult['outcome'], string>;

interface ByokitElement extends HTMLElement {
  /** The REST client (default: `base-url` and `getToken`, else `configure()`'s). */
  client: ByokitClient;
  /** The current bearer token, for the element's own client. */
  getToken: (() => string | null | Promise<string | null>) | undefined;
  readonly locale: string | undefined;
  readonly currency: string;
  /** Loads again from the API. */
  refresh(): Promise<void>;
}

/** `<byokit-api-config>`: providers, model, key (checked as typed), test, save, saved keys. */
export class ByokitApiConfig extends HTMLElement implements ByokitElement {
  client: ByokitClient;
  getToken: (() => string | null | Promise<string | null>) | undefined;
  readonly locale: string | undefined;
  readonly currency: string;
  /** A base URL to save with each provider's key (a proxy), by provider. */
  baseUrls: Record<string, string>;
  /** The key-format check; by default the package's own `checkKey` (WebAssembly, loaded on first use). */
  checkKey: (provider: string, key: string) => void | Promise<void>;
  /** The provider chosen in the form. */
  readonly provider: string;
  refresh(): Promise<void>;
  test(provider?: string): Promise<ConfigTestResult | null>;
  /** Deletes one key or a provider's keys; usage history is kept. */
  delete(target: { provider: string } | { keyId: string }): Promise<void>;
  /** Deletes every saved key, provider by provider. */
  deleteAll(): Promise<void>;
}

/** `<byokit-usage>`: totals, breakdowns, cost-per-day chart, shared-key quota, budget, export. */
export class ByokitUsage extends HTMLElement implements ByokitElement {
  client: ByokitClient;
  getToken: (() => string | null | Promise<string | null>) | undefined;
  readonly locale: string | undefined;
  readonly currency: string;
  /** The window in days (the `days` attribute). */
  days: number;
  /** The summary shown, as the API gave it. */
  readonly summary: UsageSummaryJson | null;
  /** The chart's data. */
  readonly chartData: UsageChartData | null;
  refresh(): Promise<void>;
  /** Downloads the window's events as CSV, and resolves with the text. */
  exportCsv(): Promise<string>;
}

declare global {
  interface HTMLElementTagNameMap {
    'byokit-api-config': ByokitApiConfig;
    'byokit-usage': ByokitUsage;
  }
}
