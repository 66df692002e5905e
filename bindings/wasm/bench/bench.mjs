// Size and speed of the npm package in Node, run by scripts/bench-npm.sh in a folder where the
// packed tarball is installed. Prints one line per figure.
import { performance } from 'node:perf_hooks';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const start = performance.now();
const byokit = await import('byokit');
const initMs = performance.now() - start;

const require = createRequire(import.meta.url);
const wasm = join(require.resolve('byokit').replace(/byokit\.js$/, ''), 'byokit_bg.wasm');
const bytes = readFileSync(wasm);
console.log(`wasm: ${statSync(wasm).size} bytes, ${gzipSync(bytes, { level: 9 }).length} gzipped`);
console.log(`init (import, compile and instantiate the wasm): ${initMs.toFixed(1)} ms`);

function rate(name, fn, seconds = 2) {
  for (let i = 0; i < 1000; i++) fn(); // warm up
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  const perSecond = n / ((performance.now() - t0) / 1000);
  console.log(`${name}: ${Math.round(perSecond).toLocaleString('en-US')} calls/s (${(1e6 / perSecond).toFixed(2)} µs each)`);
}

const input = { provider: 'openai', model: 'gpt-4o', inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 };
rate('estimateCost', () => byokit.estimateCost(input));
const body = readFileSync(join(process.env.BYOKIT_FIXTURES, 'openai/chat.json'), 'utf8');
rate('usageFromResponse (OpenAI reply)', () => byokit.usageFromResponse('openai', body));
