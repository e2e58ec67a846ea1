#!/usr/bin/env node
// Starts the bootstrap program; the code is in dist/, built by `npm run build` (run by `npm ci`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error(
    'error: gitstrap is not built (dist/cli.js is missing)\n  hint: run "npm run build"',
  );
  process.exit(3);
}
await import(cli.href);
