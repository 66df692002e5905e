// The package's entry: the functions of the wasm module (`byokit_wasm.js`, made by wasm-bindgen
// from bindings/wasm/src, declared in byokit.d.ts), with the hot calls (a cost, a reply's usage)
// taking numbers and strings as arguments and returning their result in a compact text form
// (bindings/wasm/src/compact.rs) read here into the objects the core's serde form gives, with no
// JSON text on the way. Everything is computed in the wasm; this file only moves values.
import * as wasm from './byokit_wasm.js';

// The glue's other exports, as they are (its helpers for this file are left out). A function
// added in src/lib.rs is added here too: tests/package.test.mjs checks that the package exports
// what its declarations name.
// `init` (the default export) fetches, compiles and instantiates the wasm in a browser; in Node
// the package's import has done it, and `init()` returns at once.
export {
  default, initSync, buildChatRequest, buildTestRequest, readRateLimits, listModels, loadCatalog,
  classifyError, summarize, route, budgetStatus, budgetAlerts, daemonErrorKind, isByokitError, maskKey,
  checkKey, StreamUsage,
} from './byokit_wasm.js';

/** A token count as the wasm takes it: absent is 0, anything but a number is refused there (NaN). */
function count(v) {
  return v === undefined || v === null ? 0 : typeof v === 'number' ? v : NaN;
}

let rest = 0; // where the free text of the form read last begins

/** The first `n` fields of a compact form, each ended by `|`; `rest` is left at the free text. */
function fields(s, n) {
  const f = new Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const q = s.indexOf('|', p);
    f[i] = s.slice(p, q);
    p = q + 1;
  }
  rest = p;
  return f;
}

function line(f, i) {
  return f[i] === '' ? undefined : { tokens: Number(f[i]), usdPerMillion: f[i + 1] || null, costUsd: f[i + 2] || null };
}

/** A `CostEstimate` from `compact::cost`. */
function costFrom(s) {
  const f = fields(s, 22);
  const breakdown = {};
  let l;
  if ((l = line(f, 6))) breakdown.input = l;
  if ((l = line(f, 9))) breakdown.cachedInput = l;
  if ((l = line(f, 12))) breakdown.cacheWrite = l;
  if ((l = line(f, 15))) breakdown.output = l;
  if ((l = line(f, 18))) breakdown.reasoning = l;
  const start = rest;
  const modelEnd = start + Number(f[21]);
  return {
    provider: f[0],
    model: s.slice(start, modelEnd),
    costUsd: f[2] || null,
    breakdown,
    status: f[1],
    catalogVersion: s.slice(modelEnd),
    priceEffective: f[3] || null,
    tierAbovePromptTokens: f[4] === '' ? null : Number(f[4]),
    batch: f[5] === '1',
  };
}

/** A `ResponseUsage` from `compact::response_usage`. */
function usageFrom(s) {
  const f = fields(s, 9);
  const start = rest;
  const modelEnd = start + Number(f[8]);
  return {
    inputTokens: Number(f[0]),
    outputTokens: Number(f[1]),
    cachedInputTokens: Number(f[2]),
    cacheWriteTokens: Number(f[3]),
    reasoningTokens: Number(f[4]),
    estimated: f[5] === '1',
    totalTokens: Number(f[6]),
    model: s.slice(start, modelEnd),
    text: s.slice(modelEnd),
    finishReason: f[7] || null,
  };
}

// The models `estimateCost` has looked up, by provider and name as given: each call after the
// first prices through the model's handle, which follows `loadCatalog` itself. Names that failed
// are not kept; past `MAX_MODELS` names the map starts again.
const models = new Map();
const MAX_MODELS = 1000;
let modelCount = 0;

function handle(provider, model) {
  let byName = models.get(provider);
  let h = byName?.get(model);
  if (h === undefined) {
    h = new wasm.ModelHandle(provider, model);
    if (++modelCount > MAX_MODELS) {
      models.clear();
      modelCount = 1;
      byName = undefined;
    }
    if (byName === undefined) models.set(provider, (byName = new Map()));
    byName.set(model, h);
  }
  return h;
}

export function estimateCost(input) {
  if (input === null || typeof input !== 'object' || typeof input.provider !== 'string'
    || typeof input.model !== 'string') {
    return wasm.estimateCost(input); // which says what is wrong
  }
  return costFrom(handle(input.provider, input.model).costText(count(input.inputTokens),
    count(input.outputTokens), count(input.cachedInputTokens), count(input.cacheWriteTokens),
    count(input.reasoningTokens), input.batch === true));
}

const encoder = new TextEncoder();
let memory = null; // the wasm module's memory (a new ArrayBuffer after it grows)

/** `len` bytes of the module's memory at `ptr`. */
function bytesAt(ptr, len) {
  if (memory === null) memory = wasm.wasmMemory();
  return new Uint8Array(memory.buffer, ptr, len);
}

export function usageFromResponse(provider, body) {
  // The body is written once, straight into a buffer the wasm reuses and reads in place.
  if (typeof body === 'string') {
    // Room for ASCII first (most replies); else for the most UTF-8 takes, 3 bytes a code unit.
    let room = body.length;
    let { read, written } = encoder.encodeInto(body, bytesAt(wasm.inputBuffer(room), room));
    if (read < body.length) {
      room = body.length * 3;
      ({ read, written } = encoder.encodeInto(body, bytesAt(wasm.inputBuffer(room), room)));
    }
    return usageFrom(wasm.usageFromInput(provider, written));
  }
  if (body instanceof Uint8Array) {
    bytesAt(wasm.inputBuffer(body.length), body.length).set(body);
    return usageFrom(wasm.usageFromInput(provider, body.length));
  }
  return usageFrom(wasm.usageText(provider, body));
}

export class PricedModel {
  #model;

  constructor(provider, model) {
    this.#model = new wasm.ModelHandle(provider, model);
  }

  get provider() {
    return this.#model.provider;
  }

  get id() {
    return this.#model.id;
  }

  cost(usage) {
    const u = usage ?? {};
    return costFrom(this.#model.costText(count(u.inputTokens), count(u.outputTokens),
      count(u.cachedInputTokens), count(u.cacheWriteTokens), count(u.reasoningTokens), u.batch === true));
  }
}

export const catalog = Object.freeze({
  model(provider, model) {
    return new PricedModel(provider, model);
  },
});
