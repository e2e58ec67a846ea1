// publish.mirror: the static mirror of the data branch, written after every publish (and brought up
// to date by an unchanged one). In order: the bundles of the new commit (its full bundle: the
// commit alone, no prerequisites; and an incremental one from the commit the pointer named before,
// when that is an ancestor), each written to a temporary name and renamed; then the pointer
// (gitstrap-data.json) by atomic rename; then the bundles neither the new pointer nor the previous
// one names are deleted (an agent may still be downloading the previous version's). A reader of
// the folder never sees a pointer naming a bundle that is not complete. See docs/fleet.md.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  BUNDLES_DIR,
  bundleFile,
  formatPointer,
  MIRROR_FORMAT,
  parsePointer,
  planMirrorPrune,
  POINTER_FILE,
  type MirrorBundle,
  type MirrorPointer,
} from '../../data-sync/src/static-plan.js';
import { publishFailure } from './errors.js';
import type { PublishGit } from './git-runner.js';

/** What a publish did to the mirror. */
export interface MirrorResult {
  dir: string;
  commit: string;
  /** False when the pointer already named the commit and its bundles were all there. */
  updated: boolean;
  bundles: Array<{ file: string; size: number; from?: string }>;
  /** Bundles deleted (neither the new pointer's nor the previous one's). */
  removed: string[];
}

/** Writes the mirror of `commit` on `branch` into `dir`, from the publisher's cache. */
export async function updateMirror(
  git: PublishGit,
  options: {
    dir: string;
    /** The publisher's cache (its objects and shallow file) and a scratch repo path beside it. */
    cache: string;
    scratch: string;
    branch: string;
    commit: string;
    now: Date;
  },
): Promise<MirrorResult> {
  const { dir, commit } = options;
  const ref = `refs/heads/${options.branch}`;
  const pointerPath = path.join(dir, POINTER_FILE);
  try {
    mkdirSync(path.join(dir, BUNDLES_DIR), { recursive: true });
  } catch (error) {
    throw publishFailure(
      `cannot write the mirror folder ${dir} (publish.mirror): ${(error as Error).message}`,
      'create it, or let this user write to it',
    );
  }
  const before = readPointer(pointerPath);
  const present = (b: MirrorBundle) => {
    try {
      return statSync(path.join(dir, b.file)).size === b.size;
    } catch {
      return false;
    }
  };
  if (before?.commit === commit && before.ref === ref && before.bundles.every(present)) {
    return { dir, commit, updated: false, bundles: before.bundles.map(shownBundle), removed: [] };
  }

  const bundles: MirrorBundle[] = [await writeBundle(git, options, ref, undefined)];
  const from = before?.commit !== commit ? before?.commit : undefined;
  if (from && (await isAncestor(git, from, commit))) {
    bundles.push(await writeBundle(git, options, ref, from));
  }
  const pointer: MirrorPointer = {
    format: MIRROR_FORMAT,
    ref,
    commit,
    published: options.now.toISOString(),
    bundles,
  };
  const tmp = path.join(dir, `.${POINTER_FILE}.tmp-${process.pid}`);
  writeFileSync(tmp, formatPointer(pointer));
  // Servers that make ETags from size and modification time (nginx, Apache) would answer 304 to a
  // pointer rewritten in the same second with the same size: the new one is always a second newer.
  let seconds = Math.floor(Date.now() / 1000);
  try {
    seconds = Math.max(seconds, Math.floor(statSync(pointerPath).mtimeMs / 1000) + 1);
  } catch {
    // the first pointer
  }
  utimesSync(tmp, seconds, seconds);
  renameSync(tmp, pointerPath);

  const names = readdirSync(path.join(dir, BUNDLES_DIR)).map((n) => `${BUNDLES_DIR}/${n}`);
  const removed = planMirrorPrune(names, [pointer, before?.ref === ref ? before : undefined]);
  for (const file of removed) rmSync(path.join(dir, file), { force: true });
  return { dir, commit, updated: true, bundles: bundles.map(shownBundle), removed };
}

function shownBundle(b: MirrorBundle): MirrorResult['bundles'][number] {
  return { file: b.file, size: b.size, ...(b.from ? { from: b.from } : {}) };
}

function readPointer(file: string): MirrorPointer | undefined {
  try {
    const parsed = parsePointer(readFileSync(file, 'utf8'));
    return parsed.ok ? parsed.pointer : undefined;
  } catch {
    return undefined;
  }
}

async function isAncestor(git: PublishGit, from: string, commit: string): Promise<boolean> {
  const result = await git.run(['merge-base', '--is-ancestor', from, commit]);
  return result.code === 0;
}

/**
 * One bundle of `commit` (from `from`, or alone), made in a scratch repo that borrows the cache's
 * objects: the commit marked shallow there makes a full bundle hold that commit only, with no
 * prerequisites. An existing file of the same name (a bundle is named by its commits) is reused.
 */
async function writeBundle(
  git: PublishGit,
  options: { dir: string; cache: string; scratch: string; commit: string },
  ref: string,
  from: string | undefined,
): Promise<MirrorBundle> {
  const file = bundleFile(options.commit, from);
  const target = path.join(options.dir, file);
  if (!existsSync(target)) {
    const scratch = options.scratch;
    const env = { GIT_DIR: scratch };
    rmSync(scratch, { recursive: true, force: true });
    await git.ok(['init', '--bare', '--quiet', scratch], { env });
    writeFileSync(
      path.join(scratch, 'objects', 'info', 'alternates'),
      path.join(options.cache, 'objects') + '\n',
    );
    let shallow = '';
    try {
      shallow = readFileSync(path.join(options.cache, 'shallow'), 'utf8');
    } catch {
      // a complete history
    }
    if (!from) shallow = `${options.commit}\n`;
    if (shallow) writeFileSync(path.join(scratch, 'shallow'), shallow);
    await git.ok(['update-ref', ref, options.commit], { env });
    const tmp = path.join(options.dir, BUNDLES_DIR, `.${path.basename(file)}.tmp-${process.pid}`);
    try {
      await git.ok(['bundle', 'create', '--quiet', tmp, ref, ...(from ? [`^${from}`] : [])], {
        env,
        hint: `check that ${options.dir} (publish.mirror) has room`,
      });
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const { size, sha256 } = await digest(target);
  return { file, size, sha256, ...(from ? { from } : {}) };
}

function digest(file: string): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(file)
      .on('data', (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ size, sha256: hash.digest('hex') }));
  });
}
