// Shared pieces of the data-sync tests: a real data repo served by `git daemon` on 127.0.0.1, an
// engine on a temp folder with a recording logger and a recording (real) process runner, and
// checks that a published version is exactly what its commit says.
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDataSync, type DataSync, type DataSyncOptions } from '../../data-sync/src/index.js';
import { execCommand, type Exec } from '../../data-sync/src/exec.js';
import { memoryLogger } from '../../src/lib/log.js';
import { data as dataSchema, type DataConfig } from '../../src/recipe/schema.js';
import { git, makeRepo, startGitDaemon, type GitDaemon } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

type TestLike = Pick<TestContext, 'after'>;

/** A data config with the schema's defaults, as a recipe would give it. */
export function dataConfig(input: Record<string, unknown>): DataConfig {
  return dataSchema.parse({ mount: 'data', ...input });
}

/** A data repo ("data") with `files` committed on main, served read-only by git daemon. */
export interface Remote {
  base: string;
  work: string;
  url: string;
  daemon: GitDaemon;
}

export async function startRemote(
  t: TestLike,
  files: Record<string, string | Buffer>,
): Promise<Remote & { first: string }> {
  const base = tempDir(t, 'gitstrap-remote-');
  const work = path.join(base, 'data');
  const first = makeRepo(work, files);
  git(work, 'config', 'uploadpack.allowFilter', 'true');
  git(work, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
  const daemon = await startGitDaemon(t, base);
  return { base, work, url: daemon.url('data'), daemon, first };
}

/** A real process runner that also records every argv it ran. */
export function recordingExec(): Exec & { calls: string[][] } {
  const calls: string[][] = [];
  const exec: Exec = (argv, options) => {
    calls.push([...argv]);
    return execCommand(argv, options);
  };
  return Object.assign(exec, { calls });
}

/** The git subcommands among recorded calls ("ls-remote", "fetch", "read-tree", ...). */
export function gitSubcommands(calls: readonly string[][]): string[] {
  return calls
    .filter((c) => c[0] === 'git')
    .map((c) => {
      for (let i = 1; i < c.length; i++) {
        if (c[i] === '-c') i++;
        else if (!c[i]!.startsWith('-')) return c[i]!;
      }
      return '';
    });
}

export interface TestEngine {
  sync: DataSync;
  dir: string;
  logger: ReturnType<typeof memoryLogger>;
  exec: ReturnType<typeof recordingExec>;
}

/** An engine on a fresh data folder (or `dir`). */
export function makeEngine(
  t: TestLike,
  data: DataConfig,
  extra: Partial<DataSyncOptions> & { dir?: string } = {},
): TestEngine {
  const dir = extra.dir ?? path.join(tempDir(t, 'gitstrap-state-'), 'data');
  const logger = memoryLogger();
  const exec = recordingExec();
  const sync = createDataSync({ logger, exec, lockWaitMs: 2000, ...extra, dir, data });
  return { sync, dir, logger, exec };
}

/** Every file under `dir` (relative paths, sorted); symlinks are listed, not followed. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** The files of `commit` in the work repo, path → content. */
export function filesAt(work: string, commit: string): Map<string, Buffer> {
  const names = execFileSync('git', ['ls-tree', '-r', '-z', '--name-only', commit], { cwd: work })
    .toString()
    .split('\0')
    .filter(Boolean);
  return new Map(
    names.map((n) => [n, execFileSync('git', ['show', `${commit}:${n}`], { cwd: work })]),
  );
}

/** Asserts that a folder holds exactly `expected` (path → content), and no .git. */
export function assertTree(dir: string, expected: Map<string, Buffer | string>): void {
  assert.deepEqual(listFiles(dir), [...expected.keys()].sort(), `files in ${dir}`);
  for (const [name, content] of expected) {
    assert.equal(
      readFileSync(path.join(dir, name)).toString('base64'),
      Buffer.from(content).toString('base64'),
      `content of ${name}`,
    );
  }
  assert.throws(() => lstatSync(path.join(dir, '.git')), /ENOENT/);
}

/** The commit `current` points at, read from the symlink itself. */
export function servedCommit(dataDir: string): string | undefined {
  try {
    return path.basename(readlinkSync(path.join(dataDir, 'current')));
  } catch {
    return undefined;
  }
}

/** The version folders in versions/. */
export function versionsIn(dataDir: string): string[] {
  try {
    return readdirSync(path.join(dataDir, 'versions')).sort();
  } catch {
    return [];
  }
}
