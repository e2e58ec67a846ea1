// SSH deploy keys: git runs ssh with only that key and only the pinned host keys.

/** Quotes a value for the POSIX shell that git runs GIT_SSH_COMMAND with. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** GIT_SSH_COMMAND for a deploy key and a known_hosts file: no agent keys, no unknown hosts, no prompts. */
export function sshCommand(keyFile: string, knownHostsFile: string): string {
  return [
    'ssh',
    '-i',
    shellQuote(keyFile),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${shellQuote(knownHostsFile)}`,
    '-o',
    'BatchMode=yes',
  ].join(' ');
}

/** The known_hosts file content for the recipe's pinned host keys. */
export function knownHostsText(lines: readonly string[]): string {
  return (
    lines
      .map((l) => l.trim())
      .filter(Boolean)
      .join('\n') + '\n'
  );
}
