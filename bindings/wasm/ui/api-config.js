// <byokit-api-config>: the spec's "Settings > API Configuration" page. Choose a provider (with the
// spec's advice), a model from the catalog with its prices, paste a key (its format checked as it
// is typed, by the core's own rule), test the connection, save; the saved keys masked with their
// dates, several per provider, each deletable; and whether calls use the user's key or the shared
// one, with what is left of the shared key's month.
import { ByokitApiError, ByokitElement, upgradeProperties } from './client.js';
import { bar, baseCss, esc, PROVIDERS, providerName } from './theme.js';
import { formatMoney, formatCount } from './money.js';

/** Each outcome of a connection test, in words. */
export const TEST_OUTCOMES = {
  valid: 'Valid: the key works.',
  invalid_key: 'Invalid key: the provider refused it. Check that it was copied whole and has not been revoked.',
  permission_denied: 'Permission denied: the key is not allowed to do this.',
  insufficient_credit: 'No credit: add credit or a payment method on your provider account.',
  rate_limited: 'Rate limited: too many requests just now. Try again in a minute.',
  overloaded: 'The provider is overloaded right now. Try again shortly.',
  server_error: 'The provider had an internal error. Try again later.',
  bad_request: 'The provider refused the request.',
  model_not_found: 'The model is not available to this key.',
  unreachable: 'Unreachable: the provider could not be reached.',
};

let wasm = null;
/** The package's own key check (`checkKey` from the WebAssembly build), loaded on first use. */
async function packageCheckKey(provider, key) {
  wasm ??= import('../web/byokit.js').then(async (m) => { await m.default(); return m; });
  (await wasm).checkKey(provider, key);
}

const css = `${baseCss}
fieldset { border: 0; padding: 0; margin: 0 0 .75rem; }
legend { font-weight: 600; margin-bottom: .35rem; }
.providers { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .5rem; }
.providers label { display: block; border: 1px solid var(--byokit-border); border-radius: 8px; padding: .55rem .7rem; cursor: pointer; }
.providers label:has(input:checked) { border-color: var(--byokit-accent); box-shadow: 0 0 0 1px var(--byokit-accent); }
.providers small { display: block; color: var(--byokit-muted); margin-top: .2rem; }
.field { display: grid; gap: .25rem; margin: .6rem 0; }
.field > span { font-weight: 600; }
#key { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; width: 100%; }
#model { width: 100%; }
.status { padding: .6rem .75rem; border-radius: 8px; background: var(--byokit-surface); border: 1px solid var(--byokit-border); }
#outcome:empty, #check:empty { display: none; }
#outcome { margin-top: .5rem; font-weight: 600; }
td .active { color: var(--byokit-ok); font-weight: 600; }
label.check { display: flex; gap: .5rem; align-items: flex-start; }
label.check input { margin-top: .3em; }
#keys code { overflow-wrap: anywhere; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

export class ByokitApiConfig extends ByokitElement {
  static observedAttributes = ['base-url', 'locale', 'currency'];

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this._baseUrls = {};
    this._client = null;
    this._checkKey = null;
    this._state = { config: null, catalog: null, quota: null };
    this._keyOk = false;
  }

  /** Base URLs to save with a provider's key (a proxy; a mock in tests), by provider. */
  get baseUrls() { return this._baseUrls; }
  set baseUrls(urls) {
    this._baseUrls = { ...(urls ?? {}) };
    if (this._built) this.shadowRoot.querySelector('#base').value = this._baseUrls[this.provider] ?? '';
  }

  /** The key-format check: `(provider, key) => void`, throwing an Error whose message says what is wrong. */
  set checkKey(f) { this._checkKey = f; }
  get checkKey() { return this._checkKey ?? packageCheckKey; }
  /** The provider chosen in the form. */
  get provider() { return this.shadowRoot.querySelector('input[name=provider]:checked')?.value ?? 'groq'; }

  connectedCallback() {
    upgradeProperties(this, ['client', 'getToken', 'baseUrls', 'checkKey']);
    if (!this._built) this._build();
    this.refresh();
  }

  _build() {
    this._built = true;
    const initial = this.getAttribute('provider') ?? 'groq';
    this.shadowRoot.innerHTML = `<style>${css}</style>
