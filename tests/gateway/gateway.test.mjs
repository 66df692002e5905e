// byokd as an OpenAI-compatible gateway, end to end: the real `openai` client package talks to
// byokd's HTTP endpoint, byokd calls the mock providers (byokit-mock) with the stored keys, and
// the usage shows in `byokit usage`. Run by scripts/test-gateway.sh, which gives the binaries in
// BYOKD, BYOKIT and BYOKIT_MOCK and the fixtures folder in BYOKIT_FIXTURES.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import OpenAI from 'openai';

const fixtures = process.env.BYOKIT_FIXTURES;
const cases = JSON.parse(readFileSync(join(fixtures, 'providers/expectations.json'), 'utf8')).cases;
const expected = (provider, file) => cases.find((c) => c.file === `${provider}/${file}`).expect;

const KEYS = {
  openai: 'sk-proj-Gw1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7Gw01',
  anthropic: 'sk-ant-api03-Gw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op-Gw02',
  groq: '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',
  gemini: 'AIzaGw1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0SGw04',
  mistral: 'Gw1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9QGw05',
};
const PREFIX = { openai: 'openai/v1', anthropic: 'anthropic/v1', groq: 'groq/openai/v1', gemini: 'gemini/v1beta', mistral: 'mistral/v1' };
const SYSTEM_KEY = 'sk-ant-api03-Sy1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op-Sy99';

const dir = mkdtempSync(join(tmpdir(), 'byokit-gateway-'));
const socket = join(dir, 'byokd.sock');
const dataDir = join(dir, 'data');
let mock;
let mockUrl;
let byokd;
let port;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

/** `byokit --socket … --data-dir … --user USER ARGS…`, its standard output. */
const byokit = (user, args, input) => execFileSync(process.env.BYOKIT,
  ['--socket', socket, '--data-dir', dataDir, '--user', user, ...args], { input, encoding: 'utf8' });

const setFaults = async (faults) => {
  const r = await fetch(`${mockUrl}/_mock/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
  assert.equal(r.status, 204);
};

/** A user with `provider`'s key (pointed at the mock), and an OpenAI client for them. */
function userOf(provider, options = {}) {
  const user = `u-${provider}-${Math.random().toString(36).slice(2, 8)}`;
  byokit(user, ['config', 'save', '--provider', provider, '--base-url', `${mockUrl}/${PREFIX[provider]}`], KEYS[provider]);
  return { user, client: clientFor(user, options) };
}

function clientFor(user, options = {}) {
  const token = byokit(user, ['http', 'token']).trim();
  return new OpenAI({ apiKey: token, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, defaultHeaders: { 'X-Byokit-Feature': 'e2e' }, ...options });
}

const usageOf = (user) => JSON.parse(byokit(user, ['usage', '--days', '1', '--json']));

before(async () => {
  mock = spawn(process.env.BYOKIT_MOCK, ['--fixtures', join(fixtures, 'providers')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(mock.stdout, 'data');
  mockUrl = line.toString().match(/http:\/\/[\d.:]+/)[0];
  port = await freePort();
  byokd = spawn(process.env.BYOKD, ['--data-dir', dataDir, '--socket', socket, '--http', `127.0.0.1:${port}`,
    '--system-base-url', `${mockUrl}/anthropic/v1`, '--system-token-cap', '520', '--read-timeout', '1'],
  { stdio: 'inherit', env: { ...process.env, ANTHROPIC_API_KEY: SYSTEM_KEY } });
  for (let i = 0; i < 100; i++) {
    try { await fetch(`http://127.0.0.1:${port}/v1/models`); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
});

after(() => {
  byokd?.kill();
  mock?.kill();
  rmSync(dir, { recursive: true, force: true });
});

for (const provider of Object.keys(KEYS)) {
  test(`${provider}: plain and streaming calls through the openai client, recorded`, async () => {
    const { user, client } = userOf(provider);
    // An app written for OpenAI names an OpenAI model; byokd sends the routed provider's own.
    const reply = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
    const plain = expected(provider, 'chat.json');
    assert.equal(reply.object, 'chat.completion');
    assert.equal(reply.choices[0].message.content, plain.text);
    assert.equal(reply.choices[0].message.role, 'assistant');
    assert.equal(reply.usage.prompt_tokens, plain.usage.input_tokens + (provider === 'anthropic' ? plain.usage.cache_write_tokens + plain.usage.cached_input_tokens : 0));
    assert.equal(reply.usage.completion_tokens, plain.usage.output_tokens);

    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] });
    let text = '';
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    const streamed = expected(provider, 'stream.sse');
    assert.equal(text, streamed.text);
    assert.equal(usage.completion_tokens, streamed.usage.output_tokens);

    const summary = usageOf(user);
    assert.equal(summary.totals.requests, 2);
    assert.equal(summary.by_feature.e2e.requests, 2, 'the feature header is recorded');
    assert.equal(summary.by_provider[provider].requests, 2);
    assert.match(summary.totals.cost_usd, /^\d+(\.\d+)?$/);
  });
}

