// Content types for served files, by extension (mime-types, the table Express uses), and whether a
// type is worth compressing.
import { contentType } from 'mime-types';

const FALLBACK = 'application/octet-stream';

/** The Content-Type for a file name, from its extension (octet-stream when unknown). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot === -1 || dot < name.lastIndexOf('/')) return FALLBACK;
  return contentType(name.slice(dot + 1).toLowerCase()) || FALLBACK;
}

/** True for text-like types that gzip and brotli shrink (images, fonts and archives are not). */
export function isCompressible(contentType: string): boolean {
  return (
    contentType.startsWith('text/') ||
    contentType.startsWith('application/json') ||
    contentType.startsWith('application/xml') ||
    contentType.startsWith('application/yaml') ||
    contentType.startsWith('image/svg+xml') ||
    contentType.startsWith('application/wasm')
  );
}
