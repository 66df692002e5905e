// The npm package as users get it: run from a folder where the packed tarball was installed.
// BYOKIT_FIXTURES points at tests/fixtures/providers; the same cases the Rust tests check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  estimateCost, listModels, usageFromResponse, classifyError, StreamUsage, maskKey, checkKey, loadCatalog,
  buildChatRequest, buildTestRequest, readRateLimits, summarize, isByokitError, route, budgetStatus, budgetAlerts,
  catalog, PricedModel,
} from 'byokit';
import * as byokit from 'byokit';

// The package's own wasm under wasm-bindgen's glue as it was before the entry was bundled with it
// (scripts/build-npm.sh leaves it in bindings/wasm/pkg/glue), whose `estimateCost` and
// `usageFromResponse` return the core's serde form through JSON: what the entry's compact forms
// must give, field for field.
const viaJson = await import(pathToFileURL(join(process.cwd(), 'glue/byokit_wasm.js')).href);
viaJson.initSync({ module: readFileSync(join(process.cwd(), 'node_modules/byokit/node/byokit_wasm_bg.wasm')) });
/** `loadCatalog` into the package and into the reference alike, which must agree on its version. */
function loadBoth(text, today) {
  const version = loadCatalog(text, today);
  assert.equal(viaJson.loadCatalog(text, today), version);
  return version;
}

const fixtures = process.env.BYOKIT_FIXTURES;
const cases = JSON.parse(readFileSync(join(fixtures, 'expectations.json'), 'utf8')).cases;
const file = (c) => readFileSync(join(fixtures, c.file));

test('estimateCost: the must-show figures, exact decimal strings', () => {
  assert.equal(estimateCost({ provider: 'openai', model: 'gpt-4o', inputTokens: 1000000, outputTokens: 1000000 }).costUsd, '12.5');
  const sonnet = estimateCost({ provider: 'anthropic', model: 'claude-sonnet-4', inputTokens: 1000, outputTokens: 1000 });
  assert.equal(sonnet.model, 'claude-sonnet-4-20250514');
  assert.equal(sonnet.costUsd, '0.018');
  const cached = estimateCost({ provider: 'openai', model: 'gpt-4o', inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 });
  assert.equal(cached.costUsd, '0.00608');
  assert.equal(cached.status, 'exact');
  assert.equal(cached.breakdown.cachedInput.tokens, 1536);
  assert.equal(typeof cached.catalogVersion, 'string');
  assert.equal(estimateCost({ provider: 'openai', model: 'gpt-4o', inputTokens: 1000000, outputTokens: 1000000, batch: true }).costUsd, '6.25');
});

test('errors are Errors with a kind', () => {
  assert.throws(() => estimateCost({ provider: 'nosuch', model: 'x', inputTokens: 1, outputTokens: 1 }),
    (e) => e instanceof Error && e.kind === 'unknownProvider' && e.message.startsWith('unknown provider `nosuch`'));
  assert.throws(() => estimateCost({ provider: 'openai', model: 'gpt-4o-mni', inputTokens: 1, outputTokens: 1 }),
    (e) => e.kind === 'unknownModel' && e.message.includes('gpt-4o-mini'));
  assert.throws(() => estimateCost({ provider: 'openai', model: 'gpt-4o', inputTokens: -5, outputTokens: 1 }), (e) => e.kind === 'invalidInput');
  try {
    estimateCost({ provider: 'nosuch', model: 'x' });
    assert.fail('no error');
  } catch (e) {
    assert.ok(isByokitError(e));
  }
  assert.equal(isByokitError(new Error('plain')), false);
  assert.equal(isByokitError({ kind: 'unknownModel' }), false);
  assert.throws(() => estimateCost({ provider: 'openai', model: 'gpt-4o', inputTokens: 10, cachedInputTokens: 20, outputTokens: 1 }), (e) => e.kind === 'invalidInput');
});

