// Makes scripts smaller for user-data (EC2 takes 16,384 bytes) by dropping comment lines and the
// indentation. Kept: the #! line, "## " lines (notes meant for the machine) and shellcheck
// directives. The templates in userdata/ keep all their comments and their indentation; a test
// (cloud-init.test.ts) checks that bash parses both into the same program.

const KEPT_COMMENT = /^\s*(## |# shellcheck )/;

/** A shell script without its comment and blank lines and without leading blanks. Only for
 * scripts without here-documents or strings that span lines. Pure. */
export function compactShell(script: string): string {
  const kept = script
    .split('\n')
    .filter(
      (line, i) =>
        (i === 0 && line.startsWith('#!')) ||
        KEPT_COMMENT.test(line) ||
        !(line.trim() === '' || /^\s*#/.test(line)),
    );
  return kept.map((line) => line.trimStart()).join('\n') + '\n';
}
