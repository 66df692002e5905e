// <byokit-usage>: the spec's "Settings > Account" usage page. A 7/30/90-day window; totals
// (requests, tokens, cost); by provider, feature and model; the cost per day as bars stacked by
// provider (uPlot); the shared key's month; the monthly budget and its alerts; a CSV export.
// Every amount shown is the API's decimal string, formatted, never recomputed in floats: the
// tables, totals and the chart's days split by provider all come from GET /api/settings/usage,
// each day's providers summed exactly (BigInt) and checked against the summary's total for it.
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css';
import { ByokitElement, upgradeProperties } from './client.js';
import { bar, baseCss, esc, providerName } from './theme.js';
import { formatMoney, formatCount, sumDecimals, drawingNumber, sameAmount } from './money.js';

const WINDOWS = [7, 30, 90];

const css = `${baseCss}${uplotCss}
.windows { display: inline-flex; gap: .35rem; margin-bottom: .75rem; }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 11rem), 1fr)); gap: .75rem; margin: .5rem 0 1rem; }
.total { background: var(--byokit-surface); border: 1px solid var(--byokit-border); border-radius: 8px; padding: .6rem .8rem; }
.total dt { color: var(--byokit-muted); font-size: .9em; }
.total dd { margin: 0; font-size: 1.35em; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-x: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr)); gap: 0 1.5rem; }
.chart { min-height: 240px; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .35rem 0; font-size: .9em; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .3em; vertical-align: -.05em; }
.u-axis { color: var(--byokit-muted); }
.toolbar { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5rem; align-items: center; }
.alerts li { margin: .2rem 0; }
form.budget { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-top: .5rem; }
form.budget label { display: grid; gap: .2rem; }
form.budget input { width: 9rem; }
#error:empty { display: none; }
`;

