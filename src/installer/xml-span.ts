// Where a parsed element lies in the text it was parsed from, so a file can be changed by a splice
// that leaves every other byte as it was. The parser (xmldom) gives each element's line and column;
// a small scan from there, over text the parser has already accepted as well-formed, finds the end
// of its start tag and its end tag (skipping quoted attribute values, comments, CDATA and PIs).
import type { Element } from '@xmldom/xmldom';
import { GitstrapError } from '../lib/errors.js';

/** Offsets of one element in its text: [start, openEnd) is the start tag, [closeStart, end) the end tag. */
export interface ElementSpan {
  /** The "<" of the start tag. */
  start: number;
  /** Just after the start tag ("...>" or, for an empty-element tag, "/>"). */
  openEnd: number;
  /** The "<" of the end tag; equals `end` for an empty-element tag. */
  closeStart: number;
  /** Just after the element. */
  end: number;
  /** Written as an empty-element tag (`<x/>`). */
  empty: boolean;
}

/** The offsets at which each line of `text` starts (line breaks as xmldom counts them). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (const match of text.matchAll(/\r\n?|\n/g)) starts.push(match.index + match[0].length);
  return starts;
}

/**
 * The span of `el` in `text`, the raw file text `el` was parsed from. The parser may have seen
 * the text with line ends normalised ("\r\n" → "\n"): lines and columns are the same either way.
 */
export function elementSpan(text: string, el: Element, starts: readonly number[]): ElementSpan {
  const line = el.lineNumber;
  const column = el.columnNumber;
  const lineStart = line === undefined ? undefined : starts[line - 1];
  if (lineStart === undefined || column === undefined) throw misplaced(el.tagName);
  const start = lineStart + column - 1;
  const name = `<${el.tagName}`;
  if (!text.startsWith(name, start) || !/[\s/>]/.test(text.charAt(start + name.length))) {
    throw misplaced(el.tagName);
  }
  const open = scanTag(text, start + name.length, el.tagName);
  if (open.empty)
    return { start, openEnd: open.end, closeStart: open.end, end: open.end, empty: true };
  let depth = 0;
  let i = open.end;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt === -1) throw misplaced(el.tagName);
    if (text.startsWith('<!--', lt)) i = after(text, '-->', lt + 4, el.tagName);
    else if (text.startsWith('<![CDATA[', lt)) i = after(text, ']]>', lt + 9, el.tagName);
    else if (text.startsWith('<?', lt)) i = after(text, '?>', lt + 2, el.tagName);
    else if (text.startsWith('</', lt)) {
      const end = after(text, '>', lt + 2, el.tagName);
      if (depth === 0) {
        return { start, openEnd: open.end, closeStart: lt, end, empty: false };
      }
      depth--;
      i = end;
    } else {
      const child = scanTag(text, lt + 1, el.tagName);
      if (!child.empty) depth++;
      i = child.end;
    }
  }
}

/** Escapes text for XML character data: `&`, `<`, `>` (so `]]>` cannot appear) and CR. */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;',
  );
}

/** From inside a tag (after its name), the end of the tag, skipping quoted attribute values. */
function scanTag(text: string, from: number, tagName: string): { end: number; empty: boolean } {
  for (let i = from; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      if (close === -1) break;
      i = close;
    } else if (c === '>') {
      return { end: i + 1, empty: text.charAt(i - 1) === '/' };
    }
  }
  throw misplaced(tagName);
}

function after(text: string, token: string, from: number, tagName: string): number {
  const at = text.indexOf(token, from);
  if (at === -1) throw misplaced(tagName);
  return at + token.length;
}

function misplaced(tagName: string): GitstrapError {
  return new GitstrapError(`cannot find <${tagName}> in the file's text where the parser saw it`, {
    hint: 'this is a bug in gitstrap: please report it with the file',
  });
}
