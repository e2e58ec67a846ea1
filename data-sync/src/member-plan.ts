// What to do with one tar member: its name made safe (relative, no "..", `strip` applied) and its
// type mapped to a file, folder, symlink or hard link — or why it is refused. Pure; the extractor
// (extract.ts) does the writing.
import { posix } from 'node:path';

/** A member as the tar parser reports it. */
export interface TarMemberHeader {
  /** The name in the archive, as written there. */
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, FIFO, ... */
  type: string;
  /** The target of a symlink or hard link. */
  linkpath?: string | undefined;
}

/** Where a member goes, relative to the extraction folder (`into`). */
export type MemberPlan =
  | { action: 'skip'; why: string }
  | { action: 'dir'; path: string }
  | { action: 'file'; path: string }
  | { action: 'symlink'; path: string; target: string }
  | { action: 'hardlink'; path: string; target: string }
  | { action: 'refuse'; why: string };

const KIND_NAMES: Record<string, string> = {
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a fifo',
};

/** The segments of a member name after `strip`, or why the name is refused. */
export function memberSegments(
  name: string,
  strip: number,
): { segments: string[] } | { why: string } {
  if (name.includes('\0')) return { why: 'has a NUL byte in its name' };
  if (name.startsWith('/')) return { why: 'has an absolute name' };
  // Counted as GNU tar counts for --strip-components: every non-empty segment, "." included.
  const raw = name.split('/').filter((s) => s !== '');
  if (raw.includes('..')) return { why: 'has ".." in its name' };
  // GNU tar's pax sparse files (tar --sparse): the data is a sparse map, not the file.
  if (raw.some((s) => /^GNUSparseFile\.\d+$/.test(s))) {
    return { why: 'is a GNU sparse file (tar --sparse), which is not extracted' };
  }
  return { segments: raw.slice(strip).filter((s) => s !== '.') };
}

/** Whether `target`, a symlink at `at` (relative to the version), stays inside the version by name. */
export function linkStaysInside(at: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(at), target));
  return resolved !== '..' && !resolved.startsWith('../');
}

/**
 * The plan for one member. `into` is the extraction folder relative to the version (a symlink's
 * target is checked from where it lands in the version).
 */
export function planMember(member: TarMemberHeader, strip: number, into: string): MemberPlan {
  const name = memberSegments(member.path, strip);
  if ('why' in name) return { action: 'refuse', why: name.why };
  const where = name.segments.join('/');
  const kind = KIND_NAMES[member.type];
  if (kind) {
    return { action: 'refuse', why: `is ${kind}: only files, folders and links are extracted` };
  }
  if (where === '') {
    return {
      action: 'skip',
      why: strip > 0 ? 'nothing is left of its name after strip' : 'it is the folder itself',
    };
  }
  switch (member.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return { action: 'file', path: where };
    case 'Directory':
    case 'GNUDumpDir':
      return { action: 'dir', path: where };
    case 'SymbolicLink': {
      const target = member.linkpath ?? '';
      const at = posix.join(into, where);
      if (!linkStaysInside(at, target)) {
        return {
          action: 'refuse',
          why: `is a symlink to ${JSON.stringify(target)} that leads outside the version`,
        };
      }
      return { action: 'symlink', path: where, target };
    }
    case 'Link': {
      const target = member.linkpath ?? '';
      const to = memberSegments(target, strip);
      if ('why' in to) {
        return {
          action: 'refuse',
          why: `is a hard link to ${JSON.stringify(target)}, which ${to.why}`,
        };
      }
      if (to.segments.length === 0) {
        return {
          action: 'refuse',
          why: `is a hard link to ${JSON.stringify(target)}, which is not a file extracted before it`,
        };
      }
      return { action: 'hardlink', path: where, target: to.segments.join('/') };
    }
    default:
      return {
        action: 'refuse',
        why: `has the type ${member.type}: only files, folders and links are extracted`,
      };
  }
}
