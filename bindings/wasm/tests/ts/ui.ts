// byokit/ui's declarations as an app's TypeScript uses them (checked with tsc --strict by
// scripts/test-npm.sh, not run: the elements need a browser, where scripts/test-web-app.sh runs them).
import { configure, ByokitClient, ByokitApiError, formatMoney, sumDecimals, TEST_OUTCOMES } from 'byokit/ui';
import type { ByokitUsage, ByokitApiConfig, UsageChartData, ConfigTestResult } from 'byokit/ui';

export async function settingsPage(session: { getToken(): Promise<string | null> }): Promise<string> {
  configure({ baseUrl: 'https://byokit.example.com', getToken: () => session.getToken() });
  const config: ByokitApiConfig = document.createElement('byokit-api-config');
  config.baseUrls = { groq: 'https://proxy.example.com/groq/openai/v1' };
  config.addEventListener('byokit-tested', (e) => {
    const r = (e as CustomEvent<ConfigTestResult>).detail;
    console.log(TEST_OUTCOMES[r.outcome]);
  });
  const usage: ByokitUsage = document.createElement('byokit-usage');
  usage.days = 90;
  usage.client = new ByokitClient({ baseUrl: '', getToken: () => 'byok-token' });
  document.body.append(config, usage);
  await usage.refresh();
  const chart: UsageChartData | null = usage.chartData;
  const month = await usage.client.usage(30);
  try {
    await config.client.testConfig('groq');
  } catch (e) {
    if (e instanceof ByokitApiError) console.log(e.kind, e.status);
  }
  return `${formatMoney(month.totals.cost_usd, 'en-US')} ${sumDecimals(chart?.dayTotals ?? [])}`;
}
