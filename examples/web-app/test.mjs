// The spec's settings pages in headless Chromium, against a real byokd, the mock provider and the
// example app, all on 127.0.0.1: the whole flow by clicks and keys, every figure of the usage page
// checked against the REST API's own summary to the last digit, axe-core on both pages, and
// screenshots at desktop and phone widths, light and dark, in $BYOKIT_ARTIFACTS.
// Run by scripts/test-web-app.sh, which gives BYOKD, BYOKIT_MOCK, BYOKIT_FIXTURES, BYOKIT_PACKAGE_DIR,
// AXE_PATH.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { DaemonClient } from 'byokit/daemon';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.BYOKIT_ARTIFACTS;
const dir = mkdtempSync(join(tmpdir(), 'byokit-web-app-'));
const children = [];
const alnum = (n) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 62]).join('');
const KEYS = {
  groq: `gsk_${alnum(52)}`,
  openai: `sk-proj-${alnum(64)}`,
  anthropic: `sk-ant-api03-${alnum(95)}`,
  mistral: alnum(32),
};
let app; let byokd; let mock; let browser; let page; let jwt; let baseUrls;
const pageErrors = [];

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

function start(cmd, args, env, ready) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = out.match(ready); if (m) resolve(m); });
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  throw new Error(`${url} did not come up`);
}

