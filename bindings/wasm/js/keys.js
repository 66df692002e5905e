// The one place the package converts object keys between JavaScript's camelCase and the core's
// snake_case: the WebAssembly functions (through wasm-bindgen, which copies this file beside its
// glue) and the daemon client (byokit/daemon) both use it. Keys of the objects in DATA_MAPS are
// data (providers, feature names, `provider/model`) and stay as they are; their values are
// converted.

const DATA_MAPS = new Set(['by_provider', 'by_feature', 'by_model', 'by_payer', 'feature_models',
  'byProvider', 'byFeature', 'byModel', 'byPayer', 'featureModels']);

const camelKey = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snakeKey = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function convert(value, key) {
  if (Array.isArray(value)) return value.map((v) => convert(v, key));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[key(k)] = DATA_MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([dk, dv]) => [dk, convert(dv, key)]))
      : convert(v, key);
  }
  return out;
}

/** A snake_case name in camelCase (`retry_after_seconds` → `retryAfterSeconds`). */
export { camelKey };
/** A value with camelCase keys. */
export const toCamel = (v) => convert(v, camelKey);
/** A value with snake_case keys. */
export const toSnake = (v) => convert(v, snakeKey);

/** A JS argument as JSON with snake_case keys (`{}` when absent). */
export function snakeJson(v) { return v === undefined || v === null ? '{}' : JSON.stringify(toSnake(v)); }
/** A JS argument as JSON, keys as they are (`{}` when absent). */
export function plainJson(v) { return v === undefined || v === null ? '{}' : JSON.stringify(v); }
/** JSON as a JS value with camelCase keys. */
export function camelValue(text) { return toCamel(JSON.parse(text)); }
