// Extracts a tar archive into a fresh, empty folder (outside the version): node-tar parses, this
// module writes. Nothing of the archive is followed: names are made safe by planMember, folders are
// made by this module only, files are opened with O_NOFOLLOW|O_EXCL, and symlinks are made only
// after every file is written (no member can write through a link of its own archive). The budget
// counts the uncompressed stream before it is parsed, so a bomb stops at the limit.
import {
  closeSync,
  constants,
  futimesSync,
  linkSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { lfsShare, type ExtractBudget } from './limits.js';
import { planMember } from './member-plan.js';
import { ArchiveError, DAMAGED_HINT, readTarStream } from './tar-stream.js';

/** A refusal or failure of the extraction, its message written for the operator. */
export class ExtractFailure extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'ExtractFailure';
    this.hint = hint;
  }
}

/** A member name for messages (long names cut). */
export function quoteMember(name: string): string {
  return JSON.stringify(name.length > 160 ? `${name.slice(0, 160)}...` : name);
}

const NAME_HINT =
  'archives must hold relative names, files, folders and links only; recreate the archive (tar -czf data.tgz -C folder .)';
const LINK_HINT =
  'symlinks in an archive must have relative targets that stay inside the version, and no member may go through one';

/** A refusal naming the member. */
function refuse(member: string, why: string, hint = NAME_HINT): ExtractFailure {
  return new ExtractFailure(`member ${quoteMember(member)} ${why}`, hint);
}

/** What the archive put in the extraction folder, by path relative to it. */
export interface ExtractedEntry {
  kind: 'dir' | 'file' | 'symlink';
  /** The archive member that made it (for a folder only implied by deeper names: the first one). */
  member: string;
}

export interface Extracted {
  entries: Map<string, ExtractedEntry>;
  /** The symlinks made (path relative to the extraction folder), in archive order. */
  links: Array<{ path: string; target: string; member: string }>;
}

export interface ExtractOptions {
  archive: string;
  /** A fresh, empty folder on the version's file system, outside the version. */
  scratch: string;
  strip: number;
  /** Where the extraction folder will be merged, relative to the version (for symlink checks). */
  into: string;
  budget: ExtractBudget;
  /** Date.now() by which the extraction must end. */
  deadline: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Writes the members of one archive into `scratch`; throws an ExtractFailure naming the member. */
export async function extractToScratch(options: ExtractOptions): Promise<Extracted> {
  const { scratch, budget } = options;
  const entries = new Map<string, ExtractedEntry>();
  const links = new Map<string, { target: string; member: string }>();
  let failure: Error | undefined;
  let reading: string | undefined;
  const fail = (error: unknown) => {
    failure ??= error instanceof Error ? error : new Error(String(error));
  };
  const full = (rel: string) => path.join(scratch, rel);

  /** Makes the folders above `rel` (they can only be folders this archive made). */
  const ensureParents = (rel: string, member: string) => {
    const segments = rel.split('/');
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join('/');
      const there = entries.get(prefix);
      if (there === undefined) {
        mkdirSync(full(prefix));
        entries.set(prefix, { kind: 'dir', member });
      } else if (there.kind === 'symlink') {
        throw refuse(
          member,
          `goes through ${quoteMember(prefix)}, a symlink earlier in the archive`,
          LINK_HINT,
        );
      } else if (there.kind === 'file') {
        throw refuse(member, `needs ${quoteMember(prefix)} to be a folder, but it is a file`);
      }
    }
  };

  /** Clears the place of a non-folder member: a later member of the same name replaces the earlier one. */
  const clearPlace = (rel: string, member: string) => {
    const there = entries.get(rel);
    if (there?.kind === 'dir') {
      throw refuse(
        member,
        `would replace the folder ${quoteMember(rel)} made earlier in the archive`,
      );
    }
    if (there?.kind === 'file') unlinkSync(full(rel));
    if (there?.kind === 'symlink') links.delete(rel);
    entries.delete(rel);
  };

  const writeFile = (entry: ReadEntry, rel: string) => {
    ensureParents(rel, entry.path);
    clearPlace(rel, entry.path);
    const mode = (entry.mode ?? 0o644) & 0o111 ? 0o777 : 0o666;
    const fd = openSync(
      full(rel),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
    entries.set(rel, { kind: 'file', member: entry.path });
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    };
    entry.on('data', (chunk: Buffer) => {
      if (!open) return;
      try {
        for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
      } catch (error) {
        close();
        fail(writeError(entry.path, error));
      }
    });
    entry.on('end', () => {
      if (!open) return;
      try {
        if (entry.mtime && !Number.isNaN(entry.mtime.getTime())) {
          futimesSync(fd, entry.mtime, entry.mtime);
        }
        close();
      } catch (error) {
        fail(writeError(entry.path, error));
      }
    });
  };