/** The REST API as the test sees it: the same user, the same JWT as the page (alice's by default). */
async function api(path, token = jwt) {
  const r = await fetch(`${byokd}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
}

/** A decimal string without trailing zeros, exactly ("0.10" → "0.1", "2" → "2"). */
function canonical(s) {
  const [i, f = ''] = String(s).split('.');
  const frac = f.replace(/0+$/, '');
  return `${i.replace(/^0+(?=\d)/, '')}${frac ? `.${frac}` : ''}`;
}
/** The exact sum of decimal strings (BigInt). */
function sum(values) {
  const scale = Math.max(0, ...values.map((v) => (String(v).split('.')[1] ?? '').length));
  const total = values.reduce((t, v) => { const [i, f = ''] = String(v).split('.'); return t + BigInt(i + f.padEnd(scale, '0')); }, 0n);
  const digits = total.toString().padStart(scale + 1, '0');
  return canonical(scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits);
}
/** The amount a formatted "$1,234.5600" shows, as a decimal string (en-US). */
const shown = (text) => canonical(text.replace(/[^\d.]/g, ''));

before(async () => {
  mock = (await start(process.env.BYOKIT_MOCK, ['--listen', '127.0.0.1:0', '--fixtures', process.env.BYOKIT_FIXTURES], {},
    /listening on (\S+)/))[1];
  const [appPort, byokdPort] = [await freePort(), await freePort()];
  app = `http://127.0.0.1:${appPort}`;
  byokd = `http://127.0.0.1:${byokdPort}`;
  writeFileSync(join(dir, 'service-token'), randomBytes(32).toString('hex'));
  baseUrls = { openai: `${mock}/openai/v1`, anthropic: `${mock}/anthropic/v1`, groq: `${mock}/groq/openai/v1`, gemini: `${mock}/gemini/v1beta`, mistral: `${mock}/mistral/v1` };
  await start('node', [join(here, 'server.mjs')], {
    BYOKIT_SERVICE_TOKEN_FILE: join(dir, 'service-token'), PORT: String(appPort), BYOKD_URL: byokd, APP_ISSUER: app,
    PROVIDER_BASE_URLS: JSON.stringify(baseUrls),
  }, /listening/);
  // The shared system key: Anthropic's, served by the mock.
  const child = spawn(process.env.BYOKD, [
    '--data-dir', join(dir, 'data'), '--socket', join(dir, 'byokd.sock'), '--http', `127.0.0.1:${byokdPort}`,
    '--service-token-file', join(dir, 'service-token'), '--jwt-jwks', `${app}/.well-known/jwks.json`, '--jwt-issuer', app,
    '--jwt-audience', 'byokit-web-app', '--cors-origin', app, '--rest-rate-limit', '100000',
    '--system-base-url', `${mock}/anthropic/v1`, '--log-level', 'warn',
  ], { env: { ...process.env, ANTHROPIC_API_KEY: `sk-ant-api03-${alnum(95)}` }, stdio: 'inherit' });
  children.push(child);
  await waitFor(`${byokd}/openapi.json`);
  jwt = (await (await fetch(`${app}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'alice' }) })).json()).token;
  await seedHistory('alice');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(10000);
  await page.goto(`${app}/?user=alice`);
});

/**
 * A user's earlier months, recorded through byokd's socket as an app would backfill them
 * (`usage.record` with the time of each call), so that the 7-, 30- and 90-day windows differ
 * and the chart has days to stack.
 */
async function seedHistory(user) {
  const catalog = await api('/api/catalog');
  const model = (provider) => catalog.models.find((m) => m.provider === provider && !m.deprecated && m.prices?.length).id;
  const features = ['portfolio_chat', 'resume_generation', 'cover_letter', 'assistant', 'job_matching'];
  const providers = ['groq', 'openai', 'gemini', 'mistral', 'openai', 'groq'];
  const daemon = await DaemonClient.connect(join(dir, 'byokd.sock'));
  try {
    for (const [i, daysAgo] of [2, 3, 3, 5, 9, 14, 21, 21, 33, 47, 58, 71, 86].entries()) {
      const provider = providers[i % providers.length];
      await daemon.usageRecord({
        user, provider, model: model(provider), feature: features[i % features.length],
        usage: { inputTokens: 3000 + 1700 * i, outputTokens: 400 + 230 * i },
        at: new Date(Date.now() - daysAgo * 86400000 - i * 60000).toISOString(),
      });
    }
  } finally {
    daemon.close();
  }
}

after(async () => {
  await browser?.close();
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

const cfg = (sel) => page.locator(`byokit-api-config ${sel}`);
const use = (sel) => page.locator(`byokit-usage ${sel}`);
const outcome = () => cfg('#outcome');
/** A locator's text with its white space collapsed. */
const words = async (loc) => (await loc.textContent()).replace(/\s+/g, ' ').trim();

async function feature(name, expect) {
  await page.click(`[data-feature=${name}]`);
  await page.waitForFunction(() => !document.querySelector('#result').textContent.endsWith('…'));
  const text = await page.textContent('#result');
  if (expect) assert.match(text, expect, text);
  return text;
}

async function tab(name) {
  await page.click(name === 'usage' ? '#tab-usage' : '#tab-config');
}

/** Waits for the usage page to show `days`, then checks every figure against the REST API. */
async function checkUsage(days) {
  await use(`[data-days="${days}"]`).click();
  await page.waitForFunction((d) => {
    const el = document.querySelector('byokit-usage');
    return el.summary?.window.days === d && el.shadowRoot.querySelector('section').getAttribute('aria-busy') === 'false';
  }, days);
  assert.equal(await use(`[data-days="${days}"]`).getAttribute('aria-pressed'), 'true');
  assert.equal(await use('#error').textContent(), '', 'the usage page loaded');
  const s = await api(`/api/settings/usage?days=${days}`);
  // Totals: the values, and the figures as shown.
  assert.equal(await use('#requests data').getAttribute('value'), String(s.totals.requests));
  assert.equal(await use('#requests').textContent(), s.totals.requests.toLocaleString('en-US'));
  assert.equal(await use('#tokens data').getAttribute('value'), String(s.totals.total_tokens));
  assert.equal(await use('#tokens').textContent(), s.totals.total_tokens.toLocaleString('en-US'));
  assert.equal(await use('#cost data').getAttribute('value'), s.totals.cost_usd);
  assert.equal(shown(await use('#cost').textContent()), canonical(s.totals.cost_usd), 'every digit of the cost shown');
  // The tables: one row per key of the summary, each figure equal.
  for (const [id, map] of [['#by-provider', s.by_provider], ['#by-feature', s.by_feature], ['#by-model', s.by_model]]) {
    const rows = await use(`${id} tbody tr[data-key]`).evaluateAll((trs) => trs.map((tr) => ({
      key: tr.dataset.key, values: [...tr.querySelectorAll('data')].map((d) => d.value), text: [...tr.querySelectorAll('td')].map((td) => td.textContent),
    })));
    assert.deepEqual(rows.map((r) => r.key).sort(), Object.keys(map).sort(), `${id} rows`);
    for (const r of rows) {
      const t = map[r.key];
      assert.deepEqual(r.values, [String(t.requests), String(t.total_tokens), t.cost_usd], `${id} ${r.key}`);
      assert.equal(shown(r.text[2]), canonical(t.cost_usd), `${id} ${r.key} cost shown`);
    }
  }
  // The chart's data: each day's stack is the summary's total for that day, each provider's
  // days add up to its total, and the chart's table shows the same.
  const chart = await page.evaluate(() => document.querySelector('byokit-usage').chartData);
  // Every UTC day the window touches (days + 1 when it ends after midnight), as the summary has them.
  assert.deepEqual(chart.days, s.by_day.map((d) => d.date));
  assert.ok(chart.days.length === days || chart.days.length === days + 1, `${chart.days.length} days`);
  assert.equal(chart.consistent, true);
  const byDay = Object.fromEntries(s.by_day.map((d) => [d.date, d.cost_usd]));
  const dayParts = Object.fromEntries(s.by_day.map((d) => [d.date, d.by_provider]));
  chart.days.forEach((day, i) => {
    assert.equal(canonical(chart.dayTotals[i]), canonical(byDay[day] ?? '0'), `day ${day}`);
    // Each bar's part is the summary's own figure for that day and provider, every digit.
    for (const p of chart.providers) assert.equal(chart.cost[p][i], dayParts[day]?.[p]?.cost_usd ?? '0', `day ${day} ${p}`);
    assert.equal(sum(chart.providers.map((p) => chart.cost[p][i])), canonical(chart.dayTotals[i]));
  });
  assert.deepEqual([...chart.providers].sort(), Object.keys(s.by_provider).sort());
  for (const p of chart.providers) assert.equal(sum(chart.cost[p]), canonical(s.by_provider[p].cost_usd), `chart ${p}`);
  assert.equal(sum(chart.dayTotals), canonical(s.totals.cost_usd));
  const cells = await use('#by-day td[data-total] data').evaluateAll((ds) => ds.map((d) => d.value));
  assert.deepEqual(cells, chart.dayTotals);
  // What uPlot draws: the top of each day's stack is that day's total, as a number.
  const drawn = await page.evaluate(() => { const p = document.querySelector('byokit-usage')._plot; return { series: p.series.length, top: p.data[1] }; });
  assert.equal(drawn.series, chart.providers.length + 1);
  drawn.top.forEach((v, i) => assert.equal(v.toPrecision(12), Number(chart.dayTotals[i]).toPrecision(12)));
  assert.equal(await use('#chart canvas').count(), 1);
  // The shared key's month.
  assert.equal(await use('#quota data').first().getAttribute('value'), String(s.system_quota.used_tokens));
  return s;
}

async function axe(label) {
  await page.addScriptTag({ path: process.env.AXE_PATH });
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${label}`);
  return r.violations.length;
}

async function screenshots(stage) {
  const shots = [];
  for (const [width, height, device] of [[1280, 900, 'desktop'], [390, 844, 'phone']]) {
    for (const scheme of ['light', 'dark']) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: scheme });
      for (const t of ['config', 'usage']) {
        await tab(t);
        if (t === 'usage') await page.waitForFunction(() => document.querySelector('byokit-usage').shadowRoot.querySelector('section').getAttribute('aria-busy') === 'false');
        await page.waitForTimeout(150);
        await axe(`${t} (${device}, ${scheme})`);
        const file = join(artifacts, `${t === 'config' ? 'api-configuration' : 'usage'}-${device}-${scheme}${stage}.png`);
        await page.screenshot({ path: file, fullPage: true });
        shots.push(file);
      }
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });
  return shots;
}

