// What a credential looks like, in one place. The recipe check refuses values that carry one
// (src/recipe/secrets.ts), and every error message, log line and status page goes through
// redactSecrets, so the two can never disagree. Node 18-safe; every pattern runs in linear time.

/** One shape of credential: how to find it and what is left of it once redacted. */
interface SecretShape {
  kind: string;
  /** Global; matched left to right. */
  pattern: RegExp;
  /** The text that replaces a match, or undefined when this match is not a credential after all. */
  redact: (match: RegExpMatchArray) => string | undefined;
}

/** What stands in for a removed credential. */
export const REDACTED = '***';

/** Query parameters (and URL fragments) whose value is a credential. */
const SECRET_PARAMETERS = [
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'private_token',
  'token',
  'api_key',
  'apikey',
  'key',
  'sig',
  'signature',
  'secret',
  'client_secret',
  'password',
  'passwd',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
];

/** A token with a fixed, well-known prefix: the prefix stays, the rest goes. */
function prefixed(kind: string, pattern: RegExp): SecretShape {
  return { kind, pattern, redact: (m) => `${m[1]}${REDACTED}` };
}

// Tokens with a distinctive prefix are found wherever they are, even glued to other text
// ("TOKEN_ghp_...", "xghp_..."): a message may have lost the separator a log line had.

const SHAPES: readonly SecretShape[] = [
  {
    kind: 'a private key',
    // The whole block, or everything after its first line when the end line is missing.
    pattern:
      /(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)([\s\S]*?)(-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
    redact: (m) => (m[2] === REDACTED ? undefined : `${m[1]}${REDACTED}${m[3]}`),
  },
  {
    kind: 'a user name or token in the URL',
    // scheme://userinfo@ (userinfo up to the last "@" before the host). An ssh user name alone
    // (ssh://git@host) is no secret; a password, or any userinfo on http(s) or git, is.
    pattern: /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#]*)@/g,
    redact: (m) =>
      m[2] !== REDACTED && (m[2]!.includes(':') || !/^(ssh|git\+ssh|ssh\+git):\/\/$/i.test(m[1]!))
        ? `${m[1]}${REDACTED}@`
        : undefined,
  },
  {
    kind: 'a token in the query string',
    pattern: new RegExp(`([?&#;](?:${SECRET_PARAMETERS.join('|')})=)([^&#;\\s"'\`<>]+)`, 'gi'),
    redact: (m) => (m[2]!.startsWith(REDACTED) ? undefined : `${m[1]}${REDACTED}`),
  },
  {
    kind: 'an AWS secret access key',
    // Recognisable only next to its name: aws_secret_access_key = ..., "SecretAccessKey": "...".
    pattern: /((?:aws_?)?secret_?access_?key["']?\s{0,8}[:=]\s{0,8}["']?)([A-Za-z0-9/+=]{40,})/gi,
    redact: (m) => `${m[1]}${REDACTED}`,
  },
  {
    kind: 'an AWS session token',
    pattern: /((?:aws_?)?session_?token["']?\s{0,8}[:=]\s{0,8}["']?)([A-Za-z0-9/+=]{100,})/gi,
    redact: (m) => `${m[1]}${REDACTED}`,
  },
  prefixed('a GitHub token', /(gh[pousr]_)[A-Za-z0-9]{30,}/g),
  prefixed('a GitHub fine-grained token', /(github_pat_)[A-Za-z0-9_]{40,}/g),
  prefixed('a GitLab token', /(glpat-)[A-Za-z0-9_-]{20,}/g),
  prefixed('an AWS access key id', /(AKIA|ASIA)[A-Z0-9]{16}/g),
  prefixed('a Slack token', /(xox[abposr]-)[A-Za-z0-9-]{10,}/g),
  prefixed('an npm token', /(npm_)[A-Za-z0-9]{36}/g),
  prefixed('a Stripe key', /([sr]k_live_)[A-Za-z0-9]{20,}/g),
  prefixed('a Google API key', /(AIza)[0-9A-Za-z_-]{35}/g),
  prefixed(
    'a JSON web token',
    // Not preceded by "-" or "_" either: a start inside a run of base64url characters that then
    // fails to find its "." would be tried again at every "eyJ" of the run.
    /(?<![A-Za-z0-9_-])(eyJ)[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  ),
];

/**
 * What every shape needs somewhere in the text (a prefix, "://", "=", a key block): a text without
 * any of these is passed over with one test instead of one per shape.
 */
const MAY_HOLD_SECRET =
  /gh[pousr]_|github_pat_|glpat-|AKIA|ASIA|xox|npm_|k_live_|AIza|eyJ|:\/\/|=|PRIVATE KEY|[Ss][Ee][Cc][Rr][Ee][Tt]|[Ss][Ee][Ss][Ss][Ii][Oo][Nn]/;

function mayHoldSecret(text: string): boolean {
  return MAY_HOLD_SECRET.test(text);
}

/** What kind of credential a text carries (the first found), if any. */
export function findSecret(text: string): string | undefined {
  if (!mayHoldSecret(text)) return undefined;
  for (const shape of SHAPES) {
    for (const match of text.matchAll(shape.pattern)) {
      if (shape.redact(match) !== undefined) return shape.kind;
    }
  }
  return undefined;
}

/** The text with every credential in it replaced by *** (a URL keeps its scheme and host). */
export function redactSecrets(text: string): string {
  if (!mayHoldSecret(text)) return text;
  let result = text;
  for (const shape of SHAPES) {
    let out = '';
    let last = 0;
    for (const match of result.matchAll(shape.pattern)) {
      const replacement = shape.redact(match);
      if (replacement === undefined) continue;
      out += result.slice(last, match.index) + replacement;
      last = match.index! + match[0].length;
    }
    if (last > 0) result = out + result.slice(last);
  }
  return result;
}

/** A copy of a JSON-like value with every string (and key) redacted; other objects are kept as they are. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[redactSecrets(k)] = redactDeep(v);
    return copy as T;
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