export class ByokitUsage extends ByokitElement {
  static observedAttributes = ['base-url', 'locale', 'currency', 'days', 'theme'];

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this._client = null;
    /** The last summary shown (GET /api/settings/usage), as the API gave it. */
    this.summary = null;
    /** The chart's data: `{days: [date], providers: [id], cost: {provider: [decimal string per day]}, dayTotals: [decimal string]}`. */
    this.chartData = null;
    this._plot = null;
    this._seq = 0;
  }

  /** The window in days (7, 30 or 90 in the picker; any 1–365 by the attribute). */
  get days() { return Number(this.getAttribute('days') ?? 30); }
  set days(n) { this.setAttribute('days', String(n)); }

  attributeChangedCallback(name, old, value) {
    // The theme changes the chart's colours only.
    if (name === 'theme') { if (this.chartData) this._renderChart(); return; }
    super.attributeChangedCallback(name, old, value);
  }

  connectedCallback() {
    upgradeProperties(this, ['client', 'getToken', 'days']);
    if (!this._built) this._build();
    this.refresh();
    this._resize ??= new ResizeObserver(() => this._sizePlot());
    this._resize.observe(this);
    // The chart's colours are read from the custom properties when it is drawn: draw it again
    // when the colour scheme changes.
    this._scheme ??= matchMedia('(prefers-color-scheme: dark)');
    this._onScheme ??= () => { if (this.chartData) this._renderChart(); };
    this._scheme.addEventListener('change', this._onScheme);
  }

  disconnectedCallback() {
    this._resize?.disconnect();
    this._resize = null;
    this._scheme?.removeEventListener('change', this._onScheme);
  }

  _build() {
    this._built = true;
    this.shadowRoot.innerHTML = `<style>${css}</style>
<section part="panel" aria-labelledby="title" aria-busy="true">
  <div class="toolbar">
    <h2 id="title" part="title">Usage</h2>
    <button type="button" id="export" part="button export">Export CSV</button>
  </div>
  <div class="windows" role="group" aria-label="Time range" part="windows">
    ${WINDOWS.map((d) => `<button type="button" data-days="${d}" aria-pressed="false">Last ${d} days</button>`).join('')}
  </div>
  <p id="error" class="error" role="alert"></p>
  <p id="announce" class="sr-only" aria-live="polite"></p>
  <dl class="totals" part="totals">
    <div class="total"><dt>Requests</dt><dd id="requests"></dd></div>
    <div class="total"><dt>Tokens</dt><dd id="tokens"></dd></div>
    <div class="total"><dt>Estimated cost</dt><dd id="cost"></dd></div>
  </dl>
  <h3 id="chart-title">Cost per day, by provider</h3>
  <div id="legend" class="legend" part="legend"></div>
  <div id="chart" class="chart" part="chart" role="img" aria-labelledby="chart-title" aria-describedby="chart-summary"></div>
  <p id="chart-summary" class="sr-only"></p>
  <details part="chart-table"><summary>The chart's data as a table</summary><div class="scroll" tabindex="0" aria-label="Cost per day, by provider"><table id="by-day"></table></div></details>
  <div class="grid">
    <div class="scroll" tabindex="0" aria-label="By provider"><table id="by-provider" part="table"></table></div>
    <div class="scroll" tabindex="0" aria-label="By feature"><table id="by-feature" part="table"></table></div>
  </div>
  <div class="scroll" tabindex="0" aria-label="By model"><table id="by-model" part="table"></table></div>
  <div class="grid">
    <div><h3 id="quota-title">Shared key this month</h3><div id="quota" part="quota"></div></div>
    <div><h3 id="budget-title">Monthly budget</h3><div id="budget" part="budget"></div>
      <form class="budget" id="budget-form" part="budget-form">
        <label>Limit (USD)<input id="limit" inputmode="decimal" pattern="\\d+(\\.\\d+)?" placeholder="25.00"></label>
        <label>Alerts at (%)<input id="thresholds" placeholder="50, 80, 100"></label>
        <label>When reached<select id="policy"><option value="block">Stop my own-key calls</option><option value="allow_and_alert">Keep going, alert me</option></select></label>
        <button type="submit">Set budget</button>
      </form>
      <p id="budget-said" role="status" aria-live="polite"></p>
    </div>
  </div>
  <h3 id="alerts-title">Budget alerts</h3>
  <ul id="alerts" class="alerts" part="alerts" aria-labelledby="alerts-title"></ul>
</section>`;
    const $ = (s) => this.shadowRoot.querySelector(s);
    this.shadowRoot.querySelectorAll('[data-days]').forEach((b) => b.addEventListener('click', () => { this.days = Number(b.dataset.days); }));
    $('#export').addEventListener('click', () => this.exportCsv());
    $('#budget-form').addEventListener('submit', (e) => { e.preventDefault(); this._setBudget(); });
  }

  /** Loads the window's summary, budget and alerts, and shows them. */
  async refresh() {
    if (!this._built) return;
    const seq = ++this._seq;
    const days = this.days;
    const section = this.shadowRoot.querySelector('section');
    section.setAttribute('aria-busy', 'true');
    this.shadowRoot.querySelectorAll('[data-days]').forEach((b) => b.setAttribute('aria-pressed', String(Number(b.dataset.days) === days)));
    try {
      const [summary, budget, alerts] = await Promise.all([
        this.client.usage(days),
        this.client.budget().catch(() => null),
        this.client.alerts().catch(() => []),
      ]);
      if (seq !== this._seq) return;
      this.summary = summary;
      this.chartData = this._chartData(summary);
      this._render(summary, budget, alerts);
      this.shadowRoot.querySelector('#error').textContent = '';
      this.shadowRoot.querySelector('#announce').textContent = `Usage for the last ${days} days loaded.`;
      this._emit('byokit-loaded', { days, summary });
    } catch (e) {
      if (seq !== this._seq) return;
      this.shadowRoot.querySelector('#error').textContent = `Usage could not be loaded: ${e.message}`;
      this._emit('byokit-error', e);
    } finally {
      if (seq === this._seq) section.setAttribute('aria-busy', 'false');
    }
  }

  /**
   * Cost per day and provider, as the summary gives them (`by_day[].by_provider`); each day's
   * providers are summed exactly and checked against the summary's total for that day.
   */
  _chartData(summary) {
    const days = summary.by_day.map((d) => d.date);
    const providers = Object.keys(summary.by_provider);
    const cost = Object.fromEntries(providers.map((p) => [p, summary.by_day.map((d) => d.by_provider[p]?.cost_usd ?? '0')]));
    const dayTotals = days.map((d, i) => sumDecimals(providers.map((p) => cost[p][i])));
    // The chart shows what the tables say, or says it cannot.
    const consistent = summary.by_day.every((d, i) => sameAmount(d.cost_usd, dayTotals[i]));
    return { days, providers, cost, dayTotals, consistent };
  }

  _money(v) { return `<data value="${esc(v)}">${esc(formatMoney(v, this.locale, this.currency))}</data>`; }
  _count(n) { return `<data value="${esc(n)}">${esc(formatCount(n, this.locale))}</data>`; }

  _table(id, caption, first, rows) {
    const t = this.shadowRoot.querySelector(id);
    t.innerHTML = `<caption>${esc(caption)}</caption><thead><tr><th scope="col">${esc(first)}</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Tokens</th><th scope="col" class="num">Cost</th></tr></thead>
      <tbody>${rows.length === 0 ? '<tr><td colspan="4" class="muted">No usage in this window.</td></tr>'
        : rows.map(([key, label, t]) => `<tr data-key="${esc(key)}"><th scope="row">${esc(label)}</th><td class="num">${this._count(t.requests)}</td><td class="num">${this._count(t.total_tokens)}</td><td class="num">${this._money(t.cost_usd)}</td></tr>`).join('')}</tbody>`;
  }

  _render(s, budget, alerts) {
    const $ = (q) => this.shadowRoot.querySelector(q);
    $('#requests').innerHTML = this._count(s.totals.requests);
    $('#tokens').innerHTML = this._count(s.totals.total_tokens);
    $('#cost').innerHTML = this._money(s.totals.cost_usd);
    const rows = (m, label) => Object.entries(m).map(([k, t]) => [k, label(k), t]);
    this._table('#by-provider', 'By provider', 'Provider', rows(s.by_provider, providerName));
    this._table('#by-feature', 'By feature', 'Feature', rows(s.by_feature, (f) => f.replace(/_/g, ' ')));
    this._table('#by-model', 'By model', 'Model', rows(s.by_model, (m) => m));
    this._renderChart();
    this._renderQuota(s.system_quota);
    this._renderBudget(budget ?? (s.budget ? { status: s.budget } : null), alerts);
  }

  _color(provider) {
    return getComputedStyle(this).getPropertyValue(`--byokit-provider-${provider}`).trim() || '#888';
  }

  _renderChart() {
    const d = this.chartData;
    const $ = (q) => this.shadowRoot.querySelector(q);
    const fmtDay = new Intl.DateTimeFormat(this.locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    $('#legend').innerHTML = d.providers.map((p) => `<span><span class="swatch" style="background:${esc(this._color(p))}"></span>${esc(providerName(p))}</span>`).join('');
    const total = this.summary.totals.cost_usd;
    $('#chart-summary').textContent = `Cost per day over the last ${d.days.length} days, stacked by provider (${d.providers.map(providerName).join(', ') || 'none'}); ${formatMoney(total, this.locale, this.currency)} in all. The table below has every figure.`;
    $('#by-day').innerHTML = `<caption>Cost per day, by provider${d.consistent ? '' : ' (the costs by provider do not add up to the day total)'}</caption>
      <thead><tr><th scope="col">Day</th>${d.providers.map((p) => `<th scope="col" class="num">${esc(providerName(p))}</th>`).join('')}<th scope="col" class="num">Total</th></tr></thead>
      <tbody>${d.days.map((day, i) => `<tr data-day="${day}"><th scope="row"><time datetime="${day}">${esc(fmtDay.format(new Date(`${day}T00:00:00Z`)))}</time></th>${d.providers.map((p) => `<td class="num" data-provider="${esc(p)}">${this._money(d.cost[p][i])}</td>`).join('')}<td class="num" data-total>${this._money(d.dayTotals[i])}</td></tr>`).join('')}</tbody>`;

    // Drawing only: each series is the running sum of the providers up to it (as numbers, for
    // the bars' heights), drawn tallest first so each provider's bar shows above the previous one.
    const xs = d.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
    const stacks = [];
    let running = d.days.map(() => 0);
    for (const p of d.providers) {
      running = running.map((v, i) => v + drawingNumber(d.cost[p][i]));
      stacks.push(running);
    }
    const order = d.providers.map((p, i) => i).reverse();
    const style = getComputedStyle(this);
    const axisColor = style.getPropertyValue('--byokit-muted').trim();
    const gridColor = style.getPropertyValue('--byokit-border').trim();
    // Axis ticks are positions on the drawing, not amounts of the data: formatted as numbers.
    const tick = new Intl.NumberFormat(this.locale, { style: 'currency', currency: this.currency, maximumSignificantDigits: 3 });
    const money = (v) => tick.format(v);
    const opts = {
      width: this._chartWidth(), height: 240, legend: { show: false }, cursor: { show: false }, select: { show: false },
      // Half a day of room on each side, so that the first and last days' bars are whole.
      scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, values: (u, ticks) => ticks.map((t) => fmtDay.format(new Date(t * 1000))) },
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: 70, values: (u, ticks) => ticks.map(money) },
      ],
      series: [{}, ...order.map((i) => ({
        label: providerName(d.providers[i]), fill: this._color(d.providers[i]), stroke: this._color(d.providers[i]), width: 0,
        paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false },
      }))],
    };
    const data = [xs, ...order.map((i) => stacks[i])];
    this._plot?.destroy();
    $('#chart').textContent = '';
    this._plot = new uPlot(opts, data, $('#chart'));
  }

  _chartWidth() { return Math.max(240, Math.floor(this.shadowRoot.querySelector('#chart')?.clientWidth || this.clientWidth - 40)); }
  _sizePlot() { if (this._plot) this._plot.setSize({ width: this._chartWidth(), height: 240 }); }

  _renderQuota(q) {
    const el = this.shadowRoot.querySelector('#quota');
    if (!q) { el.innerHTML = '<p class="muted">No shared key.</p>'; return; }
    el.innerHTML = `<p id="quota-text">${this._count(q.used_tokens)} of ${this._count(q.cap_tokens)} tokens used this month; ${this._count(q.left_tokens)} left.</p>${bar(q.used_tokens, q.cap_tokens, 'quota-text', { over: q.left_tokens === 0 })}`;
  }

  _renderBudget(b, alerts) {
    const el = this.shadowRoot.querySelector('#budget');
    if (!b?.status) {
      el.innerHTML = '<p class="muted">No budget set.</p>';
    } else {
      const s = b.status;
      // A percentage of the limit, for the bar's width only; the words carry the exact amounts.
      el.innerHTML = `<p id="budget-text">${this._money(s.spent_usd)} of ${this._money(s.limit_usd)} spent this month (${esc(s.percent_used)}%); ${this._money(s.remaining_usd)} left.
        ${s.exceeded ? `<strong class="error">Over budget: ${s.policy === 'block' ? 'calls with your own keys are stopped until next month.' : 'calls go on.'}</strong>` : ''}</p>
        ${bar(drawingNumber(s.percent_used), 100, 'budget-text', { over: s.exceeded })}`;
      if (b.budget) {
        const $ = (q) => this.shadowRoot.querySelector(q);
        if (!$('#limit').value) $('#limit').value = b.budget.monthly_limit_usd;
        if (!$('#thresholds').value) $('#thresholds').value = b.budget.alert_thresholds.join(', ');
        $('#policy').value = b.budget.policy;
      }
    }
    const list = this.shadowRoot.querySelector('#alerts');
    list.innerHTML = alerts.length === 0 ? '<li class="muted">No alerts.</li>' : alerts.map((a) => `<li data-threshold="${a.threshold_percent}">
      <strong>${a.threshold_percent}%</strong> of the ${esc(String(a.month.year))}-${String(a.month.month).padStart(2, '0')} budget reached: ${this._money(a.spent_usd)} of ${this._money(a.limit_usd)}.</li>`).join('');
  }

  async _setBudget() {
    const $ = (q) => this.shadowRoot.querySelector(q);
    const said = $('#budget-said');
    const limit = $('#limit').value.trim();
    if (!/^\d+(\.\d+)?$/.test(limit)) { said.textContent = 'The limit is an amount like 25.00.'; said.className = 'error'; return; }
    const thresholds = $('#thresholds').value.split(/[\s,]+/).filter(Boolean).map(Number);
    try {
      await this.client.setBudget({ monthly_limit_usd: limit, policy: $('#policy').value, alert_thresholds: thresholds });
      said.textContent = 'Budget saved.';
      said.className = 'ok';
      await this.refresh();
    } catch (e) {
      said.textContent = `Budget not saved: ${e.message}`;
      said.className = 'error';
    }
  }

  /** Downloads the window's usage as CSV (every call, for support or a spreadsheet). */
  async exportCsv() {
    const csv = await this.client.exportUsage(this.days, 'csv');
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `usage-last-${this.days}-days.csv`;
    this.shadowRoot.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return csv;
  }
}
