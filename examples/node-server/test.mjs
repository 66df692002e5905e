// The example backend against a real byokd and the mock provider, all on 127.0.0.1: a user signs
// in to the app, their browser saves and tests a key through byokd's REST API with the app's
// JWT, uses two AI features of the app, and reads the usage; another user sees none of it.
// Run by scripts/test-node-server.sh, which gives the binaries in BYOKD, BYOKIT and BYOKIT_MOCK,
// and the mock's replies in BYOKIT_FIXTURES.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEY = `sk-proj-${randomBytes(30).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'byokit-node-server-'));
const children = [];
let app;
let byokd;
let mock;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

/** Starts a program; resolves with the first stdout line that matches `ready`. */
function start(cmd, args, env, ready) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(ready);
      if (m) resolve(m);
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  throw new Error(`${url} did not come up`);
}

before(async () => {
  mock = (await start(process.env.BYOKIT_MOCK, ['--listen', '127.0.0.1:0', '--fixtures', process.env.BYOKIT_FIXTURES], {},
    /listening on (\S+)/))[1];
  const [appPort, byokdPort] = [await freePort(), await freePort()];
  app = `http://127.0.0.1:${appPort}`;
  byokd = `http://127.0.0.1:${byokdPort}`;
  writeFileSync(join(dir, 'service-token'), randomBytes(32).toString('hex'));
  const env = { BYOKIT_SERVICE_TOKEN_FILE: join(dir, 'service-token') };
  await start('node', ['server.mjs'], { ...env, PORT: String(appPort), BYOKD_URL: byokd, APP_ISSUER: app }, /listening/);
  spawn(process.env.BYOKD, [
    '--data-dir', join(dir, 'data'), '--socket', join(dir, 'byokd.sock'), '--http', `127.0.0.1:${byokdPort}`,
    '--jwt-jwks', `${app}/.well-known/jwks.json`, '--jwt-issuer', app, '--jwt-audience', 'byokit-example',
    '--cors-origin', app,
  ], { env: { ...process.env, ...env }, stdio: 'inherit' }).on('spawn', function () { children.push(this); });
  await waitFor(`${byokd}/openapi.json`);
});

after(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Signs `user` in to the app; a "browser" that calls byokd's REST API with the app's JWT. */
async function signIn(user) {
  const r = await fetch(`${app}/api/login`, { method: 'POST', body: JSON.stringify({ user }) });
  assert.equal(r.status, 200);
  const { token, byokd: base } = await r.json();
  const call = async (method, path, body) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: app },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.equal(r.headers.get('access-control-allow-origin'), app, 'CORS for the app only');
    const text = await r.text();
    assert.ok(!text.includes(KEY), 'the key is never sent back');
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  const feature = async (path, text) => {
    const r = await fetch(`${app}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ text }) });
    return { status: r.status, body: await r.json() };
  };
  return { call, feature };
}

test('a signed-in user saves a key, uses the features and reads the usage; another sees none of it', async () => {
  const alice = await signIn('alice');
  let r = await alice.call('POST', '/api/settings/api-config', { provider: 'openai', api_key: KEY, base_url: `${mock}/openai/v1`, model: 'gpt-4o' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await alice.call('GET', '/api/settings/api-config');
  assert.match(r.body.active.api_key, /^sk-proj-…/);
  r = await alice.call('POST', '/api/settings/api-config/test', {});
  assert.equal(r.body.outcome, 'valid', JSON.stringify(r.body));

  for (const [path, text] of [['/api/ai/job-matching', 'jobs…'], ['/api/ai/job-matching', 'more jobs…'], ['/api/ai/cover-letter', 'me…']]) {
    const f = await alice.feature(path, text);
    assert.equal(f.status, 200, JSON.stringify(f.body));
    assert.equal(f.body.provider, 'openai');
    assert.match(f.body.cost_usd, /^\d+\.\d+$/, 'money as a decimal string');
  }
  for (const days of [7, 30, 90]) {
    r = await alice.call('GET', `/api/settings/usage?days=${days}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.totals.requests, 3);
    assert.equal(r.body.by_feature.job_matching.requests, 2);
    assert.equal(r.body.by_feature.cover_letter.requests, 1);
  }

  const bob = await signIn('bob');
  r = await bob.call('GET', '/api/settings/api-config');
  assert.deepEqual(r.body.configs, []);
  r = await bob.call('GET', '/api/settings/usage?days=90');
  assert.equal(r.body.totals.requests, 0);
  const f = await bob.feature('/api/ai/cover-letter', 'me…');
  assert.equal(f.status, 401, 'no key of his own, no system key: byokd says so');
  const anon = await fetch(`${app}/api/ai/cover-letter`, { method: 'POST', body: '{}' });
  assert.equal(anon.status, 401);
});
