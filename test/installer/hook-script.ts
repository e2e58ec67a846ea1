// Running the installable hook script (userdata/nc-hooks/gitstrap-bootparams) as the node
// controller does, with the built CLI on PATH as `gitstrap`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { BIN, type CliResult } from '../helpers/cli.js';
import { projectRoot } from '../helpers/tools.js';

export const HOOK_SCRIPT = path.join(projectRoot, 'userdata/nc-hooks/gitstrap-bootparams');

/** A folder holding a `gitstrap` command (the built bin), to put first on PATH. */
export function gitstrapOnPath(dir: string): string {
  if (!existsSync(path.join(projectRoot, 'dist/cli.js'))) {
    throw new Error('dist/cli.js is missing: run npm run build before the installer tests');
  }
  const bin = path.join(dir, 'path-bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(BIN, path.join(bin, 'gitstrap'));
  return bin;
}

/** Runs the hook script with these arguments, as the NC would, and collects its output. */
export function runHookScript(
  args: readonly string[],
  pathDir: string,
  { systemPath = true } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(HOOK_SCRIPT, args, {
      env: { ...process.env, PATH: systemPath ? `${pathDir}:${process.env.PATH ?? ''}` : pathDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