test('faults: retried when they may pass, answered in OpenAI\'s format when not', async () => {
  const ask = { model: '', messages: [{ role: 'user', content: 'Hello' }] };
  const served = async () => (await (await fetch(`${mockUrl}/_mock/stats`)).json()).served;
  // A rate limit and an overload, then success: one answer (byokd tries three times).
  await setFaults(['429:0', '529', 'ok']);
  const { client } = userOf('anthropic');
  let before = await served();
  assert.equal((await client.chat.completions.create(ask)).choices[0].message.content, expected('anthropic', 'chat.json').text);
  assert.equal(await served() - before, 3, 'two retries, then the answer');
  // A bad key is never retried: 401 with the provider's reason; and the key is not tried again.
  await setFaults(['401', 'ok']);
  const { client: refused } = userOf('anthropic');
  await assert.rejects(refused.chat.completions.create(ask), (e) => e.status === 401 && e.code === 'invalid_api_key');
  before = await served();
  await assert.rejects(refused.chat.completions.create(ask), (e) => e.status === 401);
  assert.equal(await served(), before, 'a refused key is not sent again');
  // A rate limit longer than byokd waits: 429 with Retry-After; the key then rests, and calls
  // are answered 429 without going to the provider until it may be used again.
  await setFaults(['429:30']);
  const { client: limited } = userOf('anthropic');
  await assert.rejects(limited.chat.completions.create(ask), (e) => e.status === 429 && e.headers.get('retry-after') === '30');
  before = await served();
  await assert.rejects(limited.chat.completions.create(ask), (e) => e.status === 429);
  assert.equal(await served(), before, 'a resting key is not sent to');
  // A provider that stays silent past the read timeout (1 s here): retried, then 502.
  await setFaults(['slow:1500', 'slow:1500', 'slow:1500']);
  const { client: silent } = userOf('anthropic');
  before = await served();
  await assert.rejects(silent.chat.completions.create(ask), (e) => e.status === 502);
  assert.equal(await served() - before, 3, 'tried three times');
  // A stream cut off halfway: the client sees an error or a short reply; what came is recorded,
  // as estimated (the provider's usage would have come at the end).
  const { user: cut, client: cutClient } = userOf('openai');
  await setFaults(['drop']);
  let text = '';
  try {
    const stream = await cutClient.chat.completions.create({ ...ask, stream: true });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  } catch (e) {
    // The cut may surface as an error, once the stream has begun: not a refused call.
    assert.ok(text.length > 0, `the stream failed before its first delta: ${e}`);
  }
  assert.ok(text.length > 0 && text.length < expected('openai', 'stream.sse').text.length, text);
  let recorded;
  for (let i = 0; i < 50 && !recorded?.totals.requests; i++) {
    await new Promise((r) => setTimeout(r, 100));
    recorded = usageOf(cut);
  }
  assert.equal(recorded.totals.requests, 1);
  assert.equal(recorded.totals.estimated_requests, 1, 'a stream without usage is recorded as estimated');
});

test('a client that goes away mid-stream: the usage is still recorded', async () => {
  const { user } = userOf('openai');
  await setFaults(['trickle:100']); // the provider's pieces 100 ms apart
  const token = byokit(user, ['http', 'token']).trim();
  const controller = new AbortController();
  const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST', signal: controller.signal,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hello' }] }),
  });
  const reader = r.body.getReader();
  await reader.read();
  controller.abort();
  let recorded = 0;
  for (let i = 0; i < 50 && recorded === 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    recorded = usageOf(user).totals.requests;
  }
  assert.equal(recorded, 1);
  // Recorded from what was generated before the client left: the provider's usage comes at the
  // end of its stream, which byokd stopped reading.
  assert.equal(usageOf(user).totals.estimated_requests, 1);
});

test('curl with the token, through to the provider, shown by byokit usage', () => {
  const { user } = userOf('mistral');
  const token = byokit(user, ['http', 'token']).trim();
  const out = execFileSync('curl', ['-sS', '--fail-with-body', `http://127.0.0.1:${port}/v1/chat/completions`,
    '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json', '-H', 'X-Byokit-Feature: curl',
    '-d', JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Bonjour' }] })], { encoding: 'utf8' });
  const reply = JSON.parse(out);
  assert.equal(reply.choices[0].message.content, expected('mistral', 'chat.json').text);
  const table = byokit(user, ['usage', '--days', '1']);
  assert.match(table, /mistral/);
  assert.match(table, /curl/);
  assert.equal(usageOf(user).by_feature.curl.requests, 1);
});

test('auth and Host checks; models', async () => {
  const { client } = userOf('groq');
  const models = await client.models.list();
  assert.ok(models.data.some((m) => m.id === 'gpt-4o' && m.owned_by === 'openai'));
  const wrong = new OpenAI({ apiKey: 'byok-wrong', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'Hi' }] }), (e) => e.status === 401);
  // A page on another site that resolves its name to 127.0.0.1 (DNS rebinding) is refused.
  const token = byokit(`u-host`, ['http', 'token']).trim();
  const status = await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/v1/models', headers: { host: 'evil.example', authorization: `Bearer ${token}` } },
      (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject).end();
  });
  assert.equal(status, 403);
});

test('the system key: used for a user without one, up to the monthly cap, never shown', async () => {
  const user = `u-system-${Math.random().toString(36).slice(2, 8)}`;
  const client = clientFor(user);
  const ask = { model: '', max_tokens: 500, messages: [{ role: 'user', content: 'Hi' }] };
  await setFaults([]);
  const reply = await client.chat.completions.create(ask);
  assert.equal(reply.choices[0].message.content, expected('anthropic', 'chat.json').text);
  await assert.rejects(client.chat.completions.create(ask), (e) => e.status === 429 && /add your own API key/.test(e.message));
  const summary = usageOf(user);
  assert.equal(summary.by_payer.system.requests, 1);
  assert.equal(JSON.stringify(summary).includes(SYSTEM_KEY), false);
});
