// MIME multipart/mixed user-data, as cloud-init reads it: one part per content type. Deterministic
// (the boundary is derived from the parts), so the same input always renders the same bytes.
import { createHash } from 'node:crypto';

/** One part of multipart user-data. */
export interface MimePart {
  contentType: 'text/cloud-config' | 'text/x-shellscript';
  filename: string;
  content: string;
}

/** The multipart/mixed message. ASCII parts go as 7bit; others as base64 (cloud-init's email
 * parser mangles raw UTF-8 in 8bit parts). Pure. */
export function buildMultipart(parts: readonly MimePart[]): string {
  const boundary = chooseBoundary(parts);
  const lines = [`Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', ''];
  for (const part of parts) {
    const ascii = /^[\t\n\u0020-\u007e]*$/.test(part.content);
    lines.push(
      `--${boundary}`,
      `Content-Type: ${part.contentType}; charset="utf-8"`,
      'MIME-Version: 1.0',
      `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}`,
      `Content-Disposition: attachment; filename="${part.filename}"`,
      '',
      ascii ? part.content : base64Lines(part.content),
    );
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\n');
}

function chooseBoundary(parts: readonly MimePart[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part.content);
  const base = `==gitstrap-${hash.digest('hex').slice(0, 24)}`;
  for (let i = 0; i < 1000; i++) {
    const boundary = i === 0 ? base : `${base}-${i}`;
    if (parts.every((p) => !p.content.includes(boundary))) return boundary;
  }
  throw new Error('no MIME boundary found that the parts do not contain');
}

function base64Lines(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\n');
}