<section part="panel" aria-labelledby="title">
  <h2 id="title" part="title">API configuration</h2>
  <div id="using" class="status" part="status" role="status"></div>
  <form id="form" part="form" novalidate>
    <fieldset>
      <legend>Provider</legend>
      <div class="providers" part="providers">
        ${PROVIDERS.map((p) => `<label part="provider"><input type="radio" name="provider" value="${p.id}" ${p.id === initial ? 'checked' : ''}>
          <strong>${esc(p.name)}</strong><small>${esc(p.advice)}</small></label>`).join('')}
      </div>
    </fieldset>
    <label class="field"><span>Model</span><select id="model" part="model"></select></label>
    <label class="field"><span>API key</span>
      <input id="key" part="key" type="password" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="check keyhelp"></label>
    <p id="keyhelp" class="muted"></p>
    <p id="check" part="key-check" aria-live="polite"></p>
    <label class="check"><input type="checkbox" id="add"> <span>Keep this provider's other keys (calls rotate among them)</span></label>
    <details part="advanced"><summary>Advanced</summary>
      <label class="field"><span>Base URL (a proxy; empty for the provider's own)</span><input id="base" type="url" spellcheck="false"></label>
    </details>
    <div class="row" style="margin-top:.75rem">
      <button type="button" id="test" part="button test">Test connection</button>
      <button type="submit" id="save" class="primary" part="button save">Save configuration</button>
    </div>
    <p id="outcome" part="outcome" role="status" aria-live="polite" aria-atomic="true"></p>
  </form>
  <h3 id="saved-title">Saved keys</h3>
  <div class="scroll" tabindex="0" aria-label="Saved keys"><table id="keys" part="keys" aria-labelledby="saved-title">
    <thead><tr><th scope="col">Provider and model</th><th scope="col">Key</th><th scope="col">Saved</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody></tbody></table></div>
  <p class="row" style="margin-top:.75rem"><button type="button" id="delete-all" part="button delete-all">Delete all keys</button></p>
</section>`;
    const $ = (s) => this.shadowRoot.querySelector(s);
    this.shadowRoot.querySelectorAll('input[name=provider]').forEach((r) => r.addEventListener('change', () => this._providerChanged()));
    $('#key').addEventListener('input', () => this._check());
    $('#form').addEventListener('submit', (e) => { e.preventDefault(); this._save(); });
    $('#test').addEventListener('click', () => this.test());
    $('#delete-all').addEventListener('click', () => this.deleteAll());
    $('#keys').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      if (!b) return;
      if (b.dataset.action === 'delete') this.delete({ keyId: b.dataset.key });
      else this.test(b.dataset.provider);
    });
    this._providerChanged();
  }

  _providerChanged() {
    const p = PROVIDERS.find((x) => x.id === this.provider);
    const $ = (s) => this.shadowRoot.querySelector(s);
    $('#keyhelp').textContent = `${p.name} keys look like ${p.keyHint}; get one at ${p.signup}.`;
    $('#base').value = this._baseUrls[p.id] ?? '';
    this._renderModels();
    this._check();
  }

  /** Reloads the saved keys, the catalog (once) and the shared key's month. */
  async refresh() {
    if (!this._built) return;
    try {
      const [config, usage, catalog] = await Promise.all([
        this.client.getConfig(),
        this.client.usage(1).catch(() => null),
        this._state.catalog ? this._state.catalog : this.client.catalog().catch(() => ({ models: [] })),
      ]);
      this._state = { config, catalog, quota: usage?.system_quota ?? null };
      this._renderModels();
      this._renderUsing();
      this._renderKeys();
      this._emit('byokit-loaded', { config });
    } catch (e) {
      this._say(this._errorWords(e), 'error');
      this._emit('byokit-error', e);
    }
  }

  _renderModels() {
    const select = this.shadowRoot.querySelector('#model');
    // Retired models (`deprecated` in the catalog, kept there to price old calls) are not offered.
    const models = (this._state.catalog?.models ?? []).filter((m) => m.provider === this.provider && !m.deprecated);
    // The price a call made today is priced at, as the API says (`price_today`).
    const price = (m) => {
      const p = m.price_today;
      if (!p) return '';
      const f = (v) => formatMoney(v, this.locale, this.currency);
      return ` — ${f(p.input)}/M input, ${f(p.output)}/M output`;
    };
    const before = select.value;
    select.innerHTML = `<option value="">The provider's default model</option>${models.map((m) =>
      `<option value="${esc(m.id)}">${esc(m.id)}${esc(price(m))}</option>`).join('')}`;
    if (models.some((m) => m.id === before)) select.value = before;
  }

  _renderUsing() {
    const el = this.shadowRoot.querySelector('#using');
    const active = this._state.config?.active;
    const q = this._state.quota;
    if (active) {
      el.innerHTML = `Using your own ${esc(providerName(active.provider))} key <code>${esc(active.api_key)}</code>${active.model ? `, model ${esc(active.model)}` : ''}.`;
    } else if (q) {
      el.innerHTML = `<span id="quota-text">Using the shared key: <data value="${q.used_tokens}">${esc(formatCount(q.used_tokens, this.locale))}</data> of <data value="${q.cap_tokens}">${esc(formatCount(q.cap_tokens, this.locale))}</data> tokens this month.</span>
        ${bar(q.used_tokens, q.cap_tokens, 'quota-text', { over: q.left_tokens === 0, part: 'quota-bar' })}
        ${q.left_tokens === 0 ? '<p class="error">The shared key\'s monthly limit is reached: add your own key to continue.</p>' : ''}`;
    } else {
      el.textContent = 'No key yet: add one below to use the AI features.';
    }
  }

  _renderKeys() {
    const tbody = this.shadowRoot.querySelector('#keys tbody');
    const configs = this._state.config?.configs ?? [];
    const active = this._state.config?.active;
    const date = new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium' });
    tbody.innerHTML = configs.length === 0
      ? '<tr><td colspan="4" class="muted">No saved keys.</td></tr>'
      : configs.map((c) => `<tr data-key-id="${esc(c.key_id)}" data-provider="${esc(c.provider)}">
        <td>${esc(providerName(c.provider))}<br><small class="muted">${esc(c.model ?? 'default model')}</small></td>
        <td><code class="masked">${esc(c.api_key)}</code><br>${c.is_active ? '<small class="active">Active</small>' : c.provider === active?.provider ? '<small class="muted">In rotation</small>' : '<small class="muted">Not in use</small>'}</td>
        <td><time datetime="${esc(c.saved_at)}">${esc(date.format(new Date(c.saved_at)))}</time></td>
        <td class="row"><button type="button" data-action="test" data-provider="${esc(c.provider)}" aria-label="Test the ${esc(providerName(c.provider))} key ${esc(c.api_key)}">Test</button>
          <button type="button" data-action="delete" data-key="${esc(c.key_id)}" aria-label="Delete the ${esc(providerName(c.provider))} key ${esc(c.api_key)}">Delete</button></td></tr>`).join('');
    this.shadowRoot.querySelector('#delete-all').disabled = configs.length === 0;
  }

  /** Checks the typed key's format; true when it fits the chosen provider. */
  async _check() {
    const key = this.shadowRoot.querySelector('#key').value;
    const out = this.shadowRoot.querySelector('#check');
    const provider = this.provider;
    if (!key) {
      out.textContent = '';
      out.className = '';
      this.shadowRoot.querySelector('#key').removeAttribute('aria-invalid');
      this._keyOk = false;
      return false;
    }
    try {
      await this.checkKey(provider, key);
      if (key !== this.shadowRoot.querySelector('#key').value || provider !== this.provider) return this._keyOk;
      out.textContent = `✓ The format of a ${providerName(provider)} key.`;
      out.className = 'ok';
      this._keyOk = true;
    } catch (e) {
      if (key !== this.shadowRoot.querySelector('#key').value || provider !== this.provider) return this._keyOk;
      out.textContent = `✗ ${e.message}`;
      out.className = 'error';
      this._keyOk = false;
    }
    this.shadowRoot.querySelector('#key').setAttribute('aria-invalid', String(!this._keyOk));
    return this._keyOk;
  }

  async _save() {
    const $ = (s) => this.shadowRoot.querySelector(s);
    const provider = this.provider;
    const key = $('#key').value;
    if (!key) { this._say('Paste an API key first.', 'error'); $('#key').focus(); return; }
    if (!(await this._check())) {
      this._say(`Not saved: ${$('#check').textContent.replace(/^✗ /, '')}`, 'error');
      $('#key').focus();
      return;
    }
    const body = { provider, api_key: key, add: $('#add').checked };
    if ($('#model').value) body.model = $('#model').value;
    if ($('#base').value.trim()) body.base_url = $('#base').value.trim();
    $('#save').disabled = true;
    try {
      const saved = await this.client.saveConfig(body);
      $('#key').value = '';
      await this._check();
      await this.refresh();
      this._say(`Saved: your ${providerName(provider)} key is stored and active.`, 'ok');
      this._emit('byokit-saved', { provider, config: saved });
    } catch (e) {
      this._say(`Not saved: ${this._errorWords(e)}`, 'error');
      this._emit('byokit-error', e);
    } finally {
      $('#save').disabled = false;
    }
  }

  /**
   * Tests the key typed in the form, before it is saved (it is sent for the test, never stored),
   * or else `provider`'s stored key (the chosen provider's by default); resolves with the outcome.
   */
  async test(provider = this.provider) {
    const $ = (s) => this.shadowRoot.querySelector(s);
    const typed = $('#key').value;
    let target = provider;
    if (typed && provider === this.provider) {
      if (!(await this._check())) {
        this._say(`Not tested: ${$('#check').textContent.replace(/^✗ /, '')}`, 'error');
        $('#key').focus();
        return null;
      }
      target = { provider, api_key: typed };
      if ($('#base').value.trim()) target.base_url = $('#base').value.trim();
    }
    this._say(`Testing the ${providerName(provider)} key…`, 'muted');
    try {
      const r = await this.client.testConfig(target);
      const words = TEST_OUTCOMES[r.outcome] ?? r.outcome;
      const extra = r.outcome === 'valid' && r.models?.length ? ` ${r.models.length} models reachable.` : r.message ? ` (${r.message})` : '';
      this._say(`${providerName(r.provider)}: ${words}${extra}`, r.outcome === 'valid' ? 'ok' : 'error', r.outcome);
      this._emit('byokit-tested', r);
      return r;
    } catch (e) {
      const words = e.kind === 'not_found' ? `No saved ${providerName(provider)} key to test.` : this._errorWords(e);
      this._say(words, 'error', e.kind);
      this._emit('byokit-error', e);
      return null;
    }
  }

  /** Deletes one key (`{keyId}`) or a provider's keys (`{provider}`); usage history is kept. */
  async delete(target) {
    return this._delete([target]);
  }

  /**
   * Deletes every saved key, provider by provider (a DELETE without a target removes only the
   * active configuration on byokd); usage history is kept.
   */
  async deleteAll() {
    const providers = [...new Set((this._state.config?.configs ?? []).map((c) => c.provider))];
    return this._delete(providers.map((provider) => ({ provider })));
  }

  async _delete(targets) {
    try {
      let deleted = 0;
      for (const t of targets) deleted += (await this.client.deleteConfig(t))?.deleted ?? 0;
      await this.refresh();
      this._say(`Deleted ${deleted} key${deleted === 1 ? '' : 's'}. Your usage history is kept.`, 'ok');
      this._emit('byokit-deleted', { targets, deleted });
    } catch (e) {
      this._say(this._errorWords(e), 'error');
      this._emit('byokit-error', e);
    }
  }

  _say(text, tone, outcome = '') {
    const el = this.shadowRoot.querySelector('#outcome');
    el.textContent = text;
    el.className = tone;
    el.dataset.outcome = outcome;
  }

  _errorWords(e) {
    if (!(e instanceof ByokitApiError)) return e.message;
    const kind = { unauthorized: 'Not signed in, or the session expired.', rate_limited: 'Too many requests; try again in a moment.', unreachable: 'The server could not be reached.' }[e.kind];
    return kind ?? e.message;
  }
}
