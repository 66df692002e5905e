// The framework pages' sign-in, as public/app.js does it: POST /api/login {user} gives the app's
// JWT, byokd's URL and the base URLs to save keys with. `getToken` signs in again shortly before
// the JWT expires; it is handed to the elements as a property, never to `configure()`.
export async function signIn() {
  const user = new URLSearchParams(location.search).get('user') ?? 'demo';
  let session = null;
  async function getToken() {
    if (!session || Date.now() > session.at + 10 * 60 * 1000) {
      const r = await fetch('/api/login', { method: 'POST', body: JSON.stringify({ user }) });
      session = { ...(await r.json()), at: Date.now() };
    }
    return session.token;
  }
  await getToken();
  return { user, byokd: session.byokd, baseUrls: session.baseUrls, getToken };
}

/** What the page says when an element reports something (its events' `detail`, docs/ui.md). */
export const said = {
  loaded: (config) => (config.active ? `Settings loaded: using the ${config.active.provider} key` : `Settings loaded: ${config.configs.length} keys`),
  saved: (detail) => `Saved ${detail.provider} key`,
  tested: (detail) => `Tested ${detail.provider}: ${detail.outcome}`,
  error: (detail) => `Error: ${detail.kind}`,
  usage: (detail) => `Usage for ${detail.days} days: ${detail.summary.totals.requests} requests`,
};
