// How `bootstrap publish` packs a folder so that the recipe's transforms unpack it back: the inverse
// of data.transform, planned from the recipe alone and applied in reverse order. Pure: returns the
// steps, runs nothing (golden tests pin them). Transforms it cannot invert (run) are refused here,
// before anything is read or pushed.
import type { DataConfig, DataTransform } from '../recipe/schema.js';
import { PublishError } from './errors.js';

/** One inverse step, naming the transform (0-based) it undoes. */
export type PackStep =
  | {
      kind: 'archive';
      transform: number;
      /** Where the archive lies in the data repo. */
      archive: string;
      /** The folder of the version whose content goes into the archive ('.' for all of it). */
      into: string;
      /** Leading folders every member name gets, so that `strip` removes exactly them. */
      prefix: string[];
      gzip: boolean;
      /** The version keeps the archive itself (keep_archive): it is not packed into itself. */
      keepArchive: boolean;
    }
  | { kind: 'uncopy'; transform: number; from: string; to: string }
  | { kind: 'unmove'; transform: number; from: string; to: string };

/** The name of an archive without its tar extensions: the folder its members go under. */
export function archiveStem(archive: string): string {
  const base = archive.split('/').pop() ?? archive;
  const stem = base.replace(/\.(tar\.gz|tgz|tar)$/i, '');
  return stem === '' || stem === '.' || stem === '..' ? 'data' : stem;
}

function describe(t: DataTransform): string {
  if (t.extract !== undefined) return `extract ${t.extract}`;
  if (t.copy) return `copy ${t.copy.from} to ${t.copy.to}`;
  if (t.move) return `move ${t.move.from} to ${t.move.to}`;
  return `run ${t.run?.[0] ?? ''}`;
}

/** The inverse of one transform. */
function invert(t: DataTransform, index: number): PackStep {
  const key = `data.transform[${index}]`;
  if (t.extract !== undefined) {
    return {
      kind: 'archive',
      transform: index,
      archive: t.extract,
      into: t.into,
      prefix: Array.from({ length: t.strip }, () => archiveStem(t.extract!)),
      // The agents recognise the format by content; a name ending in .tar gets a plain tar.
      gzip: !/\.tar$/i.test(t.extract),
      keepArchive: t.keep_archive,
    };
  }
  if (t.copy) return { kind: 'uncopy', transform: index, ...t.copy };
  if (t.move) return { kind: 'unmove', transform: index, ...t.move };
  throw new PublishError(
    `${key} (${describe(t)}) cannot be inverted: what a command makes cannot be turned back into its input, so publish cannot pack a folder for it`,
    {
      key,
      hint: 'publish works with extract, copy and move transforms; for a recipe that runs a command, commit the data repo with git yourself',
    },
  );
}

/** The inverse steps of a data section, in the order to apply them (the last transform first). */
export function planPacking(data: Pick<DataConfig, 'transform' | 'sparse'>): PackStep[] {
  if (data.sparse?.length) {
    throw new PublishError(
      'data.sparse is set: the instances check out only part of the data repo, and publish writes all of it',
      {
        key: 'data.sparse',
        hint: 'publish to a recipe without data.sparse, or commit the data repo with git yourself',
      },
    );
  }
  return data.transform.map((t, i) => invert(t, i)).reverse();
}
