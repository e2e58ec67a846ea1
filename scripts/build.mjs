// Builds dist/: the launcher CLI (dist/cli.js, ESM, npm dependencies external, commands code-split)
// and the instance agent (dist/gitstrap-agent.cjs, one self-contained file for Node 18+, no AWS SDK).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  define: { VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  sourcemap: 'linked',
  legalComments: 'none',
};

// dist/ is not emptied first: tests running beside a rebuild keep working (stale chunks are unused).

await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  packages: 'external',
});

await build({
  ...common,
  entryPoints: ['src/cli/agent.ts'],
  outfile: 'dist/gitstrap-agent.cjs',
  format: 'cjs',
  // node-cron and others read import.meta.url; in CommonJS it is the bundle's own file URL.
  define: { ...common.define, 'import.meta.url': '__gitstrap_import_meta_url' },
  banner: {
    js: `#!/usr/bin/env node\nconst __gitstrap_import_meta_url = require('node:url').pathToFileURL(__filename).href;`,
  },
  external: ['@aws-sdk/*'],
  // Start-up time on a small instance follows the bundle's size: leave out what the agent never runs.
  alias: { 'iconv-lite': './scripts/agent-bundle/iconv-lite.cjs' },
  minifyWhitespace: true,
  minifySyntax: true,
});
