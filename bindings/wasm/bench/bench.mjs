// Size and speed of the npm package in Node, side by side with @pydantic/genai-prices, run by
// scripts/bench-npm.sh in a folder where the packed tarball and genai-prices are installed.
// Prints one line per figure.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { sideBySide } from './side-by-side.mjs';

const require = createRequire(import.meta.url);
const node = dirname(require.resolve('byokit'));
const wasm = join(node, readdirSync(node).find((f) => f.endsWith('.wasm')));
const bytes = readFileSync(wasm);
console.log(`wasm: ${statSync(wasm).size} bytes, ${gzipSync(bytes, { level: 9 }).length} gzipped (Node's zlib, level 9)`);

// Import time, each in a fresh Node process (for byokit: reading, compiling and instantiating the
// wasm too); eleven processes each, alternating, the median and the range. `empty-package`
// (written by scripts/bench-npm.sh: an `exports` map like byokit's, one empty module) is what
// Node itself takes to import a package: its module loader's first use, resolution, one file.
const importMs = (name) => Number(execFileSync(process.execPath, ['--input-type=module', '-e',
  `const t = performance.now(); await import('${name}'); console.log(performance.now() - t);`]));
const times = { byokit: [], '@pydantic/genai-prices': [], 'empty-package': [] };
const runs = 11;
for (let i = 0; i < runs; i++) for (const name of Object.keys(times)) times[name].push(importMs(name));
for (const [name, ms] of Object.entries(times)) {
  ms.sort((a, b) => a - b);
  console.log(`import('${name}'): median ${ms[runs >> 1].toFixed(1)} ms (${ms[0].toFixed(1)}–${ms[runs - 1].toFixed(1)} ms, ${runs} processes)`);
}

const byokit = await import('byokit');
const genai = await import('@pydantic/genai-prices');
const body = readFileSync(join(process.env.BYOKIT_FIXTURES, 'openai/chat.json'), 'utf8');
sideBySide({ byokit, genai, body, log: console.log, cpuUsage: process.cpuUsage });