test('listModels and loadCatalog', () => {
  const groq = listModels('groq');
  assert.ok(groq.length >= 5 && groq.every((m) => m.provider === 'groq'));
  const gpt = listModels('openai').find((m) => m.id === 'gpt-4o');
  assert.ok(gpt.aliases.includes('gpt-4o-2024-08-06'));
  assert.equal(typeof gpt.prices.at(-1).input, 'string');
  const acme = { models: [{ provider: 'mistral', id: 'acme-ft', prices: [{ effective: '2025-01-01', input: '0.10', output: '0.30' }] }] };
  const version = loadBoth(JSON.stringify(acme), '2026-11-28');
  assert.match(version, /\+catalog$/);
  assert.equal(estimateCost({ provider: 'mistral', model: 'acme-ft', inputTokens: 1000000, outputTokens: 0 }).costUsd, '0.1');
  const cheap = { models: [{ provider: 'openai', id: 'x', prices: [{ effective: '2025-01-01', input: 'cheap', output: '1' }] }] };
  assert.throws(() => loadCatalog(JSON.stringify(cheap), '2026-11-28'),
    (e) => e.kind === 'invalidCatalog' && e.message.includes('prices[0].input'));
  // The package reads catalogs in JSON (byokit's format, LiteLLM's, genai-prices'); a TOML file
  // gets an error that says so, and the catalog in use stays as it was.
  assert.throws(() => loadCatalog('[[models]]\nprovider = "mistral"\nid = "other"\n', '2026-11-28'),
    (e) => e.kind === 'invalidCatalog' && e.message.includes('write the same catalog as JSON'));
  assert.equal(estimateCost({ provider: 'mistral', model: 'acme-ft', inputTokens: 1000000, outputTokens: 0 }).costUsd, '0.1');
});

test('a model looked up once prices as estimateCost does, and follows loadCatalog', () => {
  const gpt = catalog.model('openai', 'gpt-4o-2024-08-06');
  assert.ok(gpt instanceof PricedModel);
  assert.equal(gpt.provider, 'openai');
  assert.equal(gpt.id, 'gpt-4o');
  const usage = { inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 };
  assert.deepEqual(gpt.cost(usage), estimateCost({ provider: 'openai', model: 'gpt-4o', ...usage }));
  assert.equal(gpt.cost(usage).costUsd, '0.00608');
  assert.equal(gpt.cost({ ...usage, batch: true }).batch, true);
  assert.throws(() => catalog.model('openai', 'gpt-4o-mni'), (e) => e.kind === 'unknownModel' && e.message.includes('gpt-4o-mini'));
  assert.throws(() => catalog.model('nosuch', 'x'), (e) => e.kind === 'unknownProvider');
  assert.throws(() => gpt.cost({ inputTokens: 1.5 }), (e) => e.kind === 'invalidInput' && e.message.includes('inputTokens'));
  assert.throws(() => gpt.cost({ outputTokens: '5' }), (e) => e.kind === 'invalidInput' && e.message.includes('outputTokens'));
  const acme = catalog.model('mistral', 'acme-ft'); // loaded by the test above
  const cheaper = { models: [{ provider: 'mistral', id: 'acme-ft', prices: [{ effective: '2025-01-01', input: '0.05', output: '0.30' }] }] };
  const version = loadBoth(JSON.stringify(cheaper), '2026-11-28');
  assert.equal(acme.cost({ inputTokens: 1000000 }).costUsd, '0.05');
  assert.equal(acme.cost({ inputTokens: 1 }).catalogVersion, version);
});

