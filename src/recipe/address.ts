// What serve.host and agent.source may be: an address to listen on, a package spec for npm. Both
// reach the first-boot script and the agent's listen call, so they must be what they claim to be.
import { isIP } from 'node:net';

// A label: letters, digits and inner dashes, 1-63 characters.
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** An IP address (v4 or v6, without brackets) or a host name (RFC 1123; not all digits at the end). */
export function isListenAddress(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // A last label of digits only would be a malformed IPv4 address (999.1.1.1), not a name.
  return labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}

/** "npm:<spec>": a package spec without spaces, control or invisible characters, not an option. */
export const NPM_SOURCE = /^npm:(?!-)[^\s\p{C}]+$/u;

export const NPM_SOURCE_ERROR =
  'expected "npm:<package spec>" (no spaces or control characters) or "image"';
