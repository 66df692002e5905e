// byokit/daemon against a real byokd (started by scripts/test-npm.sh; its socket in
// BYOKIT_TEST_SOCKET), which calls a mock OpenAI server run here on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient, MAX_MESSAGE_BYTES, decodeLine, defaultSocketPath, encodeRequest } from 'byokit/daemon';
import { isByokitError } from 'byokit';

const socket = process.env.BYOKIT_TEST_SOCKET;
const fixtures = process.env.BYOKIT_FIXTURES;
const KEY = 'sk-proj-Js1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7j5W2';

/** A mock OpenAI: the shared fixtures, streamed or not, for the right key; a 401 otherwise. */
function mockOpenAi() {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end(readFileSync(join(fixtures, 'openai/error_401_invalid_api_key.json')));
      }
      const stream = JSON.parse(body).stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(readFileSync(join(fixtures, stream ? 'openai/stream.sse' : 'openai/chat.json')));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('the daemon client: settings, chat, streaming, usage, errors', async () => {
  const server = await mockOpenAi();
  const client = await DaemonClient.connect(socket);
  try {
    assert.equal((await client.status()).socket, socket);
    const baseUrl = `http://127.0.0.1:${server.address().port}/v1`;
    const saved = await client.configSave({ user: 'node', provider: 'openai', apiKey: KEY, baseUrl });
    assert.equal(saved.apiKey, 'sk-proj-…j5W2');
    assert.equal(saved.isActive, true);
    const { active, configs } = await client.configGet({ user: 'node' });
    assert.equal(active.keyId, saved.keyId);
    assert.equal(configs.length, 1);
    assert.equal(JSON.stringify(configs).includes(KEY), false, 'the key never comes back');

    const reply = await client.chat({ user: 'node', feature: 'Job Matching', messages: [{ role: 'user', content: 'Capital of Australia?' }] });
    assert.equal(reply.text, 'The capital of Australia is Canberra.');
    assert.equal(reply.costStatus, 'exact');

    const deltas = [];
    const streamed = await client.chat({ user: 'node', messages: [{ role: 'user', content: 'Order a coffee' }], onDelta: (t) => deltas.push(t) });
    assert.ok(deltas.length > 1);
    assert.equal(deltas.join(''), streamed.text);

    const record = { user: 'node', provider: 'anthropic', model: 'claude-sonnet-4', usage: { inputTokens: 1000, outputTokens: 1000 }, idempotencyKey: 'node-1' };
    // Calls overlap on one connection; each gets its own reply.
    const [first, again] = await Promise.all([client.usageRecord(record), client.usageRecord(record)]);
    assert.equal(first.costUsd, '0.018');
    assert.deepEqual([first.duplicate, again.duplicate].sort(), [false, true]);

    const summary = await client.usageSummary({ user: 'node', days: 30 });
    assert.equal(summary.totals.requests, 3);
    assert.equal(summary.byFeature['Job Matching'].requests, 1, 'feature names are data, kept as they are');
    assert.ok(summary.byProvider.openai && summary.byProvider.anthropic);

    assert.equal((await client.route({ user: 'node' })).provider, 'openai');
    const featureModels = { 'Job Matching': { provider: 'openai', model: 'gpt-4o-mini' }, cover_letters: { provider: 'openai', model: 'gpt-4o' } };
    const settings = await client.routingSet({ user: 'node', featureModels });
    assert.deepEqual(settings.featureModels, featureModels, 'feature names are kept as they are');
    assert.deepEqual((await client.routingGet({ user: 'node' })).fallbackChain, []);
    assert.equal((await client.route({ user: 'node', feature: 'Job Matching' })).model, 'gpt-4o-mini');
    assert.deepEqual((await client.usageSummary({ user: 'someone-else' })).totals.requests, 0);

    // A key the provider refuses: an Error whose kind says so.
    await client.configSave({ user: 'node', provider: 'openai', apiKey: KEY.replace('j5W2', 'zzzz'), baseUrl });
    await assert.rejects(client.chat({ user: 'node', messages: [{ role: 'user', content: 'Hi' }] }),
      (e) => isByokitError(e) && e.kind === 'invalidKey' && e.code === -32004);
    await assert.rejects(client.configSave({ user: 'node', provider: 'openai', apiKey: 'not a key' }), (e) => e.kind === 'invalidKey' && e.data.kind === 'bad_key' && e.code === -32001);
    // One key tested by its id; with `add`, a second key beside it; a key deleted by its id.
    const refused = (await client.configGet({ user: 'node' })).active;
    const tested = await client.configTest({ user: 'node', provider: 'openai', keyId: refused.keyId });
    assert.deepEqual([tested.provider, tested.outcome], ['openai', 'invalid_key']);
    const added = await client.configSave({ user: 'node', provider: 'openai', apiKey: KEY, baseUrl, add: true });
    assert.deepEqual((await client.configGet({ user: 'node' })).configs.map((c) => c.keyId).sort(),
      [refused.keyId, added.keyId].sort());
    assert.deepEqual(await client.configDelete({ user: 'node', provider: 'openai', keyId: refused.keyId }), { deleted: 1 });
    assert.deepEqual((await client.configGet({ user: 'node' })).configs.map((c) => c.keyId), [added.keyId]);
    // Without a budget, budget.get answers null.
    assert.equal(await client.budgetGet({ user: 'node' }), null);
    await assert.rejects(client.call('no.such.method'), (e) => e.kind === 'methodNotFound');
  } finally {
    client.close();
    server.close();
  }
});