test('the compact forms give what the JSON form gives, for every model and every reply fixture', () => {
  const usages = [
    { inputTokens: 2000, outputTokens: 300 },
    { inputTokens: 250000, cachedInputTokens: 1536, outputTokens: 300, reasoningTokens: 100 },
    { inputTokens: 3000, cacheWriteTokens: 1000, outputTokens: 1, batch: true },
    { inputTokens: 0, outputTokens: 0 },
  ];
  let compared = 0;
  for (const m of listModels()) {
    const handle = catalog.model(m.provider, m.id);
    for (const usage of usages) {
      const input = { provider: m.provider, model: m.id, ...usage };
      let expected;
      try {
        expected = viaJson.estimateCost(input);
      } catch (e) {
        assert.throws(() => estimateCost(input), (f) => f.kind === e.kind && f.message === e.message);
        assert.throws(() => handle.cost(usage), (f) => f.kind === e.kind && f.message === e.message);
        continue;
      }
      assert.deepEqual(estimateCost(input), expected, `${m.provider}/${m.id}`);
      assert.deepEqual(handle.cost(usage), expected, `${m.provider}/${m.id}`);
      assert.deepEqual(Object.keys(estimateCost(input)), Object.keys(expected));
      compared++;
    }
  }
  assert.ok(compared > 300, `${compared} costs`);
  for (const c of cases.filter((c) => c.kind === 'response')) {
    const bytes = file(c);
    let expected;
    try {
      expected = viaJson.usageFromResponse(c.provider, bytes.toString('utf8'));
    } catch (e) {
      assert.throws(() => usageFromResponse(c.provider, bytes.toString('utf8')), (f) => f.kind === e.kind && f.message === e.message);
      continue;
    }
    assert.deepEqual(usageFromResponse(c.provider, bytes.toString('utf8')), expected, c.file);
    assert.deepEqual(usageFromResponse(c.provider, bytes), expected, c.file);
    assert.deepEqual(usageFromResponse(c.provider, new Uint8Array(bytes)), expected, c.file);
    assert.deepEqual(Object.keys(usageFromResponse(c.provider, bytes)), Object.keys(expected));
  }
});

