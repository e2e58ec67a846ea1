// The uncompressed byte stream of a tar archive: a plain tar is read as it is, a gzipped one (.tar.gz,
// .tgz) through zlib. Other compressions GNU tar would detect are named and refused. Each chunk goes
// to the caller before the next is read, so a caller that stops at a limit stops the decompression
// there too (a gzip bomb never expands past it).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** The compressions recognised by their first bytes (as GNU tar and file(1) recognise them). */
const MAGIC: Array<{ name: string; bytes: number[]; tool: string }> = [
  { name: 'gzip', bytes: [0x1f, 0x8b], tool: 'gzip' },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68], tool: 'bzip2' },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: 'xz' },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd], tool: 'zstd' },
  { name: 'lzip', bytes: [0x4c, 0x5a, 0x49, 0x50], tool: 'lzip' },
  { name: 'compress (.Z)', bytes: [0x1f, 0x9d], tool: 'uncompress' },
];

/** Which compression `head` (the first bytes of a file) starts with, if any. */
export function sniffCompression(head: Buffer): (typeof MAGIC)[number] | undefined {
  return MAGIC.find((m) => m.bytes.every((b, i) => head[i] === b));
}

/** A problem with the archive itself (not with one member): damaged, or a format not read. */
export class ArchiveError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'ArchiveError';
    this.hint = hint;
  }
}

/** The hint for an archive that cannot be read to its end. */
export const DAMAGED_HINT =
  'the archive may be damaged or incomplete: check the file committed to the data repo';

/**
 * Calls `onChunk` with the uncompressed tar stream of `file`, chunk by chunk (each handled before the
 * next is read). An exception from `onChunk` stops the reading and is thrown as it is.
 */
export async function readTarStream(file: string, onChunk: (chunk: Buffer) => void): Promise<void> {
  const handle = await open(file, 'r');
  let head: Buffer;
  try {
    const probe = Buffer.alloc(6);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    head = probe.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const compression = sniffCompression(head);
  if (compression && compression.name !== 'gzip') {
    throw new ArchiveError(
      `the archive is compressed with ${compression.name}; only tar and gzip-compressed tar (.tar, .tar.gz, .tgz) are extracted`,
      `decompress it first with a run transform (e.g. [${compression.tool}, -dk, FILE]) and extract the .tar it leaves`,
    );
  }
  let first = true;
  // The error that stopped the reading from inside (onChunk's, or a doubly compressed stream):
  // pipeline may reject with an AbortError of its own instead.
  let stoppedBy: unknown;
  const consume = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      try {
        if (first && compression && sniffCompression(chunk)) {
          throw new ArchiveError(
            'the archive is compressed twice; tar archives compressed once are extracted',
            'recreate the archive with one compression (tar -czf)',
          );
        }
        first = false;
        onChunk(chunk);
      } catch (error) {
        stoppedBy = error;
        throw error;
      }
    }
  };
  try {
    if (compression) await pipeline(createReadStream(file), createGunzip(), consume);
    else await pipeline(createReadStream(file), consume);
  } catch (error) {
    if (stoppedBy !== undefined) throw stoppedBy;
    // The stream's own failure: a damaged gzip stream, a read error.
    const { message, code } = error as NodeJS.ErrnoException;
    throw new ArchiveError(
      `the archive is damaged or incomplete: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`,
      DAMAGED_HINT,
    );
  }
}
