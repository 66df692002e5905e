// Written by hand: the names the generated declarations (made from the Rust types by
// `cargo run -p byokit-wasm --features ts --example typescript`, added by scripts/build-npm.sh)
// refer to, and the shapes that exist only at this boundary.

/** An exact amount of money in USD, as a decimal string (`"0.00608"`); never a float. */
export type Decimal = string;
/** An instant, RFC 3339 (`"2026-11-28T12:00:00Z"`). */
export type Instant = string;
/** A day, `YYYY-MM-DD`. */
export type Day = string;
/** `snake_case` → `camelCase`, as the package names kinds and fields (`rate_limited` → `rateLimited`). */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
/** An object's keys in `camelCase` (each member of a union on its own). */
export type CamelKeys<T> = T extends object ? { [K in keyof T as CamelCase<K & string>]: T[K] } : T;
/** The `kind` of an `Error` thrown by byokit. */
export type ByokitErrorKind =
  | "unknownProvider" | "unknownModel" | "invalidInput" | "invalidCatalog" | "invalidKey"
  | "malformedResponse" | "internal" | "permissionDenied" | "insufficientCredit" | "rateLimited"
  | "overloaded" | "serverError" | "badRequest" | "modelNotFound" | "systemCapReached" | "noKey"
  | "budgetReached"
  // byokit/daemon: byokd's kinds (generated from the protocol's error kind), and byokd could not
  // be reached, broke the connection or sent nothing for the read timeout.
  | CamelCase<DaemonErrorKind["kind"]> | "daemonUnreachable";
/** An `Error` thrown by byokit. */
export interface ByokitError extends Error { kind: ByokitErrorKind }

/** A call's token counts as the provider reports them; absent counts are 0. */
export interface CostUsage extends Partial<Omit<TokenUsage, "estimated">> {
  /** Price with the Batch API prices. */
  batch?: boolean;
}

/** What `estimateCost` prices: a model and a call's token counts. */
export interface CostInput extends CostUsage {
  provider: Provider;
  model: string;
}

/**
 * A model looked up once (`catalog.model(provider, model)`), then priced call by call: `cost`
 * gives what `estimateCost` gives for the same model and counts, without looking the name up
 * again. It prices with the catalog in use: after `loadCatalog`, it looks its name up again.
 * Throws an `unknownModel` error (with the closest names) when the catalog does not have it.
 */
export declare class PricedModel {
  constructor(provider: Provider, model: string);
  /** The provider. */
  readonly provider: Provider;
  /** The model's canonical id in the catalog in use (an alias resolved). */
  readonly id: string;
  /** The exact cost of a call to this model. */
  cost(usage: CostUsage): CostEstimate;
}

/** The catalog in use: the embedded one, or the one `loadCatalog` made. */
export declare const catalog: {
  /** `provider`'s `model` (an id or an alias), looked up once to be priced many times. */
  model(provider: Provider, model: string): PricedModel;
};

/** Everything routing needs to know about a user: the configuration, and the system key's usage this month. */
export type RoutingState = RoutingConfig & SystemUsage;
