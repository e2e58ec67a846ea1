// Reading a unified diff (as `git diff` writes it) carried by a recipe's `patch` install step: which
// files and hunks it holds, so a patch is checked when the recipe loads and a patch that no longer
// applies is reported by file and hunk. Pure: no file system, no git.

/** One hunk: "@@ -OLD,N +NEW,M @@" and its lines. */
export interface DiffHunk {
  /** The header line as written. */
  header: string;
  /** 1-based position of the hunk in its file. */
  index: number;
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  /** The line of the patch text the header is on (1-based). */
  line: number;
  /** The lines it expects to find in the file (context and removed lines, without their prefix). */
  expects: string[];
  /** Whether it has context lines (git apply takes a hunk without any only with --unidiff-zero). */
  hasContext: boolean;
}

/** One file of the diff. */
export interface DiffFile {
  /** The path in the checkout, without git's a/ or b/ prefix. */
  path: string;
  created: boolean;
  deleted: boolean;
  /** The line of the patch text its "--- " header is on (1-based). */
  line: number;
  hunks: DiffHunk[];
}

/** A parsed diff, or the first thing wrong with it (line 1-based, in the patch text). */
export type DiffParse =
  { ok: true; files: DiffFile[] } | { ok: false; line: number; message: string };

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

class DiffSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a unified diff; never throws. Text outside file sections (a message, "diff --git", "index") is skipped, as git apply does. */
export function parseUnifiedDiff(text: string): DiffParse {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  try {
    const files: DiffFile[] = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i]!;
      if (line.startsWith('--- ')) {
        const file = parseFile(lines, i);
        files.push(file.file);
        i = file.next;
      } else if (line.startsWith('@@')) {
        throw new DiffSyntaxError(i + 1, 'a hunk before any "--- a/PATH" and "+++ b/PATH" lines');
      } else if (line.startsWith('GIT binary patch') || line.startsWith('Binary files ')) {
        throw new DiffSyntaxError(i + 1, 'binary patches are not supported');
      } else {
        i += 1;
      }
    }
    if (files.length === 0) {
      throw new DiffSyntaxError(
        1,
        'expected a unified diff: "--- a/PATH", "+++ b/PATH", then "@@ -N,M +N,M @@" hunks',
      );
    }
    return { ok: true, files };
  } catch (error) {
    if (error instanceof DiffSyntaxError)
      return { ok: false, line: error.line, message: error.message };
    throw error;
  }
}

/** Whether git apply needs --unidiff-zero: a hunk that changes an existing file without context lines. */
export function needsUnidiffZero(files: readonly DiffFile[]): boolean {
  return files.some((f) => !f.created && !f.deleted && f.hunks.some((h) => !h.hasContext));
}

function parseFile(lines: readonly string[], start: number): { file: DiffFile; next: number } {
  const oldName = headerPath(lines[start]!.slice(4), 'a/', start + 1, '---');
  const plus = lines[start + 1];
  if (plus === undefined || !plus.startsWith('+++ ')) {
    throw new DiffSyntaxError(start + 2, `expected "+++ b/PATH" after "${lines[start]}"`);
  }
  const newName = headerPath(plus.slice(4), 'b/', start + 2, '+++');
  if (oldName === undefined && newName === undefined) {
    throw new DiffSyntaxError(start + 1, 'both file names are /dev/null');
  }
  const file: DiffFile = {
    path: (newName ?? oldName)!,
    created: oldName === undefined,
    deleted: newName === undefined,
    line: start + 1,
    hunks: [],
  };
  let i = start + 2;
  while (i < lines.length && lines[i]!.startsWith('@@')) {
    i = parseHunk(lines, i, file);
  }
  if (file.hunks.length === 0) {
    throw new DiffSyntaxError(
      i + 1,
      `expected a hunk header such as "@@ -12,7 +12,8 @@" for ${file.path}${i < lines.length ? `, got "${lines[i]}"` : ', got the end of the patch'}`,
    );
  }
  return { file, next: i };
}

/** The path of a "--- " or "+++ " line, prefix removed; undefined for /dev/null. */
function headerPath(raw: string, prefix: string, line: number, marker: string): string | undefined {
  const name = raw.split('\t')[0]!.trimEnd();
  if (name === '/dev/null') return undefined;
  if (name.startsWith('"')) {
    throw new DiffSyntaxError(line, `quoted file names are not supported (${name})`);
  }
  if (!name.startsWith(prefix) || name.length === prefix.length) {
    throw new DiffSyntaxError(
      line,
      `expected "${marker} ${prefix}PATH" (as git diff writes it) or "${marker} /dev/null", got "${marker} ${name}"`,
    );
  }
  const path = name.slice(prefix.length);
  const segments = path.split('/');
  if (
    path.startsWith('/') ||
    CONTROL.test(path) ||
    segments.includes('..') ||
    segments.includes('.git')
  ) {
    throw new DiffSyntaxError(
      line,
      `"${path}" is not a path inside the service checkout (no leading "/", ".." or .git)`,
    );
  }
  return path;
}

function parseHunk(lines: readonly string[], start: number, file: DiffFile): number {
  const header = lines[start]!;
  const m = HUNK_HEADER.exec(header);
  if (!m) {
    throw new DiffSyntaxError(
      start + 1,
      `expected a hunk header such as "@@ -12,7 +12,8 @@", got "${header}"`,
    );
  }
  const hunk: DiffHunk = {
    header: header.slice(0, m[0].length),
    index: file.hunks.length + 1,
    oldStart: Number(m[1]),
    oldCount: m[2] === undefined ? 1 : Number(m[2]),
    newStart: Number(m[3]),
    newCount: m[4] === undefined ? 1 : Number(m[4]),
    line: start + 1,
    expects: [],
    hasContext: false,
  };
  let seenOld = 0;
  let seenNew = 0;
  let i = start + 1;
  while (seenOld < hunk.oldCount || seenNew < hunk.newCount) {
    const line = lines[i];
    if (line === undefined || line.startsWith('@@') || line.startsWith('--- ')) {
      throw new DiffSyntaxError(
        i + 1,
        `the hunk "${hunk.header}" (line ${hunk.line}) announces ${hunk.oldCount} old and ${hunk.newCount} new lines but has ${seenOld} and ${seenNew}`,
      );
    }
    // An empty line is an empty context line (editors drop the lone space; git apply accepts it).
    const kind = line === '' ? ' ' : line[0];
    if (kind === ' ') {
      seenOld += 1;
      seenNew += 1;
      hunk.hasContext = true;
      hunk.expects.push(line.slice(1));
    } else if (kind === '-') {
      seenOld += 1;
      hunk.expects.push(line.slice(1));
    } else if (kind === '+') {
      seenNew += 1;
    } else if (kind !== '\\') {
      throw new DiffSyntaxError(
        i + 1,
        `expected a hunk line starting with " ", "-" or "+", got "${line}"`,
      );
    }
    if (seenOld > hunk.oldCount || seenNew > hunk.newCount) {
      throw new DiffSyntaxError(
        i + 1,
        `the hunk "${hunk.header}" (line ${hunk.line}) has more lines than it announces (${hunk.oldCount} old, ${hunk.newCount} new)`,
      );
    }
    i += 1;
  }
  if (lines[i]?.startsWith('\\')) i += 1; // "\ No newline at end of file" after the last line
  file.hunks.push(hunk);
  return i;
}
