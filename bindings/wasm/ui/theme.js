// The look both elements share: every colour a CSS custom property (set them on the element or
// any ancestor), light by default, dark under `prefers-color-scheme: dark`, and either forced by
// the `theme="light|dark"` attribute.

const LIGHT = `
  --byokit-bg: #ffffff; --byokit-fg: #1a1d23; --byokit-muted: #5a6270; --byokit-border: #d5d9e0;
  --byokit-surface: #f5f7fa; --byokit-accent: #1f5fd1; --byokit-accent-fg: #ffffff;
  --byokit-ok: #1b7a3d; --byokit-warn: #8a5a00; --byokit-error: #b42318; --byokit-focus: #1f5fd1;
  --byokit-provider-openai: #10a37f; --byokit-provider-anthropic: #c2410c; --byokit-provider-groq: #7c3aed;
  --byokit-provider-gemini: #2563eb; --byokit-provider-mistral: #d97706; --byokit-provider-system: #64748b;`;
const DARK = `
  --byokit-bg: #15181e; --byokit-fg: #e8eaee; --byokit-muted: #a3abb8; --byokit-border: #3a404b;
  --byokit-surface: #1e222a; --byokit-accent: #7aa7ff; --byokit-accent-fg: #0d1117;
  --byokit-ok: #5fd38d; --byokit-warn: #f2c14e; --byokit-error: #ff8a80; --byokit-focus: #7aa7ff;
  --byokit-provider-openai: #34d3a6; --byokit-provider-anthropic: #fb923c; --byokit-provider-groq: #b69cff;
  --byokit-provider-gemini: #7fb0ff; --byokit-provider-mistral: #fbbf24; --byokit-provider-system: #a3b1c6;`;

export const baseCss = `
:host { ${LIGHT} display: block; color: var(--byokit-fg); background: var(--byokit-bg);
  font: var(--byokit-font, 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  border: 1px solid var(--byokit-border); border-radius: var(--byokit-radius, 10px);
  padding: var(--byokit-padding, 1.25rem); box-sizing: border-box; }
@media (prefers-color-scheme: dark) { :host(:not([theme="light"])) { ${DARK} } }
:host([theme="dark"]) { ${DARK} }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
h2 { font-size: 1.3em; margin: 0 0 .75rem; }
h3 { font-size: 1.05em; margin: 1.25rem 0 .5rem; }
p { margin: .4rem 0; }
.muted { color: var(--byokit-muted); }
.ok { color: var(--byokit-ok); } .warn { color: var(--byokit-warn); } .error { color: var(--byokit-error); }
button { font: inherit; padding: .45rem .9rem; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--byokit-border); background: var(--byokit-surface); color: var(--byokit-fg); }
button.primary { background: var(--byokit-accent); color: var(--byokit-accent-fg); border-color: var(--byokit-accent); }
button[aria-pressed="true"] { background: var(--byokit-accent); color: var(--byokit-accent-fg); border-color: var(--byokit-accent); }
button:disabled { opacity: .55; cursor: not-allowed; }
input, select { font: inherit; color: var(--byokit-fg); background: var(--byokit-bg);
  border: 1px solid var(--byokit-border); border-radius: 6px; padding: .4rem .55rem; max-width: 100%; }
:focus-visible { outline: 3px solid var(--byokit-focus); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--byokit-border); }
th.num, td.num { text-align: right; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.bar { height: .7rem; border-radius: 4px; background: var(--byokit-surface); border: 1px solid var(--byokit-border); overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--byokit-accent); }
.bar.over > span { background: var(--byokit-error); }
.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
@media (max-width: 30rem) {
  :host { padding: var(--byokit-padding, .75rem); font-size: .95em; }
  th, td { padding: .3rem .25rem; }
  table { font-size: .85em; }
}
td.num { white-space: nowrap; }
th[scope="row"] { overflow-wrap: anywhere; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** Escapes text for HTML. */
export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** The providers, as the spec presents them, with its advice. */
export const PROVIDERS = [
  { id: 'groq', name: 'Groq', advice: 'Recommended: a free tier (7,000 requests a day, 60 a minute), no payment method needed; very fast.', keyHint: 'gsk_…', signup: 'https://console.groq.com' },
  { id: 'openai', name: 'OpenAI', advice: 'Needs a payment method on your OpenAI account.', keyHint: 'sk-…', signup: 'https://platform.openai.com/api-keys' },
  { id: 'anthropic', name: 'Anthropic Claude', advice: 'Needs a payment method on your Anthropic account.', keyHint: 'sk-ant-…', signup: 'https://console.anthropic.com' },
  { id: 'gemini', name: 'Google Gemini', advice: 'A free tier with lower limits; a billing account for more.', keyHint: 'AIza…', signup: 'https://aistudio.google.com/apikey' },
  { id: 'mistral', name: 'Mistral', advice: 'A free experimentation tier; a payment method for production use.', keyHint: '32 letters and digits', signup: 'https://console.mistral.ai' },
];

export const providerName = (id) => PROVIDERS.find((p) => p.id === id)?.name ?? (id === 'system' ? 'Shared key' : id);

/**
 * A meter bar of `value` out of `max` (numbers, for drawing only: the words beside it carry the
 * exact figures), labelled by the element `labelId`; `over` (the API's own flag: no tokens left,
 * a budget exceeded) colours it.
 */
export function bar(value, max, labelId, { over = false, part = '' } = {}) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 100;
  return `<div class="bar ${over ? 'over' : ''}" role="meter" aria-labelledby="${labelId}" aria-valuemin="0" aria-valuemax="${max}" aria-valuenow="${Math.min(value, max)}"${part ? ` part="${part}"` : ''}><span style="width:${pct}%"></span></div>`;
}
