// Where a key path is in the recipe text. Each mapping's keys are indexed the first time a path
// goes through it, so locating every problem of a recipe costs one pass over it, not one per problem.
import {
  isMap,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
} from 'yaml';

/** The line and column of a key path's value (or of its key), as deep as the path exists. */
export type Locate = (
  keyPath: readonly PropertyKey[],
  wantKey?: boolean,
) => { line?: number; col?: number };

/** A locator over a parsed document. */
export function createLocator(doc: Document, lineCounter: LineCounter): Locate {
  const index = new WeakMap<object, Map<string, Pair>>();
  const pairsOf = (map: { items: Pair[] }): Map<string, Pair> => {
    let pairs = index.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (!pairs.has(key)) pairs.set(key, pair);
      }
      index.set(map, pairs);
    }
    return pairs;
  };

  return (keyPath, wantKey = false) => {
    let node: unknown = doc.contents;
    let found: Node | undefined = (doc.contents as Node | null) ?? undefined;
    for (let i = 0; i < keyPath.length; i++) {
      const segment = keyPath[i];
      const last = i === keyPath.length - 1;
      if (isMap(node)) {
        const pair = pairsOf(node as { items: Pair[] }).get(String(segment));
        if (!pair) break;
        if (last && wantKey) {
          found = pair.key as Node;
          break;
        }
        node = pair.value;
        if (node) found = node as Node;
        else {
          found = pair.key as Node;
          break;
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (!node) break;
        found = node as Node;
      } else {
        break;
      }
    }
    const offset = found?.range?.[0];
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
}
