// The static mirror of a data repo (data.source.static, publish.mirror): its pointer file, which
// bundle an agent downloads, where it lives under the mirror's URL, and what a bundle's header says.
// Shared by the publisher (which writes the mirror) and the engine (which reads it). Pure.
//
//   MIRROR/gitstrap-data.json               the pointer: the commit served now and its bundles
//   MIRROR/bundles/COMMIT.bundle            the commit alone (no prerequisites)
//   MIRROR/bundles/FROM-COMMIT.bundle       what COMMIT adds to FROM (FROM is its prerequisite)
import { isCommitId } from './layout.js';

/** The pointer's name in the mirror folder. */
export const POINTER_FILE = 'gitstrap-data.json';
/** The folder of the bundles, inside the mirror. */
export const BUNDLES_DIR = 'bundles';
/** What the pointer's `format` says (a later, incompatible format gets another). */
export const MIRROR_FORMAT = 'gitstrap-data-mirror/1';
/** The most bytes a pointer may have (it names two bundles). */
export const POINTER_MAX_BYTES = 64 * 1024;

/** One bundle the pointer names. */
export interface MirrorBundle {
  /** Relative to the mirror: bundles/COMMIT.bundle or bundles/FROM-COMMIT.bundle. */
  file: string;
  size: number;
  sha256: string;
  /** For an incremental bundle: the commit it builds on (its one prerequisite). */
  from?: string;
}

/** The pointer file: which commit the mirror serves, on which branch, and its bundles. */
export interface MirrorPointer {
  format: typeof MIRROR_FORMAT;
  /** The branch published, e.g. refs/heads/master. */
  ref: string;
  commit: string;
  /** When it was written (ISO 8601). */
  published: string;
  /** The full bundle first, then the incremental ones. */
  bundles: MirrorBundle[];
}

/** The file name of a bundle: the commit's alone, or from `from` to it. */
export function bundleFile(commit: string, from?: string): string {
  return `${BUNDLES_DIR}/${from ? `${from}-` : ''}${commit}.bundle`;
}

const BUNDLE_NAME =
  /^bundles\/(?:([0-9a-f]{40}|[0-9a-f]{64})-)?([0-9a-f]{40}|[0-9a-f]{64})\.bundle$/;

/** Reads a pointer: its fields checked, or the one-line reason it is not one. */
export function parsePointer(
  text: string,
): { ok: true; pointer: MirrorPointer } | { ok: false; why: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, why: 'it is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, why: 'it is not a JSON object' };
  }
  const p = raw as Record<string, unknown>;
  if (p.format !== MIRROR_FORMAT) {
    return {
      ok: false,
      why: `its format is ${JSON.stringify(p.format)}, not "${MIRROR_FORMAT}"`,
    };
  }
  if (typeof p.commit !== 'string' || !isCommitId(p.commit)) {
    return { ok: false, why: 'its commit is not a full commit id' };
  }
  if (typeof p.ref !== 'string' || !p.ref.startsWith('refs/heads/')) {
    return { ok: false, why: 'its ref is not a branch (refs/heads/...)' };
  }
  if (typeof p.published !== 'string') return { ok: false, why: 'it has no published time' };
  if (!Array.isArray(p.bundles) || p.bundles.length === 0) {
    return { ok: false, why: 'it names no bundles' };
  }
  const bundles: MirrorBundle[] = [];
  for (const [i, b] of (p.bundles as unknown[]).entries()) {
    const at = `bundles[${i}]`;
    if (typeof b !== 'object' || b === null) return { ok: false, why: `${at} is not an object` };
    const e = b as Record<string, unknown>;
    const name = typeof e.file === 'string' ? BUNDLE_NAME.exec(e.file) : null;
    if (!name) {
      return { ok: false, why: `${at}.file is not bundles/[FROM-]COMMIT.bundle` };
    }
    if (name[2] !== p.commit) {
      return { ok: false, why: `${at}.file is not a bundle of the pointer's commit` };
    }
    const from = e.from;
    if ((name[1] ?? undefined) !== from) {
      return { ok: false, why: `${at}.from does not match its file name` };
    }
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 1) {
      return { ok: false, why: `${at}.size is not a positive whole number` };
    }
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      return { ok: false, why: `${at}.sha256 is not 64 hex digits` };
    }
    bundles.push({
      file: e.file as string,
      size: e.size,
      sha256: e.sha256,
      ...(typeof from === 'string' ? { from } : {}),
    });
  }
  if (!bundles.some((b) => b.from === undefined)) {
    return { ok: false, why: 'it names no full bundle (bundles/COMMIT.bundle)' };
  }
  return {
    ok: true,
    pointer: {
      format: MIRROR_FORMAT,
      ref: p.ref,
      commit: p.commit,
      published: p.published,
      bundles,
    },
  };
}

