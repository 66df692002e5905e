// The spec's web app, reduced to its settings page and its five AI features, beside byokd.
// No dependencies: Node's own HTTP server and crypto.
//
// - Sign-in: POST /api/login {user} gives the app's own JWT (ES256) and its `expires_at`; its
//   public key is served at /.well-known/jwks.json, where byokd verifies it
//   (`--jwt-jwks <this app>/.well-known/jwks.json`).
// - The settings page (index.html) is the two web components of byokit/ui, calling byokd's REST
//   API directly from the browser with that JWT (byokd allows this origin: `--cors-origin`).
// - The AI features: POST /api/ai/<feature> calls byokd's OpenAI-compatible /v1 for the signed-in
//   user, tagged with the feature (X-Byokit-Feature); byokd picks the key, records the usage and
//   its exact cost. The user's /v1 token comes from byokd, asked with the app's service token.
//
// Environment: PORT (3000), BYOKD_URL (http://127.0.0.1:8787), BYOKIT_SERVICE_TOKEN_FILE,
// BYOKIT_PACKAGE_DIR (the installed npm package `byokit`, served at /byokit/), APP_ISSUER,
// PROVIDER_BASE_URLS (optional JSON {provider: base URL} the page saves keys with: a mock in tests).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { join, extname, dirname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.PORT ?? 3000);
const BYOKD = process.env.BYOKD_URL ?? 'http://127.0.0.1:8787';
const ISSUER = process.env.APP_ISSUER ?? `http://127.0.0.1:${PORT}`;
const AUDIENCE = 'byokit-web-app';
const PACKAGE = process.env.BYOKIT_PACKAGE_DIR ?? join(here, 'node_modules', 'byokit');
const SERVICE_TOKEN = readFileSync(process.env.BYOKIT_SERVICE_TOKEN_FILE, 'utf8').trim();
const BASE_URLS = JSON.parse(process.env.PROVIDER_BASE_URLS ?? '{}');

/** The AI features of the spec, each with its instructions. */
const FEATURES = {
  portfolio_chat: 'You answer questions about the candidate\'s portfolio.',
  resume_generation: 'Write a resume from these notes.',
  cover_letter: 'Write a short cover letter.',
  assistant: 'You are a helpful assistant.',
  job_matching: 'Rank these jobs for the candidate.',
};

// The sign-in key, made at start: a real app's identity provider (Clerk, Supabase Auth, …) has it.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'web-app-1', alg: 'ES256', use: 'sig' };
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** The app's JWT for `user`, valid 15 minutes, and when it expires (seconds since the epoch). */
function issueJwt(user) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + 900;
  const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: jwk.kid })}.${b64({ sub: user, iss: ISSUER, aud: AUDIENCE, iat: now, exp })}`;
  return { token: `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`, expiresAt: exp };
}

/** The user a request's JWT names, or null. */
function signedIn(req) {
  const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
  const [h, p, s] = token.split('.');
  if (!s) return null;
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) return null;
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  return claims.iss === ISSUER && claims.aud === AUDIENCE && claims.exp > Date.now() / 1000 ? claims.sub : null;
}

/** The user's token for byokd's /v1, asked once with the service token. */
const v1Tokens = new Map();
async function v1Token(user) {
  if (!v1Tokens.has(user)) {
    const r = await fetch(`${BYOKD}/api/settings/http-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'x-byokit-user': user, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web-app' }),
    });
    if (!r.ok) throw new Error(`byokd: ${r.status} ${await r.text()}`);
    v1Tokens.set(user, (await r.json()).token);
  }
  return v1Tokens.get(user);
}

const json = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

async function staticFile(res, root, rel) {
  const file = normalize(join(root, rel));
  if (!file.startsWith(root)) return json(res, 404, { error: 'not found' });
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    json(res, 404, { error: 'not found' });
  }
}

async function aiFeature(req, res, feature) {
  const user = signedIn(req);
  if (!user) return json(res, 401, { error: { kind: 'unauthorized', message: 'sign in first' } });
  let body = '';
  for await (const c of req) body += c;
  const { text } = JSON.parse(body || '{}');
  const r = await fetch(`${BYOKD}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await v1Token(user)}`, 'content-type': 'application/json', 'x-byokit-feature': feature },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'system', content: FEATURES[feature] }, { role: 'user', content: String(text ?? '') }] }),
  });
  const reply = await r.json();
  if (!r.ok) return json(res, r.status, { error: { kind: reply.error?.byokit?.kind ?? reply.error?.code ?? 'error', message: reply.error?.message ?? `HTTP ${r.status}` } });
  json(res, 200, { answer: reply.choices[0].message.content, model: reply.model, ...reply.byokit });
}

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (req.method === 'POST' && url.pathname === '/api/login') {
      let body = '';
      for await (const c of req) body += c;
      const { user } = JSON.parse(body || '{}');
      if (typeof user !== 'string' || !/^[\w.@-]{1,64}$/.test(user)) return json(res, 400, { error: 'user?' });
      const { token, expiresAt } = issueJwt(user);
      return json(res, 200, { token, expires_at: expiresAt, byokd: BYOKD, baseUrls: BASE_URLS });
    }
    if (url.pathname === '/.well-known/jwks.json') return json(res, 200, { keys: [jwk] });
    const feature = url.pathname.match(/^\/api\/ai\/([a-z_]+)$/)?.[1];
    if (req.method === 'POST' && feature && FEATURES[feature]) return await aiFeature(req, res, feature);
    if (url.pathname.startsWith('/byokit/')) return await staticFile(res, PACKAGE, url.pathname.slice(8));
    if (req.method === 'GET') return await staticFile(res, join(here, 'public'), url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
    json(res, 404, { error: 'not found' });
  } catch (e) {
    json(res, 502, { error: { kind: 'unreachable', message: e.message } });
  }
}).listen(PORT, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${PORT}`));
