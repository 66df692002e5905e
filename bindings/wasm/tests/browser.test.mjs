// The web build in a real browser (Debian's Chromium, driven by playwright-core): the usage
// dashboard page computes its figures with byokit, they match the Node build's to the last digit,
// the shared reply fixtures read the same, and a screenshot is taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { chromium } from 'playwright-core';
import { estimateCost } from 'byokit';

const pageDir = process.env.BYOKIT_BROWSER_DIR;
const pkgDir = join(process.cwd(), 'node_modules', 'byokit');
const fixtures = process.env.BYOKIT_FIXTURES;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.startsWith('/byokit/') ? join(pkgDir, path.slice(8))
      : path.startsWith('/fixtures/') ? join(fixtures, path.slice(10))
      : join(pageDir, path === '/' ? 'index.html' : path.slice(1));
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('the dashboard in Chromium agrees with Node, and the fixtures read the same', async () => {
  const server = await serve();
  const { port } = server.address();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/index.html`);
    await page.waitForFunction(() => window.byokitReady === true, null, { timeout: 20000 });
    assert.deepEqual(errors, []);
    assert.equal(await page.textContent('#requests'), '120');
    assert.match(await page.textContent('#cost'), /^\$\d+\.\d{4}$/);
    assert.equal(await page.locator('#by-provider tbody tr').count(), 4); // openai, anthropic, groq, gemini

    // The same calls priced by the Node build: the same total, to the nano-dollar.
    const kinds = [
      ['openai', 'gpt-4o-mini', 1500, 400, 0], ['anthropic', 'claude-sonnet-4', 3200, 1200, 0],
      ['groq', 'openai/gpt-oss-120b', 2200, 800, 0], ['gemini', 'gemini-2.5-flash', 4000, 600, 1000],
      ['openai', 'gpt-4o', 2000, 300, 1536],
    ];
    let total = 0n;
    for (let i = 0; i < 120; i++) {
      const [provider, model, input, output, cached] = kinds[i % kinds.length];
      const usd = estimateCost({ provider, model, inputTokens: input + i, outputTokens: output, cachedInputTokens: cached }).costUsd;
      const [w, f = ''] = usd.split('.');
      total += BigInt(w) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9));
    }
    assert.equal(await page.evaluate(() => window.byokitTotalNano), total.toString());

    // Every reply fixture, parsed by the web build in the page.
    const mismatches = await page.evaluate(async () => {
      const { usageFromResponse } = await import('./byokit/web/byokit.js');
      const { cases } = await (await fetch('/fixtures/expectations.json')).json();
      const out = [];
      for (const c of cases.filter((c) => c.kind === 'response')) {
        const r = usageFromResponse(c.provider, await (await fetch(`/fixtures/${c.file}`)).text());
        const u = c.expect.usage;
        const same = r.inputTokens === u.input_tokens && r.outputTokens === u.output_tokens
          && r.cachedInputTokens === u.cached_input_tokens && r.cacheWriteTokens === u.cache_write_tokens
          && r.reasoningTokens === u.reasoning_tokens && r.text === c.expect.text && r.model === c.expect.model;
        if (!same) out.push(c.file);
      }
      return { out, n: cases.filter((c) => c.kind === 'response').length };
    });
    assert.deepEqual(mismatches.out, []);
    assert.ok(mismatches.n >= 9);

    if (process.env.BYOKIT_SCREENSHOT) await page.screenshot({ path: process.env.BYOKIT_SCREENSHOT, fullPage: true });
  } finally {
    await browser.close();
    server.close();
  }
});
