// The side-by-side benchmark of side-by-side.mjs with the package's browser build, in headless
// Chromium (Debian's, driven by playwright-core, which gives it a fresh profile), run by
// scripts/bench-npm.sh in the folder where the tarball, genai-prices and playwright-core are
// installed. Prints one line per figure.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { chromium } from 'playwright-core';

const here = process.cwd();
const routes = {
  '/byokit/': join(here, 'node_modules/byokit/'),
  '/genai/': join(here, 'node_modules/@pydantic/genai-prices/dist/'),
  '/fixtures/': process.env.BYOKIT_FIXTURES + '/',
  '/': here + '/',
};
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const page = '<!doctype html><meta charset="utf-8"><title>byokit bench</title>';

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page);
    return;
  }
  const [prefix, dir] = Object.entries(routes).find(([p]) => path.startsWith(p));
  const file = join(dir, path.slice(prefix.length));
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/index.html`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  console.log(`Chromium ${browser.version()}`);
  // Import time: a fresh page each time; for byokit, the module and `init()` (fetching, compiling
  // and instantiating the wasm), both served from 127.0.0.1.
  const times = { byokit: [], genai: [] };
  for (let i = 0; i < 5; i++) {
    for (const name of ['byokit', 'genai']) {
      const tab = await browser.newPage();
      await tab.goto(url);
      times[name].push(await tab.evaluate(async (name) => {
        const t = performance.now();
        if (name === 'byokit') await (await import('/byokit/web/byokit.js')).default();
        else await import('/genai/index.js');
        return performance.now() - t;
      }, name));
      await tab.close();
    }
  }
  for (const [name, ms] of Object.entries(times)) {
    ms.sort((a, b) => a - b);
    const label = name === 'byokit' ? "import('byokit') + init()" : "import('@pydantic/genai-prices')";
    console.log(`${label}: median ${ms[2].toFixed(1)} ms (${ms[0].toFixed(1)}–${ms[4].toFixed(1)} ms, 5 pages)`);
  }
  const tab = await browser.newPage();
  tab.on('console', (m) => console.log(m.text()));
  await tab.goto(url);
  await tab.evaluate(async () => {
    const byokit = await import('/byokit/web/byokit.js');
    await byokit.default();
    const genai = await import('/genai/index.js');
    const { sideBySide } = await import('/side-by-side.mjs');
    const body = await (await fetch('/fixtures/openai/chat.json')).text();
    sideBySide({ byokit, genai, body, log: console.log });
  });
} finally {
  await browser.close();
  server.close();
}
