// Moves what an extraction wrote (a folder outside the version) into its place in the version
// without following any symlink already there (committed in the data repo, or made by an earlier
// transform): each component is lstat-ed; a folder of the archive meeting a symlink is refused,
// naming the member and the link. A file or link of the archive replaces what is there (rename(2)
// replaces the name; it never writes through it). A new subtree moves in with one rename.
import { lstat, mkdir, readdir, readlink, rename } from 'node:fs/promises';
import path from 'node:path';
import { ExtractFailure, quoteMember, type ExtractedEntry } from './extract.js';

const THROUGH_HINT =
  'an archive may not write through a symlink: remove the symlink from the data repo, or extract into another folder (into:)';

async function lstatOrUndefined(file: string) {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Makes the folder `into` (relative to `root`) without going through a symlink; returns its path. */
export async function ensureFolderInside(root: string, into: string): Promise<string> {
  let at = root;
  const walked: string[] = [];
  for (const segment of into.split('/')) {
    if (segment === '' || segment === '.') continue;
    walked.push(segment);
    at = path.join(at, segment);
    const stat = await lstatOrUndefined(at);
    if (stat === undefined) await mkdir(at);
    else if (stat.isSymbolicLink()) {
      throw new ExtractFailure(
        `into ${quoteMember(into)} goes through the symlink ${quoteMember(walked.join('/'))} (-> ${quoteMember(await readlink(at))}); extracting through symlinks is refused`,
        'set into: to the folder the symlink points to',
      );
    } else if (!stat.isDirectory()) {
      throw new ExtractFailure(
        `into ${quoteMember(into)} needs ${quoteMember(walked.join('/'))} to be a folder, but it is a file`,
      );
    }
  }
  return at;
}

/**
 * Moves everything in `scratch` into `dest` (the `into` folder, `into` its path in the version),
 * merging folders. `entries` names the member behind each path (for messages).
 */
export async function mergeInto(
  scratch: string,
  dest: string,
  into: string,
  entries: ReadonlyMap<string, ExtractedEntry>,
): Promise<void> {
  const inVersion = (rel: string) => path.posix.join(into, rel);
  const memberOf = (rel: string) => quoteMember(entries.get(rel)?.member ?? rel);
  const merge = async (rel: string): Promise<void> => {
    for (const item of await readdir(path.join(scratch, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${item.name}` : item.name;
      const from = path.join(scratch, child);
      const to = path.join(dest, child);
      const there = await lstatOrUndefined(to);
      if (there === undefined) {
        await rename(from, to);
      } else if (there.isSymbolicLink()) {
        if (item.isDirectory()) {
          throw new ExtractFailure(
            `member ${memberOf(child)} would be written through the symlink ${quoteMember(inVersion(child))} (-> ${quoteMember(await readlink(to))}) that the version already has`,
            THROUGH_HINT,
          );
        }
        await rename(from, to);
      } else if (there.isDirectory()) {
        if (!item.isDirectory()) {
          throw new ExtractFailure(
            `member ${memberOf(child)} would replace the folder ${quoteMember(inVersion(child))} that the version already has`,
          );
        }
        await merge(child);
      } else if (item.isDirectory()) {
        throw new ExtractFailure(
          `member ${memberOf(child)} is a folder, but the version already has the file ${quoteMember(inVersion(child))}`,
        );
      } else {
        await rename(from, to);
      }
    }
  };
  await merge('');
}
