// A web app's backend beside byokd, in the style of the spec's Next.js API routes: each route is
// a function from a web `Request` to a `Response`.
//
// - It signs its users in with its own JWTs (ES256, key made at start, JWKS served at
//   /.well-known/jwks.json), which byokd verifies (`byokd --jwt-jwks <this app>/.well-known/jwks.json`).
// - The browser calls byokd's REST API (/api/settings/*) directly with that JWT: the app's
//   settings pages need no code here.
// - The app's AI features call byokd's OpenAI-compatible endpoint with the official `openai`
//   package, each call tagged with its feature; byokd picks the user's key, records the usage
//   and its exact cost. The user's /v1 token comes from byokd with the app's service token.
//
// Environment: PORT, BYOKD_URL (http://127.0.0.1:8787), BYOKIT_SERVICE_TOKEN_FILE, APP_ISSUER,
// APP_AUDIENCE.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { generateKeyPair, exportJWK, SignJWT, jwtVerify, createLocalJWKSet } from 'jose';
import OpenAI from 'openai';

const PORT = Number(process.env.PORT ?? 3000);
const BYOKD = process.env.BYOKD_URL ?? 'http://127.0.0.1:8787';
const ISSUER = process.env.APP_ISSUER ?? `http://127.0.0.1:${PORT}`;
const AUDIENCE = process.env.APP_AUDIENCE ?? 'byokit-example';
const SERVICE_TOKEN = readFileSync(process.env.BYOKIT_SERVICE_TOKEN_FILE, 'utf8').trim();

// The sign-in key: a real app keeps it in its identity provider (Clerk, Supabase Auth, …).
const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'app-1', alg: 'ES256', use: 'sig' };
const jwks = { keys: [jwk] };
const localJwks = createLocalJWKSet(jwks);

const json = (body, status = 200) => Response.json(body, { status });

/** The signed-in user of a request (`Authorization: Bearer <the app's JWT>`), or null. */
async function signedIn(req) {
  const token = req.headers.get('authorization')?.replace(/^Bearer /, '');
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, localJwks, { issuer: ISSUER, audience: AUDIENCE });
    return payload.sub;
  } catch {
    return null;
  }
}

/** The user's token for byokd's /v1, asked once with the service token. */
const v1Tokens = new Map();
async function v1Token(user) {
  if (!v1Tokens.has(user)) {
    const r = await fetch(`${BYOKD}/api/settings/http-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'x-byokit-user': user, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web-backend' }),
    });
    if (!r.ok) throw new Error(`byokd: ${r.status} ${await r.text()}`);
    v1Tokens.set(user, (await r.json()).token);
  }
  return v1Tokens.get(user);
}

/** An OpenAI client that calls through byokd as `user`, its calls tagged with `feature`. */
async function ai(user, feature) {
  return new OpenAI({
    baseURL: `${BYOKD}/v1`,
    apiKey: await v1Token(user),
    defaultHeaders: { 'X-Byokit-Feature': feature },
    maxRetries: 1,
  });
}

/** An AI feature: the user's prompt, answered through byokd, with what it cost. */
const feature = (name, instructions) => async (req) => {
  const user = await signedIn(req);
  if (!user) return json({ error: 'sign in first' }, 401);
  const { text } = await req.json();
  const client = await ai(user, name);
  try {
    const reply = await client.chat.completions.create({
      model: 'auto', // byokd picks the user's configured model, or the feature's (routing)
      messages: [{ role: 'system', content: instructions }, { role: 'user', content: String(text ?? '') }],
    });
    return json({ answer: reply.choices[0].message.content, cost_usd: reply.byokit?.cost_usd, provider: reply.byokit?.provider });
  } catch (e) {
    // byokd's error, as the openai client reports it: no key, over budget, rate limited, …
    return json({ error: e.message, code: e.code ?? null }, e.status ?? 502);
  }
};

const routes = {
  // Sign-in. A demo: a real app checks a password or delegates to its identity provider.
  'POST /api/login': async (req) => {
    const { user } = await req.json();
    if (typeof user !== 'string' || !/^[\w.@-]{1,64}$/.test(user)) return json({ error: 'user?' }, 400);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
      .setSubject(user).setIssuer(ISSUER).setAudience(AUDIENCE)
      .setIssuedAt().setExpirationTime('15m')
      .sign(privateKey);
    // The browser calls byokd's settings API itself, with this token.
    return json({ token, byokd: BYOKD });
  },
  'GET /.well-known/jwks.json': async () => json(jwks),
  'POST /api/ai/job-matching': feature('job_matching', 'Rank these jobs for the candidate.'),
  'POST /api/ai/cover-letter': feature('cover_letter', 'Write a short cover letter.'),
};

createServer(async (incoming, outgoing) => {
  const chunks = [];
  for await (const c of incoming) chunks.push(c);
  const url = new URL(incoming.url, `http://${incoming.headers.host}`);
  const req = new Request(url, {
    method: incoming.method,
    headers: incoming.headers,
    body: ['GET', 'HEAD'].includes(incoming.method) ? undefined : Buffer.concat(chunks),
  });
  const route = routes[`${incoming.method} ${url.pathname}`];
  const res = route ? await route(req).catch((e) => json({ error: e.message }, 500)) : json({ error: 'not found' }, 404);
  outgoing.writeHead(res.status, Object.fromEntries(res.headers));
  outgoing.end(Buffer.from(await res.arrayBuffer()));
}).listen(PORT, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${PORT}`));
