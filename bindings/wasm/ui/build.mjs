// Bundles byokit/ui (the elements and uPlot, with uPlot's CSS as text) into one ES module, minified:
// `node build.mjs <esbuild's folder> <out dir>`. The package's WebAssembly build stays outside,
// imported by its relative path (`../web/byokit.js`) on the first key check.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const [tools, out] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const esbuild = createRequire(join(tools, 'package.json'))('esbuild');
await esbuild.build({
  entryPoints: [join(here, 'index.js')],
  outfile: join(out, 'byokit-ui.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  legalComments: 'eof',
  nodePaths: [join(tools, 'node_modules')],
  loader: { '.css': 'text' },
  external: ['../web/byokit.js'],
  logLevel: 'warning',
});
