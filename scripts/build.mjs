// Builds dist/: the CLI (dist/cli.js, ESM, commands code-split) and the instance agent
// (dist/gitstrap-agent.cjs, one self-contained file), both for Node 18.19+, every library bundled
// but the AWS SDK. dist/bundled-packages.json and dist/THIRD-PARTY-NOTICES.txt list what is inside.
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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
// `--clean` (npm pack's prepack) builds into a fresh folder and swaps it in, so a package holds
// only the chunks of this build.
// `--out DIR` builds into DIR instead (tests pack a copy of the package from it).
const clean = process.argv.includes('--clean');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : clean ? 'dist.next' : 'dist';
if (clean || outArg > 0) rmSync(out, { recursive: true, force: true });

const cli = await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: out,
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Every library is bundled (the package installs no dependencies but the AWS SDK, which only the
  // launcher's EC2 commands load); CommonJS libraries inside ESM output need a real require.
  external: ['@aws-sdk/*'],
  banner: {
    js: [
      "import { createRequire as __gitstrapCreateRequire } from 'node:module';",
      "import { fileURLToPath as __gitstrapFileURLToPath } from 'node:url';",
      'const require = __gitstrapCreateRequire(import.meta.url);',
      'const __filename = __gitstrapFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
  alias: { 'iconv-lite': './scripts/agent-bundle/iconv-lite.cjs' },
  metafile: true,
});

// The agent carries its systemd unit in a comment after the #! line (src/userdata/agent-unit.ts,
// with its package step): the first-boot script copies it out with sed and starts the agent before
// any Node.js has run on the machine (userdata/first-boot.sh.hbs, step unit).
const unit = await agentUnitText();
if (unit.includes('*/')) throw new Error('the agent unit text cannot go into a /* */ comment');

const agent = await build({
  ...common,
  entryPoints: ['src/cli/agent-main.ts'],
  outfile: `${out}/gitstrap-agent.cjs`,
  format: 'cjs',
  // node-cron and others read import.meta.url; in CommonJS it is the bundle's own file URL.
  define: { ...common.define, 'import.meta.url': '__gitstrap_import_meta_url' },
  banner: {
    js: `#!/usr/bin/env node\n/*gitstrap@.service\n${unit}*/\nconst __gitstrap_import_meta_url = require('node:url').pathToFileURL(__filename).href;`,
  },
  external: ['@aws-sdk/*'],
  // Start-up time on a small instance follows the bundle's size: leave out what the agent never runs.
  alias: { 'iconv-lite': './scripts/agent-bundle/iconv-lite.cjs' },
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
});

writeBundledPackages([cli.metafile, agent.metafile]);

if (clean && outArg < 0) {
  rmSync('dist.old', { recursive: true, force: true });
  try {
    renameSync('dist', 'dist.old');
  } catch {
    // no dist yet
  }
  renameSync(out, 'dist');
  rmSync('dist.old', { recursive: true, force: true });
}

/** The agent's unit with its package step, from the TypeScript that writes it (built in memory). */
async function agentUnitText() {
  const built = await build({
    entryPoints: ['src/userdata/agent-unit.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'warning',
  });
  const code = built.outputFiles[0].text;
  const module = await import(
    `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
  );
  return module.agentUnitText({ packages: true, carried: true });
}

/** The npm packages whose code is inside the bundles, from esbuild's metafiles, with their licence
 * texts: the package ships their notices, and tests check their engines against ours. */
function writeBundledPackages(metafiles) {
  const roots = new Set();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match) roots.add(match[1]);
    }
  }
  const packages = [...roots]
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      return {
        name: manifest.name,
        version: manifest.version,
        license: manifest.license ?? 'UNKNOWN',
        engines: manifest.engines?.node ?? null,
        text: licenseFile ? readFileSync(path.join(dir, licenseFile), 'utf8').trim() : undefined,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  const unique = packages.filter(
    (p, i) => i === 0 || p.name !== packages[i - 1].name || p.version !== packages[i - 1].version,
  );
  writeFileSync(
    `${out}/bundled-packages.json`,
    JSON.stringify(
      unique.map(({ text: _text, ...p }) => p),
      null,
      2,
    ) + '\n',
  );
  const notices = unique.map(
    (p) =>
      `${p.name} ${p.version} (${p.license})\n\n${p.text ?? `no licence file; licence: ${p.license}`}\n`,
  );
  writeFileSync(
    `${out}/THIRD-PARTY-NOTICES.txt`,
    `gitstrap bundles these packages into dist/cli.js, dist/chunks/ and dist/gitstrap-agent.cjs.\n\n${notices.join('\n' + '-'.repeat(72) + '\n\n')}`,
  );
  if (!existsSync(`${out}/bundled-packages.json`))
    throw new Error('bundled-packages.json not written');
}
