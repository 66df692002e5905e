// The app's sign-in, for the plain page (app.js) and the framework pages alike: POST /api/login
// {user} gives the app's JWT, byokd's URL and the base URLs to save keys with. `getToken` signs in
// again shortly before the JWT expires (15 minutes).
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