/** The pointer's JSON as the publisher writes it (stable key order, one trailing newline). */
export function formatPointer(pointer: MirrorPointer): string {
  const bundles = pointer.bundles.map((b) => ({
    file: b.file,
    ...(b.from ? { from: b.from } : {}),
    size: b.size,
    sha256: b.sha256,
  }));
  return (
    JSON.stringify(
      {
        format: pointer.format,
        ref: pointer.ref,
        commit: pointer.commit,
        published: pointer.published,
        bundles,
      },
      null,
      2,
    ) + '\n'
  );
}

/**
 * The bundle to download: the incremental one from a commit the agent holds (`have`, the version it
 * serves), else the full one.
 */
export function chooseBundle(pointer: MirrorPointer, have: string | undefined): MirrorBundle {
  const incremental = have ? pointer.bundles.find((b) => b.from === have) : undefined;
  return incremental ?? pointer.bundles.find((b) => b.from === undefined)!;
}

/** Whether the pointer's branch is the one data.ref names ("main" or "refs/heads/main"). */
export function pointerMatchesRef(pointer: MirrorPointer, dataRef: string): boolean {
  return pointer.ref === (dataRef.startsWith('refs/') ? dataRef : `refs/heads/${dataRef}`);
}

/** The URL of a file under the mirror's folder URL (a folder URL gets its trailing "/"). */
export function mirrorUrl(base: string, file: string): string {
  const folder = base.endsWith('/') ? base : `${base}/`;
  return new URL(file, folder).toString();
}

/** What a bundle's header says: its format, the commits it needs, the refs it carries. */
export interface BundleHeader {
  version: 2 | 3;
  prerequisites: string[];
  refs: Array<{ commit: string; name: string }>;
}

/** Reads the text header of a git bundle (up to the blank line before its pack). */
export function parseBundleHeader(
  head: Buffer,
): { ok: true; header: BundleHeader } | { ok: false; why: string } {
  const end = head.indexOf('\n\n');
  if (end < 0) return { ok: false, why: 'it has no bundle header' };
  const lines = head.subarray(0, end).toString('utf8').split('\n');
  const first = lines.shift();
  const version = first === '# v2 git bundle' ? 2 : first === '# v3 git bundle' ? 3 : undefined;
  if (!version) return { ok: false, why: 'it is not a git bundle (v2 or v3)' };
  const header: BundleHeader = { version, prerequisites: [], refs: [] };
  for (const line of lines) {
    if (version === 3 && line.startsWith('@')) continue;
    const prerequisite = /^-([0-9a-f]{40}|[0-9a-f]{64})(?: .*)?$/.exec(line);
    if (prerequisite) {
      header.prerequisites.push(prerequisite[1]!);
      continue;
    }
    const ref = /^([0-9a-f]{40}|[0-9a-f]{64}) (refs\/[^\s]+)$/.exec(line);
    if (!ref) return { ok: false, why: `its header has a line git does not write: ${line}` };
    header.refs.push({ commit: ref[1]!, name: ref[2]! });
  }
  return { ok: true, header };
}

/** What the mirror folder keeps after a publish: the new pointer's bundles and the previous one's. */
export function planMirrorPrune(
  files: readonly string[],
  keep: ReadonlyArray<MirrorPointer | undefined>,
): string[] {
  const kept = new Set(keep.flatMap((p) => p?.bundles.map((b) => b.file) ?? []));
  return files.filter((f) => !kept.has(f)).sort();
}
