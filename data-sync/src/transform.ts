// The recipe's transforms, applied in the staging folder of a new version: extract an archive, copy,
// move, or run a command. Each failure names the transform and says what went wrong.
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { DataTransform } from '../../src/recipe/schema.js';
import { durationMs } from '../../src/lib/duration.js';
import { resolveInside } from '../../src/lib/resolve-inside.js';
import { ExtractFailure, extractToScratch, quoteMember } from './extract.js';
import { SyncFailure } from './failure.js';
import { createBudget, type ExtractBudget, type ExtractLimits } from './limits.js';
import { whyLinkEscapes } from './link-check.js';
import { ensureFolderInside, mergeInto } from './merge.js';
import { ArchiveError } from './tar-stream.js';
import { runVersionCommand, type VersionContext } from './version-command.js';

/** What the transforms of one version share besides the version context. */
export interface TransformOptions {
  /** A folder on the version's file system, outside the version, for extraction folders. */
  scratch: string;
  limits: ExtractLimits;
  /** The version's budget when something (Git LFS files) already took part of it. */
  budget?: ExtractBudget;
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

/** The absolute path of `rel` in the version, which a transform may read or write. */
async function inside(ctx: VersionContext, rel: string, name: string): Promise<string> {
  const found = await resolveInside(ctx.root, [rel], undefined, {
    dotFree: false,
    forWriting: true,
  });
  if (found.kind === 'refused') {
    throw new SyncFailure(
      'transform',
      `${name}: ${rel} leads outside the data folder (through a symlink)`,
      'use paths inside the data repo that do not pass through symlinks',
    );
  }
  return path.resolve(ctx.root, rel);
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

/**
 * Extracts an archive: into a fresh folder beside the version (nothing there to follow), then merged
 * into `into` without following a symlink, then each symlink it made checked in its place.
 */
async function extract(
  t: DataTransform & { extract: string },
  name: string,
  ctx: VersionContext,
  budget: ExtractBudget,
  scratchRoot: string,
  timeoutMs: number,
): Promise<void> {
  const archive = await inside(ctx, t.extract, name);
  await mustExist(archive, t.extract, name);
  if (!(await lstat(archive)).isFile()) {
    throw new SyncFailure('transform', `${name}: ${t.extract} is not a regular file`);
  }
  await inside(ctx, t.into, name);
  await mkdir(scratchRoot, { recursive: true });
  const scratch = path.join(
    scratchRoot,
    `extract-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(scratch);
  try {
    const made = await extractToScratch({
      archive,
      scratch,
      strip: t.strip,
      into: t.into,
      budget,
      deadline: Date.now() + timeoutMs,
      timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (!t.keep_archive) await unlink(archive);
    const dest = await ensureFolderInside(ctx.root, t.into);
    await mergeInto(scratch, dest, t.into, made.entries);
    for (const link of made.links) {
      const at = path.posix.join(t.into, link.path);
      const why = await whyLinkEscapes(ctx.root, at);
      if (why !== undefined) {
        throw new ExtractFailure(
          `member ${quoteMember(link.member)} is a symlink to ${quoteMember(link.target)} that leads outside the version (it ${why})`,
          'symlinks in an archive must have relative targets that stay inside the version, also through other links',
        );
      }
    }
  } catch (error) {
    if (error instanceof ExtractFailure || error instanceof ArchiveError) {
      throw new SyncFailure('transform', `${name}: ${error.message}`, error.hint);
    }
    throw new SyncFailure('transform', `${name}: ${(error as Error).message}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function applyOne(
  t: DataTransform,
  index: number,
  ctx: VersionContext,
  budget: ExtractBudget,
  scratchRoot: string,
): Promise<void> {
  const name = describeTransform(t, index);
  const timeoutMs = durationMs(t.timeout);
  if (t.extract !== undefined) {
    await extract({ ...t, extract: t.extract }, name, ctx, budget, scratchRoot, timeoutMs);
    return;
  }
  if (t.copy || t.move) {
    const spec = (t.copy ?? t.move)!;
    const from = await inside(ctx, spec.from, name);
    await mustExist(from, spec.from, name);
    const to = await inside(ctx, spec.to, name);
    try {
      await mkdir(path.dirname(to), { recursive: true });
      await inside(ctx, spec.to, name);
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

/**
 * Applies every transform in order; throws a SyncFailure (phase "transform") at the first failure.
 * The extraction limits count over all of them.
 */
export async function applyTransforms(
  transforms: readonly DataTransform[],
  ctx: VersionContext,
  options: TransformOptions,
): Promise<void> {
  const budget = options.budget ?? createBudget(options.limits);
  for (const [index, t] of transforms.entries()) {
    await applyOne(t, index, ctx, budget, options.scratch);
  }
}
