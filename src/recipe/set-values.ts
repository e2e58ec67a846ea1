// --set KEY.PATH=VALUE: split the argument, and type the value by what the schema expects there.
// A value is taken exactly as written: a string key gets the text itself; a list or mapping key gets
// YAML flow, refused (never silently changed) where YAML would fold a line break into a space or
// drop a comment.
import { isCollection, isPair, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { recipeSchema } from './schema.js';
import { scalarKindAt } from './shape.js';
import { describeOversize, OVERSIZE_HINT } from './limits.js';
import { checkNesting, checkStructure } from './yaml-guard.js';

/** Splits "a.b.0.c=value" into a key path and the raw value. */
export function parseSetArgument(
  arg: string,
): { keyPath: Array<string | number>; raw: string } | undefined {
  const eq = arg.indexOf('=');
  if (eq <= 0) return undefined;
  const key = arg.slice(0, eq);
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(key)) return undefined;
  const keyPath = key.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return { keyPath, raw: arg.slice(eq + 1) };
}

/** A typed --set value, or why it cannot be taken. */
export type SetValue = { value: unknown } | { problem: string; hint?: string };

/** Types a --set value by what the schema expects at its key. */
export function typeSetValue(keyPath: readonly PropertyKey[], raw: string): SetValue {
  switch (scalarKindAt(recipeSchema, keyPath)) {
    case 'number':
      return { value: /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw };
    case 'boolean':
      return { value: raw === 'true' ? true : raw === 'false' ? false : raw };
    case 'string':
      return { value: raw };
    default:
      return typeYamlValue(raw);
  }
}

/** Lists and mappings as YAML flow: --set 'service.start=[php, -S, "127.0.0.1:{port}"]'. */
function typeYamlValue(raw: string): SetValue {
  const tooBig = describeOversize(Buffer.byteLength(raw), 'the value');
  if (tooBig) return { problem: tooBig, hint: OVERSIZE_HINT };
  const deep = checkNesting(raw);
  if (deep) return { problem: deep.message, ...(deep.hint ? { hint: deep.hint } : {}) };
  const lineCounter = new LineCounter();
  const doc = parseDocument(raw, { uniqueKeys: false, lineCounter });
  // Not YAML: the text itself (the schema then says what it expected).
  if (doc.errors.length) return { value: raw };
  const contents = doc.contents as Node | null;
  const [structure] = checkStructure(doc, (offset) => lineCounter.linePos(offset).line);
  if (structure) {
    return { problem: structure.message, ...(structure.hint ? { hint: structure.hint } : {}) };
  }
  // A single value is the text itself, never YAML's reading of it (trimmed, folded, comment dropped).
  if (!isCollection(contents)) {
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    return { value: typeof value === 'string' || value === null ? raw : value };
  }
  const lost = findLoss(doc.commentBefore, doc.comment, contents, raw);
  if (lost) return lost;
  return { value: doc.toJS({ maxAliasCount: -1 }) };
}

/** A comment YAML would drop, or a line break it would fold, in a collection value. */
function findLoss(
  before: string | null | undefined,
  after: string | null | undefined,
  root: Node,
  raw: string,
): SetValue | undefined {
  const comment = {
    problem: 'YAML would drop the comment (# ...) in this value',
    hint: 'quote a value that holds " #": "a #b"',
  };
  if (before || after) return comment;
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (isPair(node)) {
      stack.push(node.key, node.value);
      continue;
    }
    const n = node as Node;
    if (n.comment || n.commentBefore) return comment;
    if (isScalar(n)) {
      const [start, end] = n.range ?? [0, 0];
      if (/[\r\n]/.test(raw.slice(start, end))) {
        return {
          problem: 'YAML would fold the line break inside a value into a space',
          hint: 'write a line break as \\n inside double quotes ("a\\nb"), or keep the value on one line',
        };
      }
    } else if (isCollection(n)) {
      for (const item of n.items as unknown[]) stack.push(item);
    }
  }
  return undefined;
}
