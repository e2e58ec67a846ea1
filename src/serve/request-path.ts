// The request path, checked before anything else looks at it: decoded once, with every way of
// spelling a dot segment, an encoded separator or a backslash refused (also double-encoded).

/** A request path that may be served or proxied: the decoded path (query removed). */
export interface SafePath {
  ok: true;
  /** The percent-decoded path, starting with "/". */
  path: string;
}

/** A refused request path: the status to answer and why (for the log, not the client). */
export interface RefusedPath {
  ok: false;
  status: 400 | 404;
  reason: string;
}

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;
const MAX_DECODE_LAYERS = 4;

/** Checks the request target (`req.url`): a path that is safe to serve or proxy, or a refusal. */
export function checkRequestPath(url: string): SafePath | RefusedPath {
  const query = url.indexOf('?');
  const raw = query === -1 ? url : url.slice(0, query);
  if (raw.charCodeAt(0) !== 47) return refuse(400, 'the request target is not a path');
  // The common case: nothing encoded, nothing dotted; the raw path is the decoded path.
  if (
    raw.indexOf('%') === -1 &&
    raw.indexOf('\\') === -1 &&
    raw.indexOf('/.') === -1 &&
    !CONTROL.test(raw)
  ) {
    return { ok: true, path: raw };
  }
  if (raw.includes('\\')) return refuse(400, 'backslash in the path');
  if (ENCODED_SEPARATOR.test(raw)) return refuse(400, 'encoded "/" or "\\" in the path');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return refuse(400, 'malformed percent-encoding');
  }
  const problem = problemIn(decoded);
  if (problem) return problem;
  // Double (and deeper) encoding: a later decode by the service must not produce what we refuse.
  let layer = decoded;
  for (let i = 0; i < MAX_DECODE_LAYERS && layer.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(layer);
    } catch {
      break; // a literal "%" in a name, not an encoding
    }
    if (next === layer) break;
    if (ENCODED_SEPARATOR.test(layer) || problemIn(next)) return refuse(400, 'double-encoded path');
    layer = next;
  }
  return { ok: true, path: decoded };
}

/** The path's non-empty segments ("/a//b/" → ["a", "b"]). */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** True when `path` is `/prefix` or lies under `/prefix/`. */
export function isUnder(path: string, prefix: string): boolean {
  return (
    path.startsWith(prefix) &&
    (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)
  );
}

function problemIn(decoded: string): RefusedPath | undefined {
  if (CONTROL.test(decoded)) return refuse(400, 'control character in the path');
  if (decoded.includes('\\')) return refuse(400, 'backslash in the path');
  for (const segment of decoded.split('/')) {
    if (segment.charCodeAt(0) === 46) return refuse(404, `dot segment "${segment}"`);
  }
  return undefined;
}

function refuse(status: 400 | 404, reason: string): RefusedPath {
  return { ok: false, status, reason };
}
