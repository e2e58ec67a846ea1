// The data repo the fleet polls (a bare repo made with git fast-import: FILES text files in folders
// of 50, and tags on a line of small release commits, as a long-lived data repo has), a one-file
// change to it, and what a static-file source would publish for each version: a git bundle of the
// version, an incremental bundle from the version before, and a small pointer file naming them.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execCommand } from '../../data-sync/src/exec.js';

export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: os.tmpdir(),
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs a command and fails loudly. */
export async function run(argv: string[], cwd?: string): Promise<string> {
  const r = await execCommand(argv, {
    env: GIT_ENV,
    timeoutMs: 10 * 60_000,
    ...(cwd ? { cwd } : {}),
  });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function fastImport(repo: string, stream: Buffer): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: repo,
    env: GIT_ENV,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  child.stdin.end(Buffer.concat([stream, Buffer.from('done\n')]));
  if ((await exited) !== 0) throw new Error('git fast-import failed');
}

const fileName = (i: number) =>
  `d${String(Math.floor(i / 50)).padStart(3, '0')}/f${String(i % 50).padStart(2, '0')}.txt`;

function text(size: number): Buffer {
  return Buffer.from(
    randomBytes(Math.ceil((size * 3) / 4))
      .toString('base64')
      .slice(0, size - 1) + '\n',
  );
}

function commit(message: string, when: number, body: Buffer[], mark?: number): Buffer {
  const m = Buffer.from(message);
  return Buffer.concat([
    Buffer.from(
      `commit refs/heads/main\n${mark ? `mark :${mark}\n` : ''}committer Bench <bench@example.invalid> ${when} +0000\ndata ${m.length}\n${message}\n`,
    ),
    ...body,
    Buffer.from('\n'),
  ]);
}

function inline(name: string, content: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`M 100644 inline ${name}\ndata ${content.length}\n`),
    content,
    Buffer.from('\n'),
  ]);
}

/** Creates `dir/data.git`: `files` files of about `fileBytes`, then `tags` tagged commits. */
export async function makeDataRepo(
  dir: string,
  params: { files: number; fileBytes: number; tags: number },
): Promise<string> {
  const repo = path.join(dir, 'data.git');
  await run(['git', 'init', '-q', '--bare', '-b', 'main', repo]);
  const parts: Buffer[] = [];
  let when = 1_700_000_000;
  const body: Buffer[] = [];
  for (let i = 0; i < params.files; i++) body.push(inline(fileName(i), text(params.fileBytes)));
  parts.push(commit('the data', when++, body));
  for (let tag = 1; tag <= params.tags; tag++) {
    const release = Buffer.from(`release ${tag}\n`);
    parts.push(commit(`release ${tag}`, when++, [inline('releases.txt', release)], tag));
    parts.push(Buffer.from(`reset refs/tags/v${tag}\nfrom :${tag}\n\n`));
  }
  await fastImport(repo, Buffer.concat(parts));
  await run(['git', 'repack', '-adq'], repo);
  return repo;
}

/** One commit that rewrites one file (about 2 KB); returns the new commit. */
export async function changeOneFile(repo: string, files: number, n: number): Promise<string> {
  const name = fileName(Math.floor(Math.random() * files));
  await fastImport(
    repo,
    Buffer.concat([
      commit(`change ${n}`, 1_800_000_000 + n, [
        Buffer.from('from refs/heads/main^0\n'),
        inline(name, text(2048)),
      ]),
    ]),
  );
  return run(['git', 'rev-parse', 'refs/heads/main'], repo);
}

/** What a static source holds for one version. */
export interface StaticVersion {
  commit: string;
  /** Paths under the static root. */
  pointer: string;
  full: string;
  fullBytes: number;
  incremental?: string;
  incrementalBytes?: number;
  pointerBytes: number;
}

/**
 * Writes the static source's files for the tip of `repo`: a bundle of the version alone (its tree
 * under a root commit, no history), an incremental bundle from `previous` when given, and the
 * pointer file (replaced by rename, as a publisher would).
 */
export async function publishStatic(
  repo: string,
  staticRoot: string,
  previous: string | undefined,
): Promise<StaticVersion> {
  const commit = await run(['git', 'rev-parse', 'refs/heads/main'], repo);
  const dir = path.join(staticRoot, 'data');
  mkdirSync(path.join(dir, 'bundles'), { recursive: true });
  const tree = await run(['git', 'rev-parse', `${commit}^{tree}`], repo);
  const alone = await run(['git', 'commit-tree', tree, '-m', `version ${commit}`], repo);
  await run(['git', 'update-ref', 'refs/bench/alone', alone], repo);
  const full = `data/bundles/${commit}.bundle`;
  await run(
    ['git', 'bundle', 'create', '-q', path.join(staticRoot, full), 'refs/bench/alone'],
    repo,
  );
  let incremental: string | undefined;
  if (previous) {
    incremental = `data/bundles/${previous}-${commit}.bundle`;
    await run(
      [
        'git',
        'bundle',
        'create',
        '-q',
        path.join(staticRoot, incremental),
        `${previous}..refs/heads/main`,
      ],
      repo,
    );
  }
  const pointer = {
    ref: 'refs/heads/main',
    commit,
    bundle: `bundles/${commit}.bundle`,
    ...(previous && incremental
      ? { from: { [previous]: `bundles/${previous}-${commit}.bundle` } }
      : {}),
  };
  const text = JSON.stringify(pointer) + '\n';
  writeFileSync(path.join(dir, 'pointer.json.tmp'), text);
  renameSync(path.join(dir, 'pointer.json.tmp'), path.join(dir, 'pointer.json'));
  return {
    commit,
    pointer: 'data/pointer.json',
    full,
    fullBytes: statSync(path.join(staticRoot, full)).size,
    ...(incremental
      ? { incremental, incrementalBytes: statSync(path.join(staticRoot, incremental)).size }
      : {}),
    pointerBytes: Buffer.byteLength(text),
  };
}
