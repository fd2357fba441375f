// Builds the dashboard into dist/: src/main.js and everything it imports
// (Chart.js, the stylesheet) bundled and minified by esbuild under
// content-hashed names, index.html pointing at them, the favicon, and the
// licence of every bundled package. The Go package embeds dist/ as is, so
// the Go build never needs npm; `make web-check` rebuilds and fails when
// the committed dist/ differs.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

process.chdir(dirname(fileURLToPath(import.meta.url)));

// Packages bundled into the app, whose licences must ship next to it.
const bundled = { 'chart.js': 'LICENSE.chart.js.md', '@kurkle/color': 'LICENSE.kurkle-color.md' };

await rm('dist', { recursive: true, force: true });
await mkdir('dist');

const result = await esbuild.build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  entryNames: '[name]-[hash]',
  outdir: 'dist',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const names = {};
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  if (out.endsWith('.js')) names['app.js'] = basename(out);
  if (out.endsWith('.css')) names['app.css'] = basename(out);
  for (const input of Object.keys(meta.inputs)) {
    const pkg = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
    if (pkg && !bundled[pkg]) throw new Error(`${pkg} is bundled but its licence is not shipped: add it to build.mjs`);
  }
}

let html = await readFile('src/index.html', 'utf8');
html = html.replace(/\{\{(app\.(?:js|css))\}\}/g, (_, k) => {
  if (!names[k]) throw new Error(`no output for ${k}`);
  return names[k];
});
await writeFile('dist/index.html', html);
await copyFile('src/favicon.svg', 'dist/favicon.svg');
for (const [pkg, file] of Object.entries(bundled)) {
  await copyFile(`node_modules/${pkg}/LICENSE.md`, `dist/${file}`);
}
console.log(`web/dist: ${Object.values(names).join(', ')}, index.html, favicon.svg, ${Object.values(bundled).join(', ')}`);
