// byokit/ui: the spec's two settings pages as custom elements, framework-free.
//   import { configure } from 'byokit/ui';
//   configure({ baseUrl: 'https://byokit.example.com', getToken: () => session.getToken() });
//   <byokit-api-config></byokit-api-config> <byokit-usage days="30"></byokit-usage>
import { ByokitApiConfig, TEST_OUTCOMES } from './api-config.js';
import { ByokitUsage } from './usage.js';

export { ByokitClient, ByokitApiError, configure } from './client.js';
export { formatMoney, sumDecimals } from './money.js';
export { ByokitApiConfig, ByokitUsage, TEST_OUTCOMES };

// Defined where there is a DOM; on a server (SSR) the module imports without defining anything.
if (globalThis.customElements) {
  if (!customElements.get('byokit-api-config')) customElements.define('byokit-api-config', ByokitApiConfig);
  if (!customElements.get('byokit-usage')) customElements.define('byokit-usage', ByokitUsage);
}
