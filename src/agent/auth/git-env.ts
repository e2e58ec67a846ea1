// The git environment for a private repo, from the recipe's auth block: an SSH deploy key with
// pinned host keys, a token file, or an SSM parameter holding either. Values are never logged.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../../lib/errors.js';
import type { RepoAuth } from '../../recipe/schema.js';
import { checkCredentialFile, readCredentialFile } from './credential-file.js';
import { endpointsFromEnv, readSsmParameter } from './ssm.js';
import { knownHostsText, sshCommand } from './ssh.js';
import { tokenGitEnv } from './token.js';

/** What building a git environment needs. */
export interface GitEnvOptions {
  /** Folder (created 0700) for the known_hosts file and a key read from SSM. */
  authDir: string;
  /** The agent's environment (AWS endpoint variables). */
  env: NodeJS.ProcessEnv;
}

function writePrivate(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600 });
}

function sshEnv(
  part: string,
  keyFile: string,
  knownHosts: readonly string[] | undefined,
  authDir: string,
): Record<string, string> {
  if (!knownHosts?.length) {
    throw new GitstrapError(
      `${part}.auth: an SSH key needs pinned host keys in ${part}.auth.known_hosts`,
      {
        hint: "add the output of `ssh-keyscan HOST`, checked against the host's published fingerprints",
      },
    );
  }
  const hostsFile = path.join(authDir, `${part}.known_hosts`);
  writePrivate(hostsFile, knownHostsText(knownHosts));
  return { GIT_SSH_COMMAND: sshCommand(keyFile, hostsFile) };
}

/** The environment git needs to reach `part`'s repo ({} for a public one). */
export async function gitEnvFor(
  part: 'service' | 'data',
  auth: RepoAuth | undefined,
  options: GitEnvOptions,
): Promise<Record<string, string>> {
  if (!auth) return {};
  if (auth.ssh_key_file) {
    checkCredentialFile(auth.ssh_key_file, `${part}.auth.ssh_key_file`);
    return sshEnv(part, auth.ssh_key_file, auth.known_hosts, options.authDir);
  }
  if (auth.token_file) {
    return tokenGitEnv(readCredentialFile(auth.token_file, `${part}.auth.token_file`));
  }
  if (auth.ssm_parameter) {
    const value = (
      await readSsmParameter(auth.ssm_parameter, endpointsFromEnv(options.env))
    ).trim();
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) {
      const keyFile = path.join(options.authDir, `${part}.key`);
      writePrivate(keyFile, value + '\n');
      return sshEnv(part, keyFile, auth.known_hosts, options.authDir);
    }
    return tokenGitEnv(value);
  }
  return {};
}
