// Just enough MIME (RFC 2045/2046) to read cloud-init multipart user-data: headers, a multipart
// body split on its boundary, and each part's transfer encoding undone. Pure: no I/O.
import { GitstrapError } from '../lib/errors.js';

export interface MimeHeaders {
  /** Lower-cased header names; unfolded values. */
  [name: string]: string | undefined;
}

export interface MimePart {
  headers: MimeHeaders;
  /** The media type, lower-cased, without parameters ("text/cloud-config"). */
  type: string;
  /** The body with its Content-Transfer-Encoding undone. */
  body: Buffer;
}

/** Splits a message into its header block and body at the first empty line. */
export function splitMessage(text: string): { headers: MimeHeaders; body: string } {
  if (/^\r?\n/.test(text)) return { headers: {}, body: text.replace(/^\r?\n/, '') };
  const match = /\r?\n\r?\n/.exec(text);
  const head = match ? text.slice(0, match.index) : text;
  const body = match ? text.slice(match.index + match[0].length) : '';
  const headers: MimeHeaders = {};
  let last: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      headers[last] = `${headers[last]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** The media type and parameters of a Content-Type header value. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  const [type = '', ...rest] = (value ?? 'text/plain').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    params[key] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Undoes a Content-Transfer-Encoding (7bit, 8bit, binary, base64, quoted-printable). */
export function decodeTransfer(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '7bit').trim().toLowerCase()) {
    case '7bit':
    case '8bit':
    case 'binary':
      return Buffer.from(body, 'latin1');
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return Buffer.from(
        body
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) =>
            String.fromCharCode(parseInt(hex, 16)),
          ),
        'latin1',
      );
    default:
      throw new GitstrapError(`user-data: unknown Content-Transfer-Encoding "${encoding}"`, {
        hint: 'use base64, quoted-printable or 7bit',
      });
  }
}

/** The parts of a multipart body with this boundary (the preamble and epilogue are dropped). */
export function splitMultipart(body: string, boundary: string): MimePart[] {
  if (!boundary) throw new GitstrapError('user-data: a multipart message without a boundary');
  const lines = body.split(/\r?\n/);
  const parts: string[][] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}--`) {
      if (current) parts.push(current);
      closed = true;
      break;
    }
    if (trimmed === `--${boundary}`) {
      if (current) parts.push(current);
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (!closed) {
    throw new GitstrapError(`user-data: the multipart message has no closing --${boundary}--`, {
      hint: 'the user-data was cut short; it must fit in 16 KB (gzip it)',
    });
  }
  return parts.map((partLines) => {
    const { headers, body: partBody } = splitMessage(partLines.join('\n'));
    return {
      headers,
      type: parseContentType(headers['content-type']).type,
      body: decodeTransfer(partBody, headers['content-transfer-encoding']),
    };
  });
}
