// The real checkers the user-data must satisfy: cloud-init's schema, shellcheck, systemd's verify.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireTool } from '../helpers/tools.js';

export interface ToolResult {
  status: number | null;
  output: string;
}

function run(command: string, args: string[]): ToolResult {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `cloud-init schema -c FILE` on a cloud-config text. */
export function cloudInitSchema(dir: string, name: string, text: string): ToolResult {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return run(requireTool('cloud-init', 'cloud-init'), ['schema', '-c', file]);
}

/** `shellcheck -s sh` on a script text (every check at its default severity, less `exclude`). */
export function shellcheck(
  dir: string,
  name: string,
  text: string,
  exclude: string[] = [],
): ToolResult {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  const excluded = exclude.length ? [`--exclude=${exclude.join(',')}`] : [];
  return run(requireTool('shellcheck', 'shellcheck'), ['-s', 'sh', '-f', 'gcc', ...excluded, file]);
}

/** `systemd-analyze verify --root=ROOT UNIT...`, with the distribution's units copied in (once)
 * and a stand-in for every absolute command the units start. */
export function verifyUnits(root: string, units: string[], commands: string[]): ToolResult {
  const tool = requireTool('systemd-analyze', 'systemd');
  const system = existsSync('/usr/lib/systemd/system')
    ? '/usr/lib/systemd/system'
    : '/lib/systemd/system';
  const copy = path.join(root, 'usr/lib/systemd/system');
  if (!existsSync(copy)) cpSync(system, copy, { recursive: true, verbatimSymlinks: true });
  for (const command of commands) {
    const file = path.join(root, command);
    if (existsSync(file)) continue;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o755);
  }
  return run(tool, ['verify', `--root=${root}`, ...units]);
}

/** The program bash reads from a script (`bash --pretty-print`: comments and layout gone; it
 * keeps a blank line for each run of them between top-level commands, which are dropped too). */
export function bashProgram(dir: string, text: string): string {
  const file = path.join(dir, 'program.sh');
  writeFileSync(file, text);
  const result = run(requireTool('bash', 'bash'), ['--pretty-print', file]);
  if (result.status !== 0) throw new Error(`bash cannot read the script: ${result.output}`);
  return result.output
    .split('\n')
    .filter((line) => line !== '')
    .join('\n');
}
