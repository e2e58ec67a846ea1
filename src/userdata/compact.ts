// Makes scripts smaller for user-data (EC2 takes 16,384 bytes) by dropping comment lines.
// Kept: the #! line, "## " lines (notes meant for the machine) and shellcheck directives. The
// templates in userdata/ keep all their comments.

const KEPT_COMMENT = /^\s*(## |# shellcheck )/;

/** A shell script without its comment and blank lines. Only for scripts whose lines starting with
 * "#" are comments (no here-documents or multi-line strings with such lines). Pure. */
export function compactShell(script: string): string {
  const kept = script
    .split('\n')
    .filter(
      (line, i) =>
        (i === 0 && line.startsWith('#!')) ||
        KEPT_COMMENT.test(line) ||
        !(line.trim() === '' || /^\s*#/.test(line)),
    );
  return kept.join('\n') + '\n';
}
