// Directory listings (only with serve.listing: true): a plain HTML page of a folder's entries,
// dot-named entries left out.
import { readdir } from 'node:fs/promises';
import { escapeHtml } from './responses.js';

/** One entry of a listing. */
export interface ListingEntry {
  name: string;
  dir: boolean;
}

/** The entries of `dir` that may be shown: no dot names, folders first, then by name. */
export async function listFolder(dir: string): Promise<ListingEntry[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory() || e.isSymbolicLink()))
    .map((e) => ({ name: e.name, dir: e.isDirectory() }))
    .sort((a, b) => (a.dir === b.dir ? a.name.localeCompare(b.name) : a.dir ? -1 : 1));
}

/** The listing page for the folder at URL path `urlPath` (ending with "/"). */
export function renderListing(urlPath: string, entries: readonly ListingEntry[]): string {
  const title = escapeHtml(`Index of ${urlPath}`);
  const rows = entries
    .map((e) => {
      const href = encodeURIComponent(e.name) + (e.dir ? '/' : '');
      return `<li><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${e.dir ? '/' : ''}</a></li>`;
    })
    .join('\n');
  const up = urlPath === '/' ? '' : '<li><a href="../">../</a></li>\n';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:15px/1.6 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em}ul{list-style:none;padding:0}a{text-decoration:none}</style>
</head><body><h1>${title}</h1><ul>
${up}${rows}
</ul></body></html>
`;
}
