
// Node: the wasm is read and instantiated as the package is imported. `node:fs` is taken with
// `process.getBuiltinModule` (Node 20.16 and later), else through `require`: importing it as an
// ES module builds its whole namespace, streams included, which took longer than compiling the
// wasm, and making a `require` took 0.8 ms of the import (docs/benchmarks.md).
import { initSync } from './byokit_wasm.js';

const fs = process.getBuiltinModule?.('node:fs')
  ?? (await import('node:module')).createRequire(import.meta.url)('node:fs');
initSync({ module: fs.readFileSync(new URL('byokit_wasm_bg.wasm', import.meta.url)) });
