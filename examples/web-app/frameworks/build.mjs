// Builds the framework pages, <out dir>/{react,vue,svelte}.html, and their bundles from their
// sources with esbuild: React (JSX), Vue (an SFC compiled by @vue/compiler-sfc, the byokit- tags
// declared custom elements) and Svelte 5 (svelte/compiler's compile()). `byokit/ui` stays
// external: the pages map it to the package's own byokit-ui.js with an import map, as index.html
// does. `node frameworks/build.mjs [out dir]` (public/frameworks by default, served as
// /frameworks/), from the folder where the pinned devDependencies are installed.
import { readFile, writeFile } from 'node:fs/promises';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { parse, compileScript } from '@vue/compiler-sfc';
import { compile } from 'svelte/compiler';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, '..', 'public', 'frameworks');
const isCustomElement = (tag) => tag.startsWith('byokit-');

/**
 * A .vue file: <script setup> with its template inlined, compiled at build time. The byokit- tags
 * are custom elements both when the template is parsed and when it is compiled.
 */
const vue = {
  name: 'vue-sfc',
  setup(build) {
    build.onLoad({ filter: /\.vue$/ }, async ({ path }) => {
      const { descriptor, errors } = parse(await readFile(path, 'utf8'), { filename: path, templateParseOptions: { isCustomElement } });
      if (errors.length) return { errors: errors.map((e) => ({ text: String(e.message ?? e) })) };
      const script = compileScript(descriptor, {
        id: basename(path), inlineTemplate: true, templateOptions: { compilerOptions: { isCustomElement } },
      });
      return { contents: script.content, loader: 'js', resolveDir: dirname(path) };
    });
  },
};

/** A .svelte file: compiled for the browser by Svelte's own compiler. */
const svelte = {
  name: 'svelte',
  setup(build) {
    build.onLoad({ filter: /\.svelte$/ }, async ({ path }) => {
      const { js, warnings } = compile(await readFile(path, 'utf8'), { filename: path, generate: 'client', dev: false });
      return { contents: js.code, loader: 'js', resolveDir: dirname(path), warnings: warnings.map((w) => ({ text: w.message })) };
    });
  },
};

/** The page of each framework: its name, and the bundle of its entry. */
const PAGES = [['react', 'React'], ['vue', 'Vue'], ['svelte', 'Svelte']];
const page = (id, name) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Settings in ${name} — byokit web app example</title>
  <script type="importmap">{ "imports": { "byokit/ui": "/byokit/ui/byokit-ui.js" } }</script>
  <link rel="stylesheet" href="/frameworks.css">
</head>
<body>
  <main id="app"></main>
  <script type="module" src="./${id}.js"></script>
</body>
</html>
`;

await esbuild.build({
  entryPoints: ['react.jsx', 'vue.js', 'svelte.js'].map((f) => join(here, f)),
  outdir: out,
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  jsx: 'automatic',
  conditions: ['svelte', 'browser'],
  external: ['byokit/ui'],
  plugins: [vue, svelte],
  define: {
    'process.env.NODE_ENV': '"production"',
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  logLevel: 'warning',
});
for (const [id, name] of PAGES) await writeFile(join(out, `${id}.html`), page(id, name));
