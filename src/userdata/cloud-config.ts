// The cloud-config document: a JS object serialized with the yaml library, in the styles that
// cloud-init's YAML 1.1 reader (PyYAML) reads back exactly: file contents as literal blocks,
// every other string double-quoted (so "yes", "0755" or "12:30" never become booleans or numbers).
import { Document, isPair, isScalar, isSeq, Scalar, visit } from 'yaml';
import { gzipSync } from 'node:zlib';
import { GitstrapError } from '../lib/errors.js';

/** One file cloud-init writes (a write_files entry), owned by root. */
export interface WriteFile {
  path: string;
  content: string;
  /** Octal, e.g. "0755"; a cloud-config leaves out cloud-init's default, "0644". */
  permissions: string;
  /** b64 when the content is not plain text a literal block can hold; gz+b64 when it is
   * compressed to fit EC2's limit. */
  encoding?: 'b64' | 'gz+b64';
}

/** The cloud-config gitstrap writes. */
export interface CloudConfig {
  write_files: WriteFile[];
  /** Commands in argv form (cloud-init single-quotes every item). */
  runcmd?: string[][];
}

// Text a YAML literal block carries unchanged for PyYAML: tab, newline, printable characters;
// no CR, and none of the characters YAML 1.1 reads as line breaks or a byte-order mark.
const BLOCK_SAFE =
  /^[\t\n\u0020-\u007e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]*$/u;

/** Whether a file's content can go into the user-data as a literal block. */
export function isBlockSafe(text: string, asciiOnly = false): boolean {
  return asciiOnly ? /^[\t\n\u0020-\u007e]*$/.test(text) : BLOCK_SAFE.test(text);
}

/** A write_files entry for text content: plain when it is block-safe, else base64. */
export function textFile(
  path: string,
  content: string,
  permissions: string,
  options: { asciiOnly?: boolean } = {},
): WriteFile {
  const entry = { path, permissions };
  if (isBlockSafe(content, options.asciiOnly)) return { ...entry, content };
  return { ...entry, encoding: 'b64', content: Buffer.from(content, 'utf8').toString('base64') };
}

/** The same entry with its content gzipped and base64-encoded (cloud-init's gz+b64): the bytes
 * of a long fixed file (the first-boot script) in about a third of the space. */
export function compressedFile(file: WriteFile): WriteFile {
  if (file.encoding !== undefined) return file;
  const gz = gzipSync(Buffer.from(file.content, 'utf8'), { level: 9 });
  return { ...file, encoding: 'gz+b64', content: gz.toString('base64') };
}

/** cloud-init's write_files defaults (cc_write_files): permissions 0644, and the distribution's
 * default owner, root:root. The user-data leaves them out, to spend fewer of EC2's 16,384 bytes;
 * cloud-init.test.ts checks the files cloud-init's own code writes from it. */
const CLOUD_INIT_DEFAULT_PERMISSIONS = '0644';

/** "#cloud-config", the optional "# bootparams=" line, then the YAML. Pure. */
export function serializeCloudConfig(config: CloudConfig, bootparams?: string): string {
  const doc = new Document({
    ...config,
    write_files: config.write_files.map(({ path, permissions, ...file }) =>
      permissions === CLOUD_INIT_DEFAULT_PERMISSIONS
        ? { path, ...file }
        : { path, permissions, ...file },
    ),
  });
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string') return;
      const parent = path.at(-1);
      const isContent = isPair(parent) && isScalar(parent.key) && parent.key.value === 'content';
      node.type =
        isContent && node.value.includes('\n') ? Scalar.BLOCK_LITERAL : Scalar.QUOTE_DOUBLE;
    },
    Seq(_key, node, path) {
      // runcmd's commands, one per line: ["sh", "/path", "--name", "x"]
      if (isSeq(path.at(-1))) node.flow = true;
    },
  });
  const header = ['#cloud-config'];
  if (bootparams !== undefined) header.push(`# bootparams=${checkBootparams(bootparams)}`);
  return `${header.join('\n')}\n${doc.toString({ lineWidth: 0, indentSeq: false, flowCollectionPadding: false })}`;
}

function checkBootparams(value: string): string {
  if (!/^[\u0020-\u007e]*$/.test(value)) {
    throw new GitstrapError(
      'boot parameters for the user-data must be one line of printable ASCII characters',
      { hint: 'pass the canonical boot parameter string (no newlines or control characters)' },
    );
  }
  return value;
}
