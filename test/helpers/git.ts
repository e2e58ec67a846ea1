// Real git repositories for tests, and a real `git daemon` serving them on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort, startProcess, waitForPort } from './proc.js';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: '/nonexistent',
};

/** Runs git in `cwd` and returns its trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8',
  }).trim();
}

/** Writes files (path → content) under `dir`, creating folders. */
export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** A working repository on branch `main` with `files` committed; returns the commit SHA. */
export function makeRepo(
  dir: string,
  files: Record<string, string | Buffer>,
  message = 'initial',
): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  return commitFiles(dir, files, message);
}

/** Writes `files`, commits everything, returns the new commit SHA. */
export function commitFiles(
  dir: string,
  files: Record<string, string | Buffer>,
  message = 'update',
): string {
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

export interface GitDaemon {
  port: number;
  /** git://127.0.0.1:PORT/NAME for a repository folder NAME under the base path. */
  url: (name: string) => string;
  stop: () => Promise<void>;
}

/** Serves every repository under `basePath` read-only with `git daemon` on 127.0.0.1. */
export async function startGitDaemon(
  t: Pick<TestContext, 'after'>,
  basePath: string,
): Promise<GitDaemon> {
  const port = await freePort();
  const daemon = startProcess(t, 'git', [
    'daemon',
    '--reuseaddr',
    '--listen=127.0.0.1',
    `--port=${port}`,
    `--base-path=${basePath}`,
    '--export-all',
    '--informative-errors',
    basePath,
  ]);
  await waitForPort(port);
  return { port, url: (name) => `git://127.0.0.1:${port}/${name}`, stop: () => daemon.stop() };
}

/**
 * Pins a submodule in the working repository `dir` (as `git submodule add` records it, without
 * cloning): a .gitmodules entry (name, path, url as written, relative or not) and a gitlink at
 * `commit`. The next commitFiles commits both.
 */
export function pinSubmodule(
  dir: string,
  sub: { path: string; url: string; commit: string; name?: string },
): void {
  const name = sub.name ?? sub.path;
  git(dir, 'config', '-f', '.gitmodules', `submodule.${name}.path`, sub.path);
  git(dir, 'config', '-f', '.gitmodules', `submodule.${name}.url`, sub.url);
  // An empty folder where the submodule goes: git sees an unpopulated submodule, not a deletion.
  mkdirSync(path.join(dir, sub.path), { recursive: true });
  git(dir, 'update-index', '--add', '--cacheinfo', `160000,${sub.commit},${sub.path}`);
  git(dir, 'add', '.gitmodules');
}
