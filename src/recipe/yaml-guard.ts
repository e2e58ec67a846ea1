// Checks on YAML that the yaml library makes slowly or not at all, each in linear time: nesting
// depth (before parsing: deep nesting makes the parser slow and then overflow its stack), duplicate
// keys (yaml's own check compares every key with every earlier one) and aliases (a "billion laughs"
// must be a clear error with its line, and every alias costs yaml a pass over the document).
import {
  CST,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  Lexer,
  type Document,
  type Node,
} from 'yaml';
import { formatCount, MAX_ALIASES, MAX_ALIAS_VALUES, MAX_NESTING } from './limits.js';

/** A problem found in YAML text, at a character offset. */
export interface YamlFinding {
  offset: number;
  message: string;
  hint?: string;
}

const CONTROL_TOKENS = new Set([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

/** Finds nesting deeper than MAX_NESTING, before the text is parsed. */
export function checkNesting(text: string): YamlFinding | undefined {
  if (!mayNestDeeply(text)) return undefined;
  let flow = 0;
  let onLine = 0;
  let offset = 0;
  let skipNext = false;
  for (const token of new Lexer().lex(text)) {
    const at = offset;
    // The lexer's control tokens (document start, flow end, scalar marker) are not in the source.
    if (!CONTROL_TOKENS.has(token)) offset += token.length;
    if (skipNext) {
      // The source of a scalar: its brackets and dashes are text.
      skipNext = false;
      continue;
    }
    const type = CST.tokenType(token);
    if (type === 'scalar') skipNext = true;
    else if (type === 'flow-seq-start' || type === 'flow-map-start') flow += 1;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') flow = Math.max(0, flow - 1);
    else if (type === 'newline') onLine = 0;
    else if (
      flow === 0 &&
      (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')
    ) {
      onLine += 1;
    }
    if (flow > MAX_NESTING || onLine > MAX_NESTING) {
      return {
        offset: at,
        message: `YAML nested more than ${MAX_NESTING} levels deep`,
        hint: 'a recipe is a few levels deep; check for unclosed [ or { (or a run of "- - -")',
      };
    }
  }
  return undefined;
}

/**
 * Whether the text may nest too deeply (cheap, and never wrong when it says no): more brackets in
 * all than the limit, or more indicator characters on one line.
 */
function mayNestDeeply(text: string): boolean {
  let brackets = 0;
  let onLine = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b)
      brackets += 1; // [ {
    else if (c === 0x0a) onLine = 0;
    else if (c === 0x2d || c === 0x3f || c === 0x3a) onLine += 1; // - ? :
    if (brackets > MAX_NESTING || onLine > MAX_NESTING) return true;
  }
  return false;
}

/** The line of a character offset. */
export type LineOf = (offset: number) => number;

/** Duplicate keys and aliases that repeat too much, in one walk over the document. */
export function checkStructure(doc: Document, lineOf: LineOf): YamlFinding[] {
  const findings: YamlFinding[] = [];
  const anchors = new Map<string, Node>();
  // Values each finished node stands for (itself and everything under it, aliases expanded).
  const sizes = new Map<Node, number>();
  let aliases = 0;
  let repeated = 0;

  type Frame = { node: Node; children: Node[]; next: number; size: number };
  const stack: Frame[] = [];
  const enter = (node: Node): void => {
    if (node.anchor) anchors.set(node.anchor, node);
    stack.push({ node, children: childrenOf(node, findings, lineOf), next: 0, size: 1 });
  };
  const root = doc.contents as Node | null;
  if (!root) return findings;
  if (isAlias(root)) {
    // A document that is only an alias has no anchor before it.
    return [
      {
        offset: root.range?.[0] ?? 0,
        message: `YAML aliases: *${nameOf(root.source)} has no anchor &${nameOf(root.source)} before it`,
        hint: 'set the anchor on the value first (key: &name value), or quote a value that starts with "*"',
      },
    ];
  }
  enter(root);
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    const child = frame.children[frame.next++];
    if (child === undefined) {
      stack.pop();
      sizes.set(frame.node, frame.size);
      if (stack.length) stack[stack.length - 1]!.size += frame.size;
      continue;
    }
    if (!isAlias(child)) {
      enter(child);
      continue;
    }
    aliases += 1;
    const target = anchors.get(child.source);
    const offset = child.range?.[0] ?? 0;
    if (target === undefined) {
      findings.push({
        offset,
        message: `YAML aliases: *${nameOf(child.source)} has no anchor &${nameOf(child.source)} before it`,
        hint: 'set the anchor on the value first (key: &name value), or quote a value that starts with "*"',
      });
      return findings;
    }
    const size = sizes.get(target);
    if (size === undefined) {
      findings.push({
        offset,
        message: `YAML aliases: *${nameOf(child.source)} is inside the value it stands for`,
        hint: 'an alias cannot repeat a collection that contains it',
      });
      return findings;
    }
    repeated += size;
    frame.size += size;
    if (aliases > MAX_ALIASES || repeated > MAX_ALIAS_VALUES) {
      findings.push({
        offset,
        message:
          aliases > MAX_ALIASES
            ? `YAML aliases: more than ${MAX_ALIASES} aliases`
            : `YAML aliases: the aliases up to *${nameOf(child.source)} repeat more than ${formatCount(MAX_ALIAS_VALUES)} values (a YAML "billion laughs")`,
        hint: 'write the values out instead of repeating them with &anchors and *aliases',
      });
      return findings;
    }
  }
  return findings;
}

/** The nodes under a node, in document order; records duplicate keys of a mapping. */
function childrenOf(node: Node, findings: YamlFinding[], lineOf: LineOf): Node[] {
  if (!isCollection(node)) return [];
  const children: Node[] = [];
  const seen = isMap(node) ? new Map<unknown, Node>() : undefined;
  for (const item of node.items as unknown[]) {
    if (isPair(item)) {
      const key = item.key as Node | null;
      const value = item.value as Node | null;
      if (seen && isScalar(key)) {
        const first = seen.get(key.value);
        if (first) findings.push(duplicateKey(key, first, lineOf));
        else seen.set(key.value, key);
      }
      if (key && typeof key === 'object') children.push(key);
      if (value) children.push(value);
    } else if (item && typeof item === 'object') {
      children.push(item as Node);
    }
  }
  return children;
}

function duplicateKey(key: Node & { value: unknown }, first: Node, lineOf: LineOf): YamlFinding {
  const name = JSON.stringify(String(key.value));
  return {
    offset: key.range?.[0] ?? 0,
    message: `YAML syntax: Map keys must be unique; ${name.length > 62 ? 'this key' : name} is also on line ${lineOf(first.range?.[0] ?? 0)}`,
    hint: 'keep one of them',
  };
}

/** An anchor name as a message shows it: control characters escaped, at most 40 characters. */
function nameOf(anchor: string): string {
  const escaped = JSON.stringify(anchor).slice(1, -1);
  return escaped.length > 40 ? `${escaped.slice(0, 37)}...` : escaped;
}