test('replies and stream chunks are read from strings and bytes alike, any text included', () => {
  const reply = (content) => JSON.stringify({
    id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o|é😀',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'length' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  });
  for (const text of ['', 'a|b|c', 'Grüße 😀 \u0000 |', 'x'.repeat(100000)]) {
    const body = reply(text);
    for (const form of [body, new TextEncoder().encode(body), Buffer.from(body)]) {
      const r = usageFromResponse('openai', form);
      assert.equal(r.text, text);
      assert.equal(r.model, 'gpt-4o|é😀');
      assert.equal(r.finishReason, 'length');
      assert.equal(r.totalTokens, 6);
    }
  }
  assert.throws(() => usageFromResponse('openai', '{"choices": ['), (e) => e.kind === 'malformedResponse');
  assert.throws(() => usageFromResponse('nosuch', '{}'), (e) => e.kind === 'unknownProvider');
  const s = new StreamUsage('openai');
  const chunk = 'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n';
  assert.deepEqual(s.push(new TextEncoder().encode(chunk).buffer), ['Hi']);
  assert.deepEqual(s.push(Buffer.from(chunk)), ['Hi']);
  assert.deepEqual(s.push(chunk), ['Hi']);
  assert.equal(s.finish().text, 'HiHiHi');
});

test('the package exports what its declarations name, and nothing of the wasm glue', () => {
  const dts = readFileSync(join(process.cwd(), 'node_modules/byokit/node/byokit.d.ts'), 'utf8');
  const declared = [...dts.matchAll(/^export (?:declare )?(default )?(?:function|class|const) (\w+)/gm)]
    .map((m) => (m[1] ? 'default' : m[2]));
  assert.ok(['estimateCost', 'catalog', 'PricedModel', 'default'].every((name) => declared.includes(name)));
  assert.deepEqual(Object.keys(byokit).sort(), [...new Set(declared)].sort());
});

test('keys: masked, and checked per provider', () => {
  assert.equal(maskKey('sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1a1b2'), 'sk-proj-…a1b2');
  assert.throws(() => checkKey('openai', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789'),
    (e) => e.kind === 'invalidKey' && e.message === 'this looks like an API key for anthropic, not for openai');
  checkKey('groq', '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');
});

const usageOf = (u) => ({
  input_tokens: u.inputTokens, output_tokens: u.outputTokens, cached_input_tokens: u.cachedInputTokens,
  cache_write_tokens: u.cacheWriteTokens, reasoning_tokens: u.reasoningTokens,
});

test('every shared fixture reads as in Rust', () => {
  let checked = 0;
  for (const c of cases) {
    const name = `${c.provider} ${c.kind} ${c.file ?? ''}`;
    if (c.kind === 'response') {
      const r = usageFromResponse(c.provider, file(c).toString('utf8'));
      assert.deepEqual(usageOf(r), c.expect.usage, name);
      assert.equal(r.text, c.expect.text, name);
      assert.equal(r.model, c.expect.model, name);
      assert.equal(r.finishReason, c.expect.finish_reason, name);
      checked++;
    } else if (c.kind === 'stream') {
      const bytes = file(c);
      const s = new StreamUsage(c.provider);
      let deltas = '';
      try {
        // Split into 7-byte pieces, mid-character included.
        for (let i = 0; i < bytes.length; i += 7) deltas += s.push(bytes.subarray(i, i + 7)).join('');
        const out = s.finish();
        assert.equal(out.text, c.expect.text, name);
        assert.equal(deltas, out.text, name);
        if (c.expect.usage === null) {
          assert.equal(out.usage.status, 'unknown', name);
          assert.equal(out.usage.estimate.estimated, true, name);
        } else {
          assert.equal(out.usage.status, 'reported', name);
          assert.deepEqual(usageOf(out.usage.usage), c.expect.usage, name);
        }
      } catch (e) {
        if (!c.expect.error) throw e;
        assert.equal(e.kind, c.expect.error.kind.replace(/_(\w)/g, (_, x) => x.toUpperCase()), name);
      }
      checked++;
    } else if (c.kind === 'error') {
      const e = classifyError(c.provider, c.status, c.headers ?? {}, file(c).toString('utf8'));
      assert.equal(e.kind, c.expect.kind, name);
      if (c.expect.retry_after_seconds === null) assert.equal(e.retryAfterSeconds, null, name);
      else assert.ok(Math.abs(e.retryAfterSeconds - c.expect.retry_after_seconds) < 1e-6, name);
      if (c.expect.message) assert.equal(e.message, c.expect.message, name);
      checked++;
    }
  }
  assert.ok(checked >= 50, `${checked} cases`);
});

test('requests are built for fetch, the key only in a header', () => {
  const key = 'sk-ant-api03-Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7-Ab12';
  const r = buildChatRequest('anthropic', {
    model: 'claude-sonnet-4', system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }], maxOutputTokens: 100, stream: true,
  }, key, { browser: true });
  assert.equal(r.method, 'POST');
  assert.equal(r.url, 'https://api.anthropic.com/v1/messages');
  assert.equal(r.headers['x-api-key'], key);
  assert.equal(r.headers['anthropic-version'], '2023-06-01');
  assert.equal(r.headers['anthropic-dangerous-direct-browser-access'], 'true');
  const body = JSON.parse(r.body);
  assert.deepEqual([body.max_tokens, body.system, body.stream], [100, 'Be brief.', true]);
  const t = buildTestRequest('gemini', 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q', { baseUrl: 'http://127.0.0.1:9/v1beta' });
  assert.equal(t.url, 'http://127.0.0.1:9/v1beta/models');
  assert.ok(!t.url.includes('key='));
  assert.equal(t.headers['x-goog-api-key'], 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q');
  assert.throws(() => buildChatRequest('openai', { model: 'gpt-4o', messages: [] }, 'sk-x', undefined), (e) => e.kind === 'invalidInput');
});

test('rate-limit headers of the shared fixtures read as in Rust', () => {
  const camel = (k) => k.replace(/_(\w)/g, (_, x) => x.toUpperCase());
  let checked = 0;
  for (const c of cases.filter((c) => c.kind === 'rate_limits')) {
    const got = readRateLimits(c.provider, c.headers ?? {}, c.now);
    const want = Object.fromEntries(Object.entries(c.expect).map(([k, v]) => [camel(k), v]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), c.provider);
    for (const [k, v] of Object.entries(want)) {
      if (k.endsWith('At')) assert.equal(Date.parse(got[k]), Date.parse(v), `${c.provider} ${k}`);
      else assert.equal(got[k], v, `${c.provider} ${k}`);
    }
    checked++;
  }
  assert.ok(checked >= 5);
});

test('summarize: exact totals and breakdowns keyed by the app\'s own names', () => {
  const ev = (hoursAgo, provider, model, feature, costUsd) => ({
    at: new Date(Date.parse('2026-11-28T12:00:00Z') - hoursAgo * 3600e3).toISOString(),
    provider, model, feature, payer: 'user', usage: { inputTokens: 1000, outputTokens: 100 }, costUsd, costStatus: 'exact',
  });
  const s = summarize([
    ev(1, 'openai', 'gpt-4o', 'portfolio_chat', '0.1'),
    ev(30, 'openai', 'gpt-4o', 'resume_generation', '0.2'),
    ev(24 * 40, 'groq', 'llama-3.3-70b-versatile', 'portfolio_chat', '5'),
  ], 30, '2026-11-28T12:00:00Z');
  assert.equal(s.totals.requests, 2);
  assert.equal(s.totals.costUsd, '0.3');
  assert.equal(s.byFeature.portfolio_chat.costUsd, '0.1');
  assert.equal(s.byModel['openai/gpt-4o'].requests, 2);
  assert.equal(s.byDay.length, 31);
  assert.throws(() => summarize([], 0, '2026-11-28T12:00:00Z'), (e) => e.kind === 'invalidInput' && e.message.includes('1 to 365'));
});

test('route: the spec\'s rules, each decision explained, refusals typed', () => {
  const now = '2026-11-28T12:00:00Z';
  const system = { provider: 'anthropic', model: 'claude-sonnet-4-20250514', monthlyTokenCap: 1000000 };
  const key = (id, provider, savedAt, status = { state: 'ok' }) => ({ id, provider, savedAt, status });
  // The most recently saved key is active; a feature's model is the app's own name, kept as it is.
  const state = {
    keys: [key('a', 'openai', '2026-11-01T00:00:00Z'), key('b', 'groq', '2026-11-20T00:00:00Z')],
    models: { byFeature: { 'Job Matching': { provider: 'groq', model: 'llama-3.1-8b-instant' } } },
    system,
  };
  const d = route(state, { feature: 'Job Matching' }, now);
  assert.deepEqual([d.provider, d.model, d.payer, d.key], ['groq', 'llama-3.1-8b-instant', 'user', { kind: 'user', keyId: 'b' }]);
  assert.ok(d.explanation.includes('model llama-3.1-8b-instant: chosen for feature Job Matching'), d.explanation.join('\n'));
  // No key: the system key, allowed at exactly the cap, refused past it with the spec's message.
  const atCap = route({ system, systemTokensUsed: 999000 }, { estimatedTokens: 1000 }, now);
  assert.deepEqual([atCap.payer, atCap.key.kind, atCap.provider], ['system', 'system', 'anthropic']);
  assert.throws(() => route({ system, systemTokensUsed: 999000 }, { estimatedTokens: 1001 }, now),
    (e) => isByokitError(e) && e.kind === 'systemCapReached' && /add your own API key/.test(e.message));
  // A bad user key is an error the user sees, never a silent fall back to the system key.
  assert.throws(() => route({ keys: [key('a', 'openai', now, { state: 'invalid', reason: 'revoked' })], system }, {}, now),
    (e) => e.kind === 'invalidKey');
  assert.throws(() => route({}, {}, now), (e) => e.kind === 'noKey');
  assert.throws(() => route({}, {}, 'yesterday'), (e) => e.kind === 'invalidInput');
});

test('budgets: status, and each alert once a month', () => {
  const budget = { monthlyLimitUsd: '20', alertThresholds: [50, 80, 100] };
  const s = budgetStatus(budget, '21.5', '2026-11-28T12:00:00Z');
  assert.deepEqual([s.remainingUsd, s.exceeded, s.month], ['0', true, { year: 2026, month: 11 }]);
  let fired;
  const fire = (spent, at) => {
    const r = budgetAlerts(budget, spent, at, fired);
    fired = r.fired;
    return r.alerts.map((a) => a.thresholdPercent);
  };
  assert.deepEqual(fire('10', '2026-11-10T00:00:00Z'), [50]);
  assert.deepEqual(fire('10.01', '2026-11-11T00:00:00Z'), []);
  assert.deepEqual(fire('20', '2026-11-12T00:00:00Z'), [80, 100]);
  assert.deepEqual(fire('12', '2026-12-01T00:00:00Z'), [50], 'a new month starts afresh');
  assert.throws(() => budgetStatus({ monthlyLimitUsd: '20' }, 'lots', '2026-11-28T12:00:00Z'), (e) => e.kind === 'invalidInput');
  // A missing field is named as JavaScript writes it; a bad value is quoted as given.
  assert.throws(() => budgetStatus({}, '1', '2026-11-28T12:00:00Z'),
    (e) => e.kind === 'invalidInput' && e.message.includes('`monthlyLimitUsd`'));
  assert.throws(() => budgetStatus({ monthlyLimitUsd: '20', policy: 'maybe' }, '1', '2026-11-28T12:00:00Z'),
    (e) => e.kind === 'invalidInput' && e.message.includes('`maybe`') && e.message.includes('`allow_and_alert`'));
  // An object's fields given as an array, at any depth, are refused by name, not read in order.
  assert.throws(() => budgetStatus(['20', 'block', []], '1', '2026-11-28T12:00:00Z'),
    (e) => e.kind === 'invalidInput' && e.message.startsWith('budget: invalid type: sequence, expected struct Budget'));
  assert.throws(() => route({ keys: [['k1', 'groq', '2026-11-01T00:00:00Z', null, { state: 'ok' }]] }, {}, '2026-11-28T12:00:00Z'),
    (e) => e.kind === 'invalidInput' && e.message.includes('expected struct UserKey'));
  // Budgets are checked as the core checks them everywhere; amounts are exact, never rounded.
  const now = '2026-11-28T12:00:00Z';
  assert.throws(() => budgetStatus({ monthlyLimitUsd: '-5' }, '1', now),
    (e) => e.kind === 'invalidInput' && e.message.includes('cannot be negative'));
  assert.throws(() => budgetAlerts({ monthlyLimitUsd: '20', alertThresholds: [0] }, '1', now),
    (e) => e.kind === 'invalidInput' && e.message.includes('alert threshold 0%'));
  assert.throws(() => summarize([], { days: 30, now, budget: { monthlyLimitUsd: '20', alertThresholds: [101] } }),
    (e) => e.kind === 'invalidInput' && e.message.includes('options.budget') && e.message.includes('alert threshold 101%'));
  assert.throws(() => budgetStatus(budget, '1.00000000000000000000000000001', now),
    (e) => e.kind === 'invalidInput' && e.message.includes('spentUsd'));
  for (const limit of ['1.00000000000000000000000000001', '1e3', '12,50']) {
    assert.throws(() => budgetStatus({ monthlyLimitUsd: limit }, '1', now),
      (e) => e.kind === 'invalidInput' && e.message.includes('an amount in USD'), limit);
  }
});

test('byokit/ui imports on a server (SSR, Node): no DOM touched, nothing defined, its client and money helpers work', async () => {
  assert.equal(globalThis.customElements, undefined);
  const ui = await import('byokit/ui');
  assert.equal(typeof ui.ByokitApiConfig, 'function');
  assert.equal(typeof ui.ByokitUsage, 'function');
  assert.equal(ui.formatMoney('0.00061296', 'en-US'), '$0.00061296');
  assert.equal(ui.sumDecimals(['0.1', '0.2', '1234.00000001']), '1234.30000001');
  assert.equal(globalThis.customElements, undefined, 'nothing defined, no registry made up');
  // The REST client works in Node too: an unreachable byokd is a typed error, not a crash.
  await assert.rejects(new ui.ByokitClient({ baseUrl: 'http://127.0.0.1:9', getToken: () => 't' }).usage(30),
    (e) => e instanceof ui.ByokitApiError && e.kind === 'unreachable' && e.status === 0);
  // configure() refreshes the elements of the page; without one it has none to refresh.
  assert.doesNotThrow(() => ui.configure({ baseUrl: 'http://127.0.0.1:9', getToken: () => 't' }));
});