test('no daemon: a clear error, not a hang', async () => {
  await assert.rejects(DaemonClient.connect(`${socket}.nothing-here`), (e) => e.kind === 'daemonUnreachable' && e.message.includes('nothing-here'));
  assert.equal(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/7' }), '/run/user/7/byokit/byokd.sock');
  // On Windows, the core's rule: a named pipe per user.
  assert.equal(defaultSocketPath({ USERNAME: 'ada' }, 'win32'), String.raw`\\.\pipe\byokit-ada`);
  assert.equal(defaultSocketPath({ USERNAME: String.raw`CORP\ada` }, 'win32'), String.raw`\\.\pipe\byokit-CORP_ada`);
  assert.equal(defaultSocketPath({}, 'win32'), String.raw`\\.\pipe\byokit`);
  assert.equal(defaultSocketPath({ BYOKIT_SOCKET: String.raw`\\.\pipe\mine` }, 'win32'), String.raw`\\.\pipe\mine`);
});

/** The shared JSON-RPC cases (tests/fixtures/jsonrpc/cases.json), as the core codec reads them. */
const cases = JSON.parse(readFileSync(join(fixtures, '..', 'jsonrpc', 'cases.json'), 'utf8'));

test('byokd\'s lines read as the core codec reads them, on the shared cases', () => {
  assert.ok(cases.lines.length > 30);
  for (const c of cases.lines) {
    if (c.malformed) {
      assert.throws(() => decodeLine(c.line), (e) => isByokitError(e) && e.kind === 'malformedResponse', c.name);
    } else {
      assert.deepEqual(decodeLine(c.line), c.decoded, c.name);
    }
  }
});

test('requests are the cases\' lines, or refused over the limit before they are sent', () => {
  assert.equal(MAX_MESSAGE_BYTES, cases.limit_bytes);
  for (const c of cases.requests) {
    const params = c.string_param_bytes === undefined ? c.params : 'x'.repeat(c.string_param_bytes);
    if (c.line !== undefined) {
      assert.equal(encodeRequest(c.id, c.method, params), c.line, c.name);
    } else if (c.sent) {
      assert.equal(Buffer.byteLength(encodeRequest(c.id, c.method, params)), MAX_MESSAGE_BYTES + 1, c.name);
    } else {
      assert.throws(() => encodeRequest(c.id, c.method, params),
        (e) => e.kind === 'tooLarge' && e.data.limitBytes === cases.too_large.limit_bytes && e.message.includes('not sent'), c.name);
    }
  }
});

/** Settles with `promise`, or rejects after `ms`: a hang is a failure, not a stuck test. */
function within(ms, promise) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s: the call hangs`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('a request over 1 MiB fails at once against byokd, and the connection goes on', async () => {
  const client = await DaemonClient.connect(socket);
  try {
    const started = Date.now();
    await assert.rejects(
      within(8000, client.call('usage.record', { user: 'node', provider: 'openai', model: 'gpt-4o', feature: 'x'.repeat(2 * 1024 * 1024), usage: { inputTokens: 1 } })),
      (e) => isByokitError(e) && e.kind === 'tooLarge' && e.code === -32600 && /over byokd's limit of 1048576 bytes; it was not sent/.test(e.message));
    assert.ok(Date.now() - started < 2000);
    assert.equal((await client.status()).socket, socket);
  } finally {
    client.close();
  }
});

/** A stand-in for byokd on a temporary socket: `script(request, write)` for each request line. */
async function fakeDaemon(script) {
  const path = join(mkdtempSync(join(tmpdir(), 'byokit-fake-')), 'byokd.sock');
  const server = net.createServer((conn) => {
    let buffer = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk) => {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        script(request, (message) => conn.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`));
      }
    });
  });
  await new Promise((resolve) => server.listen(path, resolve));
  return { path, close: () => server.close() };
}

test('an error without an id fails the oldest call waiting; the others get their replies', async () => {
  const requests = [];
  const fake = await fakeDaemon((request, write) => {
    requests.push(request);
    if (requests.length < 2) return;
    write({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'message over 1048576 bytes' } });
    write({ jsonrpc: '2.0', id: requests[1].id, result: { ok: true } });
  });
  const client = await DaemonClient.connect(fake.path);
  try {
    const first = client.callRaw('usage.record', {});
    const second = client.callRaw('daemon.status', {});
    await assert.rejects(within(5000, first), (e) => e.kind === 'invalidInput' && e.data.kind === 'invalid_request' && e.code === -32600 && e.message === 'message over 1048576 bytes');
    assert.deepEqual(await within(5000, second), { ok: true });
  } finally {
    client.close();
    fake.close();
  }
});

test('a silent byokd is a timeout; a call\'s notifications start its wait again', async () => {
  const fake = await fakeDaemon((request, write) => {
    if (request.method !== 'streaming') return; // never answered
    let n = 0;
    const tick = setInterval(() => {
      if (++n < 5) return write({ jsonrpc: '2.0', method: 'chat.delta', params: { id: request.id, text: `${n}` } });
      clearInterval(tick);
      write({ jsonrpc: '2.0', id: request.id, result: 'done' });
    }, 100);
  });
  const client = await DaemonClient.connect(fake.path, { readTimeoutMs: 250 });
  try {
    const started = Date.now();
    await assert.rejects(within(5000, client.callRaw('daemon.status', {})),
      (e) => e.kind === 'daemonUnreachable' && /no reply within 0.25 s/.test(e.message));
    assert.ok(Date.now() - started < 2000);
    const deltas = [];
    assert.equal(await within(5000, client.callRaw('streaming', {}, { onNotification: (_, p) => deltas.push(p.text) })), 'done');
    assert.deepEqual(deltas, ['1', '2', '3', '4']);
  } finally {
    client.close();
    fake.close();
  }
});
