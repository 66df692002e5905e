
// Node: the wasm is read and instantiated as the package is imported. `node:fs` is taken through
// `require`: importing it as an ES module builds its whole namespace, streams included, which
// took longer than compiling the wasm.
import { createRequire } from 'node:module';
import { initSync } from './byokit_wasm.js';

initSync({ module: createRequire(import.meta.url)('node:fs').readFileSync(new URL('byokit_wasm_bg.wasm', import.meta.url)) });
