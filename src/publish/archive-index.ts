// What an archive already in the data repo holds: each member's content hash, exec bit, link target
// and time, by name. Publish carries a member's time over when its content did not change (see
// mtime-plan.ts). An archive that cannot be read (damaged, another format, over the size limit) is
// an empty index: every member then gets the time of the publish.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';

/** One member of an earlier archive. */
export interface IndexedMember {
  kind: 'file' | 'dir' | 'symlink';
  sha256?: string;
  exec?: boolean;
  target?: string;
  mtime: number;
}

/** Members by name, without a trailing slash. */
export type ArchiveIndex = Map<string, IndexedMember>;

/** Reads the index of a tar or tar.gz held in memory; `maxBytes` bounds the uncompressed size. */
export async function indexArchive(bytes: Buffer, maxBytes: number): Promise<ArchiveIndex> {
  const index: ArchiveIndex = new Map();
  let tar: Buffer;
  try {
    tar =
      bytes[0] === 0x1f && bytes[1] === 0x8b
        ? gunzipSync(bytes, { maxOutputLength: maxBytes })
        : bytes;
  } catch {
    return index;
  }
  if (tar.length > maxBytes) return index;
  try {
    await new Promise<void>((resolve, reject) => {
      const parser = new Parser({ strict: true });
      parser.on('entry', (entry: ReadEntry) => {
        const name = entry.path.replace(/\/+$/, '');
        const mtime = Math.floor((entry.mtime?.getTime() ?? 0) / 1000);
        if (entry.type === 'Directory') {
          index.set(name, { kind: 'dir', mtime });
          entry.resume();
        } else if (entry.type === 'SymbolicLink') {
          index.set(name, { kind: 'symlink', target: entry.linkpath ?? '', mtime });
          entry.resume();
        } else if (
          entry.type === 'File' ||
          entry.type === 'OldFile' ||
          entry.type === 'ContiguousFile'
        ) {
          const hash = createHash('sha256');
          entry.on('data', (chunk: Buffer) => hash.update(chunk));
          entry.on('end', () =>
            index.set(name, {
              kind: 'file',
              sha256: hash.digest('hex'),
              exec: ((entry.mode ?? 0) & 0o111) !== 0,
              mtime,
            }),
          );
        } else entry.resume();
      });
      parser.on('error', reject);
      parser.on('abort', reject);
      parser.on('end', () => resolve());
      parser.end(tar);
    });
  } catch {
    return new Map();
  }
  return index;
}
