// The dashboard of the product spec's "Settings > Account" page, computed in the browser by the
// byokit package: each call's exact cost from its provider's own usage numbers.
import init, { estimateCost, summarize } from './byokit/web/byokit.js';

await init();

// A month of calls as an app would have logged them (token counts as each provider reported).
const calls = [];
const kinds = [
  ['openai', 'gpt-4o-mini', 'portfolio_chat', 1500, 400, 0],
  ['anthropic', 'claude-sonnet-4', 'resume_generation', 3200, 1200, 0],
  ['groq', 'openai/gpt-oss-120b', 'cover_letter', 2200, 800, 0],
  ['gemini', 'gemini-2.5-flash', 'job_matching', 4000, 600, 1000],
  ['openai', 'gpt-4o', 'ai_assistant', 2000, 300, 1536],
];
for (let i = 0; i < 120; i++) {
  const [provider, model, feature, input, output, cached] = kinds[i % kinds.length];
  calls.push({ provider, model, feature, inputTokens: input + i, outputTokens: output, cachedInputTokens: cached });
}

// Exact sums of decimal strings, in integer nano-dollars (9 decimals hold every price here).
const nano = (usd) => { const [w, f = ''] = usd.split('.'); return BigInt(w) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9)); };
// Shown to the hundredth of a cent, rounded half up; the exact sum stays in `total`.
const dollars = (n) => { const q = (n + 50_000n) / 100_000n; return `$${q / 10_000n}.${(q % 10_000n).toString().padStart(4, '0')}`; };

// Each call priced exactly, then the core's own summary over the last 30 days.
const now = new Date('2026-11-28T12:00:00Z');
let version = '';
const events = calls.map((c, i) => {
  const cost = estimateCost(c);
  version = cost.catalogVersion;
  return {
    at: new Date(now.getTime() - i * 5 * 3600 * 1000).toISOString(),
    provider: c.provider, model: cost.model, feature: c.feature, payer: 'user',
    usage: { inputTokens: c.inputTokens, outputTokens: c.outputTokens, cachedInputTokens: c.cachedInputTokens },
    costUsd: cost.costUsd, costStatus: cost.status,
  };
});
const summary = summarize(events, 30, now.toISOString());
const total = nano(summary.totals.costUsd);
const tokens = summary.totals.totalTokens;
const byProvider = new Map(Object.entries(summary.byProvider).map(([k, t]) => [k, { requests: t.requests, tokens: t.totalTokens, cost: nano(t.costUsd) }]));
const byFeature = new Map(Object.entries(summary.byFeature).map(([k, t]) => [k, { requests: t.requests, cost: nano(t.costUsd) }]));

document.getElementById('version').textContent = `prices: byokit catalog ${version}`;
document.getElementById('requests').textContent = summary.totals.requests;
document.getElementById('tokens').textContent = tokens.toLocaleString('en-US');
document.getElementById('cost').textContent = dollars(total);
const max = [...byProvider.values()].reduce((m, r) => (r.cost > m ? r.cost : m), 1n);
for (const [name, r] of byProvider) {
  const tr = document.createElement('tr');
  tr.innerHTML = `<td>${name}</td><td>${r.requests}</td><td>${r.tokens.toLocaleString('en-US')}</td><td>${dollars(r.cost)}</td>` +
    `<td><div class="bar" style="width:${Number((r.cost * 200n) / max)}px"></div></td>`;
  document.querySelector('#by-provider tbody').append(tr);
}
for (const [name, r] of byFeature) {
  const tr = document.createElement('tr');
  tr.innerHTML = `<td>${name}</td><td>${r.requests}</td><td>${dollars(r.cost)}</td>`;
  document.querySelector('#by-feature tbody').append(tr);
}
window.byokitTotalNano = total.toString();
window.byokitReady = true;
