// Bundles the designer's front-end into web/static/vendor/ (git-ignored): `npm run build`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

await build({
  entryPoints: { modeler: join(here, 'modeler.js'), compare: join(here, 'compare.js') },
  outdir: join(here, '..', 'static', 'vendor'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: [ 'chrome100', 'firefox100', 'safari15' ],
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl', '.svg': 'dataurl' },
  legalComments: 'linked',
  logLevel: 'warning'
});
