// The app's sign-in, for the plain page (app.js) and the framework pages alike: POST /api/login
// {user} gives the app's JWT with its `expires_at`, byokd's URL and the base URLs to save keys
// with. `getToken` signs in again a minute before the JWT expires.
export async function signIn() {
  const user = new URLSearchParams(location.search).get('user') ?? 'demo';
  let session = null;
  async function getToken() {
    if (!session || Date.now() / 1000 > session.expires_at - 60) {
      const r = await fetch('/api/login', { method: 'POST', body: JSON.stringify({ user }) });
      session = await r.json();
    }
    return session.token;
  }
  await getToken();
  return { user, byokd: session.byokd, baseUrls: session.baseUrls, getToken };
}

