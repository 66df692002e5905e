// The framework pages' sign-in is the plain page's (public/session.js); `getToken` is handed to
// the elements as a property, never to `configure()`.
export { signIn } from '../public/session.js';

/** The app's own window buttons, in days. */
export const WINDOWS = [7, 30, 90];

/** What the page says when an element reports something (its events' `detail`, docs/ui.md). */
export const said = {
  loaded: (config) => (config.active ? `Settings loaded: using the ${config.active.provider} key` : `Settings loaded: ${config.configs.length} keys`),
  saved: (detail) => `Saved ${detail.provider} key`,
  tested: (detail) => `Tested ${detail.provider}: ${detail.outcome}`,
  error: (detail) => `Error: ${detail.kind}`,
  usage: (detail) => `Usage for ${detail.days} days: ${detail.summary.totals.requests} requests`,
};
