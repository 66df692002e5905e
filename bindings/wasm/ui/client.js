// A small client of byokit's REST API (docs/http-api.md): the settings pages' only way to the
// server, so any backend serving the same API works behind them.

/** An error the REST API answered with: its `kind` is what a caller acts on. */
export class ByokitApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.name = 'ByokitApiError';
    this.status = status;
    this.kind = e.kind ?? (status === 0 ? 'unreachable' : 'http_error');
    this.retryAfterSeconds = e.retry_after_seconds ?? null;
  }
}

/** Calls the REST API at `baseUrl` with the bearer token `getToken()` gives (a JWT or a user's token). */
export class ByokitClient {
  /**
   * @param {{baseUrl?: string, getToken?: () => (string|null|Promise<string|null>), fetch?: typeof fetch}} options
   */
  constructor({ baseUrl = '', getToken = () => null, fetch: f } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.getToken = getToken;
    this.fetch = f ?? ((...a) => globalThis.fetch(...a));
  }

  /** The raw response of `method path` (JSON body when given), thrown as a ByokitApiError when not ok. */
  async raw(method, path, body) {
    const headers = {};
    const token = await this.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let r;
    try {
      r = await this.fetch(`${this.baseUrl}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ByokitApiError(0, { error: { kind: 'unreachable', message: `the server could not be reached (${e.message})` } });
    }
    if (!r.ok) {
      let parsed = null;
      try { parsed = await r.json(); } catch { /* no body */ }
      throw new ByokitApiError(r.status, parsed);
    }
    return r;
  }

  async json(method, path, body) {
    const r = await this.raw(method, path, body);
    const text = await r.text();
    return text ? JSON.parse(text) : null;
  }

  /** GET /api/settings/api-config: `{active, configs}`, keys masked. */
  getConfig() { return this.json('GET', '/api/settings/api-config'); }
  /** POST /api/settings/api-config: `{provider, api_key, model?, base_url?, add?}`. */
  saveConfig(config) { return this.json('POST', '/api/settings/api-config', config); }
  /** DELETE /api/settings/api-config: one key (`{keyId}`), a provider's (`{provider}`), or all. */
  deleteConfig({ provider, keyId } = {}) {
    const q = keyId ? `?key_id=${encodeURIComponent(keyId)}` : provider ? `?provider=${encodeURIComponent(provider)}` : '';
    return this.json('DELETE', `/api/settings/api-config${q}`);
  }
  /**
   * POST /api/settings/api-config/test: a cheap real request with the provider's stored key, or
   * with a key not saved yet (`{ provider, api_key, base_url }`), which is never stored.
   */
  testConfig(target) {
    const body = typeof target === 'string' ? { provider: target } : (target ?? {});
    return this.json('POST', '/api/settings/api-config/test', body);
  }
  /** GET /api/settings/usage?days=N. */
  usage(days) { return this.json('GET', `/api/settings/usage?days=${days}`); }
  /** GET /api/settings/usage/export: the window's events, `csv` text or parsed `jsonl`. */
  async exportUsage(days, format = 'csv') {
    const text = await (await this.raw('GET', `/api/settings/usage/export?days=${days}&format=${format}`)).text();
    return format === 'jsonl' ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : text;
  }
  /** GET /api/settings/budget (null when none). */
  budget() { return this.json('GET', '/api/settings/budget'); }
  /** PUT /api/settings/budget: `{monthly_limit_usd, policy, alert_thresholds}`. */
  setBudget(budget) { return this.json('PUT', '/api/settings/budget', budget); }
  /** GET /api/settings/alerts: the budget thresholds crossed, newest first. */
  alerts() { return this.json('GET', '/api/settings/alerts'); }
  /** GET /api/catalog: models and their prices. */
  catalog() { return this.json('GET', '/api/catalog'); }
}

let defaults = { baseUrl: '', getToken: () => null };
let shared = null;

/** Sets the client every element uses unless given its own (`element.client = …`). */
export function configure(options) {
  defaults = { ...defaults, ...options };
  shared = null;
  for (const el of globalThis.document?.querySelectorAll('byokit-api-config, byokit-usage') ?? []) el.refresh?.();
}

/** The client `configure` describes. */
export function defaultClient() {
  shared ??= new ByokitClient(defaults);
  return shared;
}

/**
 * Takes back, through the element's own setters, the properties set on it before it was defined:
 * a framework that renders before byokit/ui is loaded (Vue's `.prop`, Svelte's objects) sets plain
 * properties on the not yet upgraded element, which would hide its setters.
 */
export function upgradeProperties(el, names) {
  for (const name of names) {
    if (!Object.hasOwn(el, name)) continue;
    const value = el[name];
    delete el[name];
    el[name] = value;
  }
}

/**
 * What the elements extend: `HTMLElement` in a browser; elsewhere (a server rendering the page,
 * Node importing byokit/ui for its client and money helpers) a plain class, so that importing the
 * module works there and defines nothing.
 */
const ElementBase = globalThis.HTMLElement ?? class {};

/**
 * What both elements share: their REST client (`client`, or `base-url` with `getToken`, else
 * `configure()`'s), `locale` and `currency`, and their events (bubbling, composed).
 */
export class ByokitElement extends ElementBase {
  /**
   * The REST client: the one set on the element, or one made from its `base-url` attribute and
   * `getToken` function, else `configure()`'s.
   */
  get client() {
    if (this._client) return this._client;
    if (this.hasAttribute('base-url') || this._getToken) {
      this._client = new ByokitClient({ baseUrl: this.getAttribute('base-url') ?? '', getToken: this._getToken ?? (() => null) });
      return this._client;
    }
    return defaultClient();
  }
  set client(c) { this._client = c; this.refresh(); }
  /** A function returning the current bearer token (a JWT of the app's sign-in, or a user's token). */
  set getToken(f) { this._getToken = f; this._client = null; this.refresh(); }
  get getToken() { return this._getToken; }
  get locale() { return this.getAttribute('locale') ?? undefined; }
  get currency() { return this.getAttribute('currency') ?? 'USD'; }

  attributeChangedCallback(name, old, value) {
    if (name === 'base-url') this._client = null;
    if (this.isConnected && this._built && old !== value) this.refresh();
  }

  _emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}
