// The checks a new version must pass before it is published: a path exists, a file parses as JSON,
// a command exits 0. And the contract's own: no .git at the top of a version, and no symlink that
// leads outside it (link-check.ts).
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataCheck } from '../../src/recipe/schema.js';
import { durationMs } from '../../src/lib/duration.js';
import { resolveInside } from '../../src/lib/resolve-inside.js';
import { SyncFailure } from './failure.js';
import { assertVersionContained } from './link-check.js';
import { runVersionCommand, type VersionContext } from './version-command.js';

/** A one-line name for a check in messages: "check 1 (json index.json)". */
export function describeCheck(c: DataCheck, index: number): string {
  const what =
    c.exists !== undefined
      ? `exists ${c.exists}`
      : c.json !== undefined
        ? `json ${c.json}`
        : `run ${c.run?.[0] ?? ''}`;
  return `check ${index + 1} (${what})`;
}

async function runOne(c: DataCheck, index: number, ctx: VersionContext): Promise<void> {
  const name = describeCheck(c, index);
  const rel = c.exists ?? c.json;
  if (rel !== undefined) {
    const found = await resolveInside(ctx.root, [rel], undefined, {
      dotFree: false,
      forWriting: true,
    });
    if (found.kind === 'refused') {
      throw new SyncFailure('check', `${name}: ${rel} leads outside the data folder`);
    }
    const full = path.resolve(ctx.root, rel);
    try {
      await lstat(full);
    } catch {
      throw new SyncFailure('check', `${name} failed: ${rel} does not exist in the new version`);
    }
    if (c.json !== undefined) {
      let text: string;
      try {
        text = await readFile(full, 'utf8');
      } catch (error) {
        throw new SyncFailure(
          'check',
          `${name} failed: cannot read ${rel}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      try {
        JSON.parse(text);
      } catch (error) {
        throw new SyncFailure(
          'check',
          `${name} failed: ${rel} is not valid JSON: ${(error as Error).message}`,
        );
      }
    }
    return;
  }
  if (c.run) await runVersionCommand(ctx, 'check', name, c.run, durationMs(c.timeout));
}

/** Runs every check; throws a SyncFailure (phase "check") at the first that fails. */
export async function runChecks(checks: readonly DataCheck[], ctx: VersionContext): Promise<void> {
  try {
    await lstat(path.join(ctx.root, '.git'));
    throw new SyncFailure(
      'check',
      'the new version has a .git entry at its top level; versions must not contain one',
      'do not ship a .git folder inside an archive or create one in a transform',
    );
  } catch (error) {
    if (error instanceof SyncFailure) throw error;
  }
  await assertVersionContained(ctx.root);
  for (const [index, c] of checks.entries()) await runOne(c, index, ctx);
}
