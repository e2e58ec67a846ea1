// Reading rendered cloud-config user-data as cloud-init would: its write_files, decoded.
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';

interface WriteFile {
  path: string;
  content: string;
  encoding?: string;
}

/** The bytes cloud-init writes for `file` from a #cloud-config document (b64, gz+b64 or text). */
export function writtenFile(cloudConfig: string, file: string): string | undefined {
  const doc = parse(cloudConfig) as { write_files?: WriteFile[] };
  const entry = doc.write_files?.find((f) => f.path === file);
  if (!entry) return undefined;
  if (entry.encoding === 'gz+b64')
    return gunzipSync(Buffer.from(entry.content, 'base64')).toString();
  if (entry.encoding === 'b64') return Buffer.from(entry.content, 'base64').toString();
  return entry.content;
}
