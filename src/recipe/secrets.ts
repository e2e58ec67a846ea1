// Finds credentials in recipe values. A recipe travels in user-data, which every process on the
// instance can read from the metadata service: it must name where a credential lives, never carry it.

export interface CredentialFinding {
  path: PropertyKey[];
  kind: string;
}

const TOKEN_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/, 'a private key'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}/, 'a GitHub token'],
  [/\bgithub_pat_[A-Za-z0-9_]{40,}/, 'a GitHub fine-grained token'],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, 'a GitLab token'],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/, 'an AWS access key id'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\bnpm_[A-Za-z0-9]{36}\b/, 'an npm token'],
  [/\b[sr]k_live_[A-Za-z0-9]{20,}/, 'a Stripe key'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, 'a Google API key'],
  [/\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, 'a JSON web token'],
];

/** What kind of credential a string carries, if any. */
export function credentialIn(value: string): string | undefined {
  const userinfo = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@\s]*)@/i.exec(value);
  if (userinfo) {
    const [, scheme, info] = userinfo;
    const isSsh = /^(ssh|git\+ssh)$/i.test(scheme!);
    // ssh://git@host is a user name, not a secret; any password, or any userinfo on http(s)/git, is.
    if (info!.includes(':') || !isSsh) return 'a user name or token in the URL';
  }
  for (const [pattern, kind] of TOKEN_SHAPES) if (pattern.test(value)) return kind;
  return undefined;
}

/** Every string value in a parsed recipe that carries a credential, with its key path. */
export function findCredentials(value: unknown, path: PropertyKey[] = []): CredentialFinding[] {
  if (typeof value === 'string') {
    const kind = credentialIn(value);
    return kind ? [{ path, kind }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findCredentials(v, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findCredentials(v, [...path, k]));
  }
  return [];
}
