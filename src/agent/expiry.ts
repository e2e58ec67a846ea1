// When an ephemeral deployment (recipe ttl) ends: the time in /var/lib/gitstrap/expires-at if
// the user-data wrote one (ISO 8601 or seconds since the epoch), else the agent's start plus ttl.
import { readFileSync } from 'node:fs';
import { durationMs } from '../lib/duration.js';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';

/** The file the first boot writes the deployment's end time to. */
export const DEFAULT_EXPIRES_AT_FILE = INSTANCE_PATHS.expiresAt;

/** Parses the expires-at file's content; undefined when it is not a time. */
export function parseExpiresAt(text: string): Date | undefined {
  const value = text.trim();
  if (/^\d{9,11}$/.test(value)) return new Date(Number(value) * 1000);
  const date = new Date(value);
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** When the deployment ends, or undefined without a ttl. */
export function expiryOf(
  ttl: string | undefined,
  startedAt: Date,
  file: string = DEFAULT_EXPIRES_AT_FILE,
): Date | undefined {
  if (ttl === undefined) return undefined;
  try {
    const fromFile = parseExpiresAt(readFileSync(file, 'utf8'));
    if (fromFile) return fromFile;
  } catch {
    // no file: count from the agent's start
  }
  return new Date(startedAt.getTime() + durationMs(ttl));
}
