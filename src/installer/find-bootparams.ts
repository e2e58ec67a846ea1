// Finding the `bootparams=` line in an instance's user-data, in every shape gitstrap emits and the
// seed used: cloud-config (the line directly after `#cloud-config`), MIME multipart (in its
// cloud-config part), gzip of either, or plain text (a line starting `bootparams=`). Pure: no I/O.
import { gunzipSync } from 'node:zlib';
import { GitstrapError } from '../lib/errors.js';
import { parseContentType, splitMessage, splitMultipart } from './multipart-reader.js';

/** The raw boot-parameter text found, and where (for messages). */
export interface FoundBootParams {
  text: string;
  where: string;
}

/** Decompressed user-data larger than this is refused (EC2 allows 16 KB compressed). */
export const USER_DATA_MAX_INFLATED = 1024 * 1024;
const MAX_DEPTH = 4;
const GZIP_MAGIC = [0x1f, 0x8b];

/** The prefix of the line the renderer writes after `#cloud-config`. */
export const CLOUD_CONFIG_MARKER = '# bootparams=';
const PLAIN_LINE = /^(?:# ?)?bootparams=(.*)$/;

/** The user-data's boot parameters, or undefined when it carries none; throws when ambiguous. */
export function findBootParams(payload: Buffer): FoundBootParams | undefined {
  const found = search(payload, 'user-data', 0);
  if (found.length > 1) {
    throw new GitstrapError(
      `user-data carries ${found.length} bootparams= lines (${found.map((f) => f.where).join('; ')})`,
      { hint: 'give the boot parameters once: bootstrap userdata --installer writes exactly one' },
    );
  }
  return found[0];
}

function isGzip(data: Buffer): boolean {
  return data[0] === GZIP_MAGIC[0] && data[1] === GZIP_MAGIC[1];
}

function search(data: Buffer, where: string, depth: number): FoundBootParams[] {
  if (depth > MAX_DEPTH) {
    throw new GitstrapError(`${where}: nested more than ${MAX_DEPTH} levels deep`);
  }
  if (isGzip(data)) return search(gunzip(data, where), `${where} (gzip)`, depth + 1);
  const text = data.toString('utf8');
  if (/^#cloud-config\r?\n|^#cloud-config$/.test(text)) return inCloudConfig(text, where);
  if (/^(content-type|mime-version):/i.test(text)) return inMime(text, where, depth);
  return inPlain(text, where);
}

function gunzip(data: Buffer, where: string): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: USER_DATA_MAX_INFLATED });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new GitstrapError(
      code === 'ERR_BUFFER_TOO_LARGE'
        ? `${where}: gzip data inflates to more than ${USER_DATA_MAX_INFLATED} bytes`
        : `${where}: corrupt gzip data (${(error as Error).message})`,
      { hint: 'pass the output of bootstrap userdata --gzip unchanged' },
    );
  }
}

/** In cloud-config the line must directly follow `#cloud-config`; anywhere else is an error. */
function inCloudConfig(text: string, where: string): FoundBootParams[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const found: FoundBootParams[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith(CLOUD_CONFIG_MARKER)) return;
    if (i !== 1) {
      throw new GitstrapError(
        `${where} line ${i + 1}: a bootparams= line must directly follow #cloud-config (line 2)`,
        { hint: 'render the user-data with bootstrap userdata --installer, which puts it there' },
      );
    }
    found.push({ text: line.slice(CLOUD_CONFIG_MARKER.length), where: `${where} line 2` });
  });
  return found;
}

function inMime(text: string, where: string, depth: number): FoundBootParams[] {
  const { headers, body } = splitMessage(text);
  const { type, params } = parseContentType(headers['content-type']);
  if (!type.startsWith('multipart/')) {
    const part = Buffer.from(body, 'utf8');
    return search(part, `${where} (${type})`, depth + 1);
  }
  const boundary = params.boundary;
  if (!boundary) {
    throw new GitstrapError(`${where}: ${type} without a boundary parameter`);
  }
  return splitMultipart(body, boundary).flatMap((part, i) => {
    const at = `${where} part ${i + 1} (${part.type})`;
    if (part.type.startsWith('multipart/')) {
      const header = `Content-Type: ${part.headers['content-type']}\n\n`;
      return search(Buffer.from(header + part.body.toString('utf8')), at, depth + 1);
    }
    if (isGzip(part.body) || /gzip/.test(part.type)) return search(part.body, at, depth + 1);
    if (part.type === 'text/cloud-config' || part.type === 'text/plain') {
      return search(part.body, at, depth + 1);
    }
    return [];
  });
}

/** Plain user-data (as the seed passed it): a line starting `bootparams=` (or `# bootparams=`). */
function inPlain(text: string, where: string): FoundBootParams[] {
  if (text.startsWith('#!')) return [];
  const found: FoundBootParams[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const match = PLAIN_LINE.exec(line);
    if (match) found.push({ text: match[1]!, where: `${where} line ${i + 1}` });
  });
  return found;
}
