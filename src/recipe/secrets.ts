// Finds credentials in recipe values. A recipe travels in user-data, which every process on the
// instance can read from the metadata service: it must name where a credential lives, never carry it.
// What a credential looks like is defined once, in src/lib/redact.ts, which also redacts them.
import { findSecret } from '../lib/redact.js';

/** Keys whose value is a credential recognisable only by the key's name. */
const NAMED_SECRET = /secret|session/i;

export interface CredentialFinding {
  path: PropertyKey[];
  kind: string;
}

/** What kind of credential a string carries, if any. */
export function credentialIn(value: string): string | undefined {
  return findSecret(value);
}

/** How to give a recipe a credential instead, for each kind found. */
export function credentialHint(kind: string): string {
  const instead =
    'keep the credential on the instance: set auth.token_file or auth.ssh_key_file to a file there, or auth.ssm_parameter to an SSM SecureString name';
  return kind === 'a token in the query string'
    ? `remove the token from the URL; ${instead} (the agent sends it as a header)`
    : instead;
}

/**
 * Every string value in a parsed recipe that carries a credential, with its key path. A value is
 * also read beside its key, so that a credential recognisable only by its name is found
 * (AWS_SECRET_ACCESS_KEY: ...).
 */
export function findCredentials(value: unknown, path: PropertyKey[] = []): CredentialFinding[] {
  const findings: CredentialFinding[] = [];
  const visit = (node: unknown, at: PropertyKey[], key?: string): void => {
    if (typeof node === 'string') {
      const kind =
        credentialIn(node) ??
        (key !== undefined && NAMED_SECRET.test(key) ? credentialIn(`${key}=${node}`) : undefined);
      if (kind) findings.push({ path: at, kind });
    } else if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, [...at, i]));
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) visit(v, [...at, k], k);
    }
  };
  visit(value, path);
  return findings;
}
