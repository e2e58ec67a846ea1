// What may not enter user-data: characters cloud-init's YAML reader refuses, and credentials.
// User-data is readable by every process on the instance (the metadata service serves it).
import { GitstrapError } from '../lib/errors.js';
import { formatKeyPath } from '../recipe/load.js';
import { credentialIn, findCredentials } from '../recipe/secrets.js';

const KEEP_CREDENTIALS_HINT =
  'keep the credential on the instance: set auth.token_file or auth.ssh_key_file to a file there, or auth.ssm_parameter to an SSM SecureString name';

// PyYAML (cloud-init) refuses DEL, the C1 controls (U+0085 even reads as a line break), U+FFFE,
// U+FFFF and unpaired surrogates anywhere in the stream; the yaml library would emit them raw.
const UNCARRIABLE =
  /[\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first character in `text` that cloud-init cannot read, as "U+XXXX", if any. */
export function findUncarriable(text: string): string | undefined {
  const match = UNCARRIABLE.exec(text);
  if (!match) return undefined;
  return `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Every string in a value with its key path. */
function* stringsIn(
  value: unknown,
  keyPath: PropertyKey[] = [],
): Generator<[PropertyKey[], string]> {
  if (typeof value === 'string') yield [keyPath, value];
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* stringsIn(item, [...keyPath, i]);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...keyPath, k]);
  }
}

/** Throws when a recipe value holds a character that cloud-init cannot read. */
export function assertCarriable(value: unknown, what = 'recipe value'): void {
  for (const [keyPath, text] of stringsIn(value)) {
    const char = findUncarriable(text);
    if (char) {
      throw new GitstrapError(
        `${what} ${formatKeyPath(keyPath)} contains ${char}, a character cloud-init cannot read in user-data`,
        { hint: 'remove that character from the recipe (or from the --set value)' },
      );
    }
  }
}

/** Throws when the recipe or an option carries a credential. */
export function assertNoCredentials(recipe: unknown, options: Record<string, unknown>): void {
  const [finding] = findCredentials(recipe);
  if (finding) {
    throw new GitstrapError(
      `recipe value ${formatKeyPath(finding.path)} carries a credential (${finding.kind}); user-data is readable by anyone on the instance`,
      { hint: KEEP_CREDENTIALS_HINT },
    );
  }
  for (const [keyPath, text] of stringsIn(options)) {
    const kind = credentialIn(text) ?? wordsOf(text).map(credentialIn).find(Boolean);
    if (kind) {
      throw new GitstrapError(
        `the ${formatKeyPath(keyPath)} option carries a credential (${kind}); user-data is readable by anyone on the instance`,
        { hint: KEEP_CREDENTIALS_HINT },
      );
    }
  }
}

/** Throws when rendered user-data text contains anything shaped like a credential. */
export function assertTextHasNoCredentials(text: string): void {
  for (const word of wordsOf(text)) {
    const kind = credentialIn(word);
    if (kind) {
      throw new GitstrapError(
        `the user-data would carry a credential (${kind}); user-data is readable by anyone on the instance`,
        { hint: KEEP_CREDENTIALS_HINT },
      );
    }
  }
}

function wordsOf(text: string): string[] {
  return text.split(/[\s"'`<>(){}[\],;|&=\\]+/).filter((w) => w.length >= 8);
}