  const onEntry = (entry: ReadEntry) => {
    reading = entry.path;
    budget.members += 1;
    if (budget.members > budget.limits.maxFiles) {
      throw new ExtractFailure(
        `the archives of this version hold more than ${budget.limits.maxFiles} members (data.limits.max_files)${lfsShare(budget)}, at member ${quoteMember(entry.path)}`,
        'raise data.limits.max_files in the recipe if this many files are expected',
      );
    }
    const plan = planMember(entry, options.strip, options.into);
    switch (plan.action) {
      case 'refuse':
        throw refuse(entry.path, plan.why, plan.why.includes('symlink') ? LINK_HINT : NAME_HINT);
      case 'skip':
        entry.resume();
        return;
      case 'dir': {
        ensureParents(plan.path, entry.path);
        const there = entries.get(plan.path);
        if (there === undefined) {
          mkdirSync(full(plan.path));
          entries.set(plan.path, { kind: 'dir', member: entry.path });
        } else if (there.kind !== 'dir') {
          throw refuse(
            entry.path,
            `is a folder, but ${quoteMember(plan.path)} is a ${there.kind} earlier in the archive`,
          );
        }
        entry.resume();
        return;
      }
      case 'file':
        writeFile(entry, plan.path);
        return;
      case 'hardlink': {
        if (entries.get(plan.target)?.kind !== 'file' || plan.target === plan.path) {
          throw refuse(
            entry.path,
            `is a hard link to ${quoteMember(entry.linkpath ?? '')}, which is not a file extracted before it`,
          );
        }
        ensureParents(plan.path, entry.path);
        clearPlace(plan.path, entry.path);
        linkSync(full(plan.target), full(plan.path));
        entries.set(plan.path, { kind: 'file', member: entry.path });
        entry.resume();
        return;
      }
      case 'symlink':
        ensureParents(plan.path, entry.path);
        clearPlace(plan.path, entry.path);
        entries.set(plan.path, { kind: 'symlink', member: entry.path });
        links.set(plan.path, { target: plan.target, member: entry.path });
        entry.resume();
        return;
    }
  };

  const parser = new Parser({ zstd: false, brotli: false });
  const damaged = (message: string) =>
    new ArchiveError(`the archive is damaged or incomplete: ${message}`, DAMAGED_HINT);
  parser.on('warn', (_code: string, message: string) => fail(damaged(message)));
  parser.on('error', (error: Error) => fail(damaged(error.message)));
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    fail(
      entry.meta
        ? refuse(entry.path, 'has an extended header larger than 1 MB')
        : refuse(
            entry.path,
            `has the type ${entry.type}: only files, folders and links are extracted`,
          ),
    );
  });
  parser.on('entry', (entry: ReadEntry) => {
    if (failure) {
      entry.resume();
      return;
    }
    try {
      onEntry(entry);
    } catch (error) {
      fail(error instanceof ExtractFailure ? error : writeError(entry.path, error));
      entry.resume();
    }
  });

  await readTarStream(options.archive, (chunk) => {
    if (options.signal?.aborted) throw new ExtractFailure('interrupted');
    if (Date.now() > options.deadline) {
      throw new ExtractFailure(
        `timed out after ${options.timeoutMs} ms`,
        'raise the transform’s timeout, or make the archive smaller',
      );
    }
    budget.bytes += chunk.length;
    if (budget.bytes > budget.limits.maxBytes) {
      throw new ExtractFailure(
        `the archives of this version expand to more than ${budget.limits.maxBytesText} (data.limits.max_bytes)${lfsShare(budget)}${reading === undefined ? '' : `, at member ${quoteMember(reading)}`}`,
        'raise data.limits.max_bytes in the recipe if this much data is expected',
      );
    }
    parser.write(chunk);
    if (failure) throw failure;
  });
  parser.end();
  if (failure) throw failure;

  // Every file is written: now the symlinks, each in a folder this archive made.
  for (const [rel, link] of links) {
    try {
      symlinkSync(link.target, full(rel));
    } catch (error) {
      throw writeError(link.member, error);
    }
  }
  return { entries, links: [...links].map(([p, l]) => ({ path: p, ...l })) };
}

/** An unexpected file-system error while writing a member (no space, a name too long, ...). */
function writeError(member: string, error: unknown): ExtractFailure {
  const code = (error as NodeJS.ErrnoException).code;
  return new ExtractFailure(
    `member ${quoteMember(member)} could not be written: ${code ?? (error as Error).message}`,
    code === 'ENAMETOOLONG' ? 'shorten the names in the archive' : undefined,
  );
}
