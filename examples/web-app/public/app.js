// The settings page: sign in to the app, point byokit/ui at byokd with the app's JWT, and wire
// the AI feature buttons and the tabs.
import { configure, TEST_OUTCOMES } from 'byokit/ui';
import { signIn } from './session.js';

const session = await signIn();
document.querySelector('#who').textContent = `Signed in as ${session.user}`;
const config = document.querySelector('byokit-api-config');
const usage = document.querySelector('byokit-usage');
config.baseUrls = session.baseUrls;
configure({ baseUrl: session.byokd, getToken: session.getToken });

// Tabs: click, or the arrow keys between them.
const tabs = [...document.querySelectorAll('[role=tab]')];
function select(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
  }
  tab.focus();
  (tab.id === 'tab-usage' ? usage : config).refresh();
}
for (const t of tabs) {
  t.addEventListener('click', () => select(t));
  t.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(t);
    if (e.key === 'ArrowRight') select(tabs[(i + 1) % tabs.length]);
    if (e.key === 'ArrowLeft') select(tabs[(i + tabs.length - 1) % tabs.length]);
  });
}

document.querySelector('#theme').addEventListener('change', (e) => {
  const theme = e.target.value;
  for (const el of [document.documentElement, config, usage]) {
    if (el === document.documentElement) theme ? el.setAttribute('data-theme', theme) : el.removeAttribute('data-theme');
    else theme ? el.setAttribute('theme', theme) : el.removeAttribute('theme');
  }
});

// What byokd's /v1 errors mean, in words: byokd's own kind (`error.byokit.kind`), which tells
// apart what OpenAI's codes do not (no credit, the shared key's month, a spent budget).
const WORDS = {
  ...TEST_OUTCOMES,
  no_key: 'No key: add your own API key in API Configuration.',
  system_cap_reached: 'The shared key\'s tokens for this month are used up: add your own API key in API Configuration.',
  budget_reached: 'Your monthly budget is spent: raise it in Account, or wait for next month.',
  malformed_reply: 'The provider answered with something it should not have. Try again later.',
  unauthorized: 'Not signed in.',
};

const result = document.querySelector('#result');
for (const b of document.querySelectorAll('[data-feature]')) {
  b.addEventListener('click', async () => {
    result.className = '';
    result.textContent = `${b.textContent}…`;
    const r = await fetch(`/api/ai/${b.dataset.feature}`, { method: 'POST', headers: { authorization: `Bearer ${await session.getToken()}` }, body: JSON.stringify({ text: 'Hello' }) });
    const body = await r.json();
    if (r.ok) {
      result.dataset.outcome = 'ok';
      result.textContent = `${b.textContent}: answered by ${body.provider} (${body.payer === 'system' ? 'shared key' : 'your key'}), cost $${body.cost_usd}.`;
    } else {
      result.dataset.outcome = body.error.kind;
      result.className = 'error';
      result.textContent = `${b.textContent} failed: ${WORDS[body.error.kind] ?? body.error.message}`;
      result.title = body.error.message;
    }
    config.refresh();
  });
}
