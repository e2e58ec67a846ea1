// The served folders' real paths. The rule that maps a checked request path to a file inside them
// (joined under its root, symlinks resolved, refused when the real path leaves the allowed roots or
// passes through a dot-named entry) is src/lib/resolve-inside.ts, shared with data-sync; it is
// re-exported here for the fast path.
import { realpathSync } from 'node:fs';

export { resolveInside, type Resolved } from '../lib/resolve-inside.js';

/** The real path of a folder the agent was told to serve, or undefined when it is not there. */
export function realFolder(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  try {
    return realpathSync.native(dir);
  } catch {
    return undefined;
  }
}
