// The recipe's transforms, applied in the staging folder of a new version: extract an archive, copy,
// move, or run a command. Each failure names the transform and says what went wrong.
import { cp, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { DataTransform } from '../../src/recipe/schema.js';
import { durationMs } from '../../src/lib/duration.js';
import { describeExit } from './exec.js';
import { lastLines, SyncFailure } from './failure.js';
import { resolveInside } from './paths.js';
import { execInVersion, runVersionCommand, type VersionContext } from './version-command.js';

/** The tar command that extracts `archive` into `into` (GNU tar detects the compression). Pure. */
export function planExtract(archive: string, into: string, strip: number): string[] {
  return [
    'tar',
    '-x',
    '-f',
    archive,
    '-C',
    into,
    `--strip-components=${strip}`,
    '--no-same-owner',
    '--no-same-permissions',
    '--warning=no-timestamp',
  ];
}

/** A one-line name for a transform in messages: "transform 2 (extract data.tar.gz)". */
export function describeTransform(t: DataTransform, index: number): string {
  const what = t.extract
    ? `extract ${t.extract}`
    : t.copy
      ? `copy ${t.copy.from} to ${t.copy.to}`
      : t.move
        ? `move ${t.move.from} to ${t.move.to}`
        : `run ${t.run?.[0] ?? ''}`;
  return `transform ${index + 1} (${what})`;
}

function inside(ctx: VersionContext, rel: string, name: string): string {
  const full = resolveInside(ctx.root, rel);
  if (!full) {
    throw new SyncFailure(
      'transform',
      `${name}: ${rel} leads outside the data folder (through a symlink)`,
      'use paths inside the data repo that do not pass through symlinks',
    );
  }
  return full;
}

async function mustExist(full: string, rel: string, name: string): Promise<void> {
  try {
    await lstat(full);
  } catch {
    throw new SyncFailure(
      'transform',
      `${name}: ${rel} does not exist in the new version`,
      'check the path against the data repo at this commit',
    );
  }
}

async function applyOne(t: DataTransform, index: number, ctx: VersionContext): Promise<void> {
  const name = describeTransform(t, index);
  const timeoutMs = durationMs(t.timeout);
  if (t.extract) {
    const archive = inside(ctx, t.extract, name);
    await mustExist(archive, t.extract, name);
    if (!(await lstat(archive)).isFile()) {
      throw new SyncFailure('transform', `${name}: ${t.extract} is not a regular file`);
    }
    const into = inside(ctx, t.into, name);
    await mkdir(into, { recursive: true });
    inside(ctx, t.into, name);
    const argv = planExtract(archive, into, t.strip);
    const result = await execInVersion(ctx, argv, timeoutMs);
    if (result.code !== 0) {
      const why = lastLines(result.stderr, 4).join('; ');
      throw new SyncFailure(
        'transform',
        `${name}: tar failed (${describeExit(result, timeoutMs)})${why ? `: ${why}` : ''}`,
        result.startError === 'ENOENT'
          ? 'install GNU tar'
          : 'the archive may be damaged or incomplete: check the file committed to the data repo',
      );
    }
    if (!t.keep_archive) {
      try {
        if ((await lstat(archive)).isFile()) await unlink(archive);
      } catch {
        // replaced or removed by the extraction itself
      }
    }
    return;
  }
  if (t.copy || t.move) {
    const spec = (t.copy ?? t.move)!;
    const from = inside(ctx, spec.from, name);
    await mustExist(from, spec.from, name);
    const to = inside(ctx, spec.to, name);
    try {
      await mkdir(path.dirname(to), { recursive: true });
      inside(ctx, spec.to, name);
      if (t.copy) await cp(from, to, { recursive: true, force: true, verbatimSymlinks: true });
      else await rename(from, to);
    } catch (error) {
      if (error instanceof SyncFailure) throw error;
      throw new SyncFailure('transform', `${name}: ${(error as Error).message}`);
    }
    return;
  }
  if (t.run) await runVersionCommand(ctx, 'transform', name, t.run, timeoutMs);
}

/** Applies every transform in order; throws a SyncFailure (phase "transform") at the first failure. */
export async function applyTransforms(
  transforms: readonly DataTransform[],
  ctx: VersionContext,
): Promise<void> {
  for (const [index, t] of transforms.entries()) await applyOne(t, index, ctx);
}