test('the spec\'s whole flow, by clicks and keys, and the usage page equals the REST API to the last digit', async () => {
  // Before any key of her own, calls use the shared key, and the page says how much is left.
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#using')?.textContent.includes('shared key'));
  assert.match(await words(cfg('#using')), /Using the shared key: 0 of 1,000,000 tokens this month/);
  await feature('portfolio_chat', /answered by anthropic \(shared key\)/);
  await page.waitForFunction(() => !document.querySelector('byokit-api-config').shadowRoot.querySelector('#using data').textContent.startsWith('0'));
  const quota = (await api('/api/settings/usage?days=1')).system_quota;
  assert.ok(quota.used_tokens > 0);
  assert.equal(await cfg('#using data').first().textContent(), quota.used_tokens.toLocaleString('en-US'));

  // Choose Groq: the spec's advice, and the catalog's models with their prices.
  await cfg('input[value=groq]').check();
  assert.match(await cfg('label:has(input[value=groq])').textContent(), /free tier/);
  assert.match(await cfg('label:has(input[value=openai])').textContent(), /payment method/);
  const catalog = await api('/api/catalog');
  const groqModel = catalog.models.find((m) => m.provider === 'groq' && m.price_today);
  const price = groqModel.price_today;
  const option = await cfg(`#model option[value="${groqModel.id}"]`).textContent();
  const usd = (v) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: Math.max(2, canonical(v).split('.')[1]?.length ?? 0) }).format(v);
  assert.equal(option, `${groqModel.id} — ${usd(price.input)}/M input, ${usd(price.output)}/M output`);
  await cfg('#model').selectOption(groqModel.id);
  const offered = await cfg('#model option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(offered, catalog.models.filter((m) => m.provider === 'groq' && !m.deprecated).map((m) => m.id), 'the catalog\'s current Groq models');

  // Paste a key: its format is checked as it is typed.
  await cfg('#key').focus();
  await page.keyboard.type(KEYS.groq.slice(0, 10));
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#check').textContent.startsWith('✗'));
  assert.match(await cfg('#check').textContent(), /too short|length|characters/i);
  assert.equal(await cfg('#key').getAttribute('aria-invalid'), 'true');
  await page.keyboard.insertText(KEYS.groq.slice(10));
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#check').textContent.startsWith('✓'));
  assert.equal(await cfg('#check').textContent(), '✓ The format of a Groq key.');
  // Test the connection before saving: the mock answers, the outcome is said in words, and
  // nothing is stored by the test.
  await cfg('#test').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').dataset.outcome);
  assert.match(await outcome().textContent(), /^Groq: Valid: the key works\./);
  assert.equal(await outcome().getAttribute('aria-live'), 'polite');
  assert.equal((await api('/api/settings/api-config')).configs.length, 0, 'a test stores nothing');
  // Save, by the keyboard: the form submits on Enter.
  await cfg('#key').press('Enter');
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').textContent.startsWith('Saved: your Groq key'));
  const saved = await api('/api/settings/api-config');
  assert.equal(saved.configs.length, 1);
  assert.equal(saved.active.provider, 'groq');
  assert.equal(saved.active.model, groqModel.id);
  const row = cfg(`#keys tr[data-key-id="${saved.active.key_id}"]`);
  assert.equal(await row.locator('.masked').textContent(), saved.active.api_key);
  assert.match(saved.active.api_key, /^gsk_…/);
  assert.equal(await row.locator('time').getAttribute('datetime'), saved.active.saved_at);
  assert.match(await words(cfg('#using')), /Using your own Groq key gsk_…/);
  const everything = async () => page.evaluate(() => [...document.querySelectorAll('*')].map((e) => (e.shadowRoot ? e.shadowRoot.innerHTML : '')).join('') + document.documentElement.outerHTML);
  assert.ok(!(await everything()).includes(KEYS.groq), 'the full key is nowhere in the page');
  // Test the stored key: the same answer.
  await page.evaluate(() => { document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').removeAttribute('data-outcome'); });
  await cfg('#test').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').dataset.outcome);
  assert.match(await outcome().textContent(), /^Groq: Valid: the key works\./);
  assert.equal(await outcome().getAttribute('aria-live'), 'polite');

  // A key of another provider pasted in the OpenAI slot is refused before anything is sent.
  await cfg('input[value=openai]').check();
  await cfg('#key').fill(KEYS.anthropic);
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#check').textContent.startsWith('✗'));
  assert.match(await cfg('#check').textContent(), /anthropic.*not for openai/i);
  await cfg('#save').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').textContent.startsWith('Not saved'));
  assert.equal((await api('/api/settings/api-config')).configs.length, 1, 'nothing saved');
  await cfg('#key').fill('');

  // A monthly budget with alerts, set on the usage page, so that the calls cross its thresholds.
  await tab('usage');
  await use('#limit').fill('0.00001');
  await use('#thresholds').fill('50, 100');
  await use('#policy').selectOption('allow_and_alert');
  await use('#budget-form button').click();
  await page.waitForFunction(() => document.querySelector('byokit-usage').shadowRoot.querySelector('#budget-said').textContent === 'Budget saved.');
  await tab('config');

  // Calls with the Groq key, each tagged with its feature.
  for (const f of ['resume_generation', 'cover_letter', 'job_matching', 'job_matching']) await feature(f, /answered by groq \(your key\)/);

  // Switch provider: OpenAI, with its own key; the most recently saved is active.
  await cfg('input[value=openai]').check();
  await cfg('#model').selectOption('gpt-4o-mini');
  await cfg('#key').fill(KEYS.openai);
  await cfg('#save').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').textContent.startsWith('Saved: your OpenAI key'));
  assert.equal((await api('/api/settings/api-config')).active.provider, 'openai');
  assert.equal(await cfg('#keys tbody tr[data-key-id]').count(), 2);
  for (const f of ['assistant', 'portfolio_chat']) await feature(f, /answered by openai \(your key\)/);

  // The usage page: every figure, for each window, equal to the API's summary.
  await tab('usage');
  let s;
  const windows = {};
  for (const days of [7, 30, 90]) windows[days] = s = await checkUsage(days);
  assert.deepEqual([7, 30, 90].map((d) => windows[d].totals.requests), [7 + 4, 7 + 8, 7 + 13], 'each window holds its own calls');
  for (const p of ['anthropic', 'groq', 'openai']) assert.ok(windows[7].by_provider[p], `${p} in the last 7 days`);
  assert.equal(windows[7].by_provider.groq.requests, 4 + 1, 'the calls with the Groq key, and one recorded');
  assert.equal(windows[7].by_provider.openai.requests, 2 + 1);
  assert.deepEqual(Object.keys(s.by_provider).sort(), ['anthropic', 'gemini', 'groq', 'mistral', 'openai']);
  // The budget and its alerts, as the API has them.
  const alerts = await api('/api/settings/alerts');
  assert.deepEqual(alerts.map((a) => a.threshold_percent).sort((a, b) => a - b), [50, 100], 'both thresholds crossed, each once');
  assert.deepEqual(await use('#alerts li[data-threshold]').evaluateAll((li) => li.map((l) => Number(l.dataset.threshold))), alerts.map((a) => a.threshold_percent));
  const budget = await api('/api/settings/budget');
  assert.equal(await use('#budget-text data').first().getAttribute('value'), budget.status.spent_usd);
  // The export: every call of the window, for support.
  const [download] = await Promise.all([page.waitForEvent('download'), use('#export').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(csv.length - 1, s.totals.requests);
  assert.equal(download.suggestedFilename(), 'usage-last-90-days.csv');
  // The same calls as parsed JSON lines, through the element's own client.
  const events = await use('').evaluate((el) => el.client.exportUsage(90, 'jsonl'));
  assert.equal(events.length, s.totals.requests);
  const perProvider = {};
  for (const e of events) perProvider[e.provider] = (perProvider[e.provider] ?? 0) + 1;
  assert.deepEqual(perProvider, Object.fromEntries(Object.entries(s.by_provider).map(([p, t]) => [p, t.requests])));

  // The theme attribute overrides the colour scheme, both ways.
  const bg = () => page.evaluate(() => getComputedStyle(document.querySelector('byokit-usage')).getPropertyValue('--byokit-bg').trim());
  assert.equal(await bg(), '#ffffff');
  await page.selectOption('#theme', 'dark');
  assert.equal(await use('').getAttribute('theme'), 'dark');
  assert.equal(await bg(), '#15181e');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.selectOption('#theme', 'light');
  assert.equal(await bg(), '#ffffff');
  await page.selectOption('#theme', '');
  assert.equal(await bg(), '#15181e');
  await page.emulateMedia({ colorScheme: 'light' });

  // Both pages at desktop and phone widths, light and dark: axe-core finds nothing serious or
  // critical, and the screenshots, filled from the real calls, are kept.
  const shots = await screenshots('');
  console.log(`screenshots: ${shots.length} in ${artifacts}`);

  // A provider's error, in words: the key is refused on the next call…
  await tab('config');
  await fetch(`${mock}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(['401']) });
  const refused = await feature('assistant');
  assert.equal(await page.getAttribute('#result', 'data-outcome'), 'invalid_key', refused);
  assert.match(refused, /Invalid key: the provider refused it/);
  // …and a provider that cannot be reached, by the connection test.
  await cfg('input[value=mistral]').check();
  await cfg('details summary').click();
  await cfg('#base').fill('http://127.0.0.1:9/mistral/v1');
  await cfg('#key').fill(KEYS.mistral);
  await cfg('#save').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').textContent.startsWith('Saved: your Mistral key'));
  await cfg('#test').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').dataset.outcome === 'unreachable');
  assert.match(await outcome().textContent(), /^Mistral: Unreachable: the provider could not be reached/);

  // The other outcomes a provider can give (the mock's key check always passes): byokd's answer
  // replaced in the browser, each said in its words.
  for (const [result, said] of [['invalid_key', /^Mistral: Invalid key: the provider refused it/], ['insufficient_credit', /^Mistral: No credit:/], ['rate_limited', /^Mistral: Rate limited:/]]) {
    await page.route(`${byokd}/api/settings/api-config/test`, (route) => route.fulfill({
      status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': app },
      body: JSON.stringify({ provider: 'mistral', outcome: result, message: null, models: [] }),
    }));
    await cfg('#test').click();
    await page.waitForFunction((o) => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').dataset.outcome === o, result);
    assert.match(await outcome().textContent(), said);
    await page.unroute(`${byokd}/api/settings/api-config/test`);
  }

  // Delete the configuration: the keys go, the history stays.
  await cfg('#delete-all').click();
  await page.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#outcome').textContent.startsWith('Deleted'));
  assert.match(await outcome().textContent(), /Deleted 3 keys\. Your usage history is kept\./);
  assert.deepEqual((await api('/api/settings/api-config')).configs, []);
  assert.equal(await cfg('#keys tbody tr[data-key-id]').count(), 0);
  assert.match(await words(cfg('#using')), /Using the shared key/);
  await tab('usage');
  s = await checkUsage(7);
  assert.deepEqual(s, { ...windows[7], window: s.window, system_quota: s.system_quota, budget: s.budget }, 'the history is kept');
  assert.ok(s.by_provider.groq && s.by_provider.openai);
});

test('money in the page: formatted with every digit, summed exactly, whatever the locale', async () => {
  const r = await page.evaluate(async () => {
    const { formatMoney, sumDecimals } = await import('byokit/ui');
    return {
      long: formatMoney('0.1234567890123456789', 'en-US'),
      big: formatMoney('12345678901234567890.12', 'de-DE', 'EUR'),
      two: formatMoney('0.1', 'en-US'),
      sum: sumDecimals(['0.1', '0.2']),
      carry: sumDecimals(['0.00000001', '99999999999999999999.99999999']),
      negative: sumDecimals(['-0.5', '0.25']),
      refused: (() => { try { formatMoney('1e-7', 'en-US'); return 'accepted'; } catch (e) { return e.name; } })(),
    };
  });
  assert.deepEqual(r, {
    long: '$0.1234567890123456789', big: '12.345.678.901.234.567.890,12\u00a0€', two: '$0.10',
    sum: '0.3', carry: '100000000000000000000', negative: '-0.25', refused: 'TypeError',
  });
  assert.deepEqual(pageErrors, [], 'no error in the page all along');
});

// The same two elements rendered by React 19, Vue 3 and Svelte 5 (/frameworks/<framework>.html,
// built from frameworks/ by frameworks/build.mjs), each given its properties, attributes and event
// listeners by the framework's own syntax, and no `configure()`: the elements reach byokd only by
// the `base-url` and `getToken` the framework set on them.
for (const framework of ['react', 'vue', 'svelte']) {
  test(`in ${framework}: properties, attributes and events through the framework's own bindings`, async () => {
    const user = `${framework}-user`;
    await seedHistory(user);
    const token = (await (await fetch(`${app}/api/login`, { method: 'POST', body: JSON.stringify({ user }) })).json()).token;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const p = await context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`); });
    p.setDefaultTimeout(10000);
    const cfgIn = (sel) => p.locator(`#app byokit-api-config ${sel}`);
    const statusIs = (text) => p.waitForFunction((t) => document.querySelector('#fw-status').textContent === t, text);
    try {
      await p.goto(`${app}/frameworks/${framework}.html?user=${user}`);

      // 1. Both elements inside the framework's tree, their shadow content drawn.
      await p.waitForFunction(() => document.querySelector('#app byokit-usage')?.summary
        && document.querySelector('#app byokit-api-config')?.shadowRoot.querySelector('#using').textContent);
      assert.match(await p.textContent('#fw-who'), new RegExp(`^Signed in as ${user}, with ${framework}$`, 'i'));
      assert.equal(await cfgIn('input[name=provider]').count(), 5, 'the provider radio group');
      assert.equal(await p.locator('#app byokit-usage #requests data').count(), 1, 'the totals');

      // 2. getToken and baseUrls set as DOM properties, base-url as an attribute, by the framework.
      const wiring = await p.evaluate(async () => {
        const c = document.querySelector('byokit-api-config');
        const u = document.querySelector('byokit-usage');
        const sub = async (el) => JSON.parse(atob((await el.getToken()).split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
        return {
          configAttributes: c.getAttributeNames().sort(), usageAttributes: u.getAttributeNames().sort(),
          baseUrlAttribute: [c.getAttribute('base-url'), u.getAttribute('base-url')],
          getToken: [typeof c.getToken, typeof u.getToken], tokenOf: [await sub(c), await sub(u)],
          clientBaseUrl: [c.client.baseUrl, u.client.baseUrl], baseUrls: c.baseUrls,
        };
      });
      assert.deepEqual(wiring.configAttributes, ['base-url'], 'no attribute but base-url on <byokit-api-config>');
      assert.deepEqual(wiring.usageAttributes, ['base-url', 'days'], 'no attribute but base-url and days on <byokit-usage>');
      assert.deepEqual(wiring.baseUrlAttribute, [byokd, byokd]);
      assert.deepEqual(wiring.getToken, ['function', 'function'], 'getToken a function property');
      assert.deepEqual(wiring.tokenOf, [user, user]);
      assert.deepEqual(wiring.clientBaseUrl, [byokd, byokd], 'each element\'s own client, from base-url and getToken');
      assert.deepEqual(wiring.baseUrls, baseUrls, 'baseUrls an object property');
      await cfgIn('input[value=groq]').check();
      assert.equal(await cfgIn('#base').inputValue(), baseUrls.groq);

      // 3. The framework's state → the element: the app's own window buttons set `days`.
      const usageShown = async (days) => {
        await p.waitForFunction((d) => {
          const el = document.querySelector('#app byokit-usage');
          return el.summary?.window.days === d && el.shadowRoot.querySelector('section').getAttribute('aria-busy') === 'false'
            && document.querySelector(`#fw-days-${d}`).getAttribute('aria-pressed') === 'true';
        }, days);
        const s = await api(`/api/settings/usage?days=${days}`, token);
        const el = p.locator('#app byokit-usage');
        assert.equal(await el.getAttribute('days'), String(days));
        assert.equal(await el.locator('#requests data').getAttribute('value'), String(s.totals.requests));
        assert.equal(await el.locator('#tokens data').getAttribute('value'), String(s.totals.total_tokens));
        assert.equal(await el.locator('#cost data').getAttribute('value'), s.totals.cost_usd);
        assert.equal(shown(await el.locator('#cost').textContent()), canonical(s.totals.cost_usd));
        // 4. …and the element's byokit-loaded → the framework's own text.
        assert.equal(await p.textContent('#fw-usage'), `Usage for ${days} days: ${s.totals.requests} requests`);
        return s.totals.requests;
      };
      const requests = { 30: await usageShown(30) };
      for (const days of [7, 90]) {
        await p.click(`#fw-days-${days}`);
        requests[days] = await usageShown(days);
      }
      assert.deepEqual([requests[7], requests[30], requests[90]], [4, 8, 13], 'each window its own calls');
      // The element's own window button: the framework's state follows its event.
      await p.locator('#app byokit-usage [data-days="30"]').click();
      await usageShown(30);

      // 4. The element → the framework: test, save and an error, each shown by the framework.
      await cfgIn('#key').fill(KEYS.groq);
      await p.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#check').textContent.startsWith('✓'));
      await cfgIn('#test').click();
      await statusIs('Tested groq: valid'); // the typed key tested at baseUrls.groq: the mock
      await cfgIn('#save').click();
      await statusIs('Saved groq key');
      const saved = await api('/api/settings/api-config', token);
      assert.equal(saved.active.provider, 'groq');
      assert.equal(saved.active.base_url, baseUrls.groq, 'saved with the baseUrls property\'s URL');
      await p.waitForFunction(() => document.querySelector('byokit-api-config').shadowRoot.querySelector('#using').textContent.includes('Groq key'));
      await cfgIn('input[value=openai]').check();
      await cfgIn('#test').click();
      await statusIs('Error: not_found');
      assert.match(await cfgIn('#outcome').textContent(), /No saved OpenAI key to test/);
      if (artifacts) await p.screenshot({ path: join(artifacts, `${framework}-desktop-light.png`), fullPage: true });

      // 5. Nothing went wrong in the page, but the 404 of that test, which Chromium logs.
      const refused = errors.filter((e) => e.includes('404') && e.endsWith(`(${byokd}/api/settings/api-config/test)`));
      assert.equal(refused.length, 1, errors.join('\n'));
      assert.deepEqual(errors.filter((e) => !refused.includes(e)), [], `no error in the ${framework} page`);
    } finally {
      await context.close();
    }
  });
}

test('properties set before the elements are defined (byokit/ui loaded after the framework rendered) are theirs once defined', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  try {
    await p.goto(`${app}/frameworks.css`);
    const r = await p.evaluate(async ({ byokd, groq }) => {
      const token = async () => (await (await fetch('/api/login', { method: 'POST', body: JSON.stringify({ user: 'late-user' }) })).json()).token;
      const config = document.createElement('byokit-api-config');
      const usage = document.createElement('byokit-usage');
      // What Vue's `.prop` and Svelte 5 do on an element not yet defined: plain own properties.
      for (const el of [config, usage]) { el.setAttribute('base-url', byokd); el.getToken = token; document.body.append(el); }
      config.baseUrls = { groq };
      usage.days = 7;
      const loaded = (el) => new Promise((resolve, reject) => {
        el.addEventListener('byokit-loaded', resolve, { once: true });
        el.addEventListener('byokit-error', (e) => reject(new Error(`${el.localName}: ${e.detail.kind}`)), { once: true });
      });
      const both = Promise.all([loaded(config), loaded(usage)]);
      await import('/byokit/ui/byokit-ui.js');
      await both;
      return {
        own: [config, usage].flatMap((el) => ['getToken', 'baseUrls', 'days'].filter((k) => Object.hasOwn(el, k))),
        clients: [config.client.baseUrl, usage.client.baseUrl], days: [usage.getAttribute('days'), usage.summary.window.days],
        base: (config.shadowRoot.querySelector('input[value=groq]').click(), config.shadowRoot.querySelector('#base').value),
      };
    }, { byokd, groq: baseUrls.groq });
    assert.deepEqual(r, { own: [], clients: [byokd, byokd], days: ['7', 7], base: baseUrls.groq });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
