// The agent bundle a person hosts themselves: where it is in this package, its published name and
// checksum, and the agent.source that points instances at it. Planning is pure; writing is the
// command's (src/cli/commands/bundle.ts).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';

/** The bundle's path inside the gitstrap package (built by `npm run build`). */
export function agentBundlePath(packageRoot: string): string {
  return path.join(packageRoot, 'dist', 'gitstrap-agent.cjs');
}

/** The file name a bundle is published under: versioned, so a host can keep several. */
export function publishedBundleName(version: string): string {
  return `gitstrap-agent-${version}.cjs`;
}

export interface BundlePlan {
  name: string;
  sha256: string;
  bytes: number;
  /** The recipe lines to paste (the URL as given, or a placeholder to replace). */
  recipeSnippet: string;
  /** The same as --set arguments, for `bootstrap userdata|launch`. */
  setArgs: string[];
}

/** What `bootstrap bundle` writes and prints for a bundle's bytes. Pure. */
export function planBundle(bundle: Buffer, version: string, url?: string): BundlePlan {
  const name = publishedBundleName(version);
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  const where = url ?? `https://YOUR-HOST/PATH/${name}`;
  return {
    name,
    sha256,
    bytes: bundle.length,
    recipeSnippet: ['agent:', '  source:', `    url: ${where}`, `    sha256: ${sha256}`, ''].join(
      '\n',
    ),
    setArgs: [`--set agent.source.url=${where}`, `--set agent.source.sha256=${sha256}`],
  };
}

/** Reads this package's agent bundle, or says how to get one. */
export function readAgentBundle(packageRoot: string | undefined): Buffer {
  const file = packageRoot ? agentBundlePath(packageRoot) : undefined;
  if (!file || !existsSync(file)) {
    throw new GitstrapError(`the agent bundle is not here${file ? ` (${file} is missing)` : ''}`, {
      hint: packageRoot
        ? 'run "npm run build" in the gitstrap checkout, or install gitstrap from npm, which ships it'
        : 'run bootstrap bundle from an installed gitstrap package, not from the agent bundle itself',
    });
  }
  return readFileSync(file);
}
