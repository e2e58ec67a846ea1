// Looking into the recipe schema by key path: what type a key has (to type --set values) and which
// keys an object allows (for did-you-mean on unknown keys).
import type { z } from 'zod';

type AnyType = z.core.$ZodType;
type Def = {
  type: string;
  innerType?: AnyType;
  in?: AnyType;
  element?: AnyType;
  shape?: Record<string, AnyType>;
  options?: AnyType[];
  valueType?: AnyType;
};

function defOf(type: AnyType): Def {
  return (type as unknown as { _zod: { def: Def } })._zod.def;
}

/** Removes optional/default/prefault/nullable/pipe wrappers. */
export function unwrap(type: AnyType): AnyType {
  let current = type;
  for (;;) {
    const def = defOf(current);
    if (
      def.innerType &&
      ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(def.type)
    ) {
      current = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      current = def.in;
    } else {
      return current;
    }
  }
}

/** The schema node at a key path, or undefined when the path leaves the schema. */
export function typeAt(root: AnyType, path: readonly PropertyKey[]): AnyType | undefined {
  let current: AnyType | undefined = root;
  for (const segment of path) {
    if (!current) return undefined;
    const def = defOf(unwrap(current));
    if (def.type === 'object' && def.shape) {
      current = typeof segment === 'string' ? def.shape[segment] : undefined;
    } else if (def.type === 'array' && def.element) {
      current =
        typeof segment === 'number' || /^\d+$/.test(String(segment)) ? def.element : undefined;
    } else if (def.type === 'record' && def.valueType) {
      current = def.valueType;
    } else if (def.type === 'union' && def.options) {
      // The first alternative that has this key.
      current = def.options.map((o) => typeAt(o, [segment])).find((t) => t !== undefined);
    } else {
      return undefined;
    }
  }
  return current;
}

/** The keys an object at this path allows (empty when it is not an object). */
export function keysAt(root: AnyType, path: readonly PropertyKey[]): string[] {
  const type = typeAt(root, path);
  if (!type) return [];
  const def = defOf(unwrap(type));
  if (def.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def.type === 'union' && def.options) {
    return def.options.flatMap((o) => {
      const d = defOf(unwrap(o));
      return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
    });
  }
  return [];
}

/** The kind of scalar a path holds, to type a --set value: string, number, boolean, or other. */
export function scalarKindAt(
  root: AnyType,
  path: readonly PropertyKey[],
): 'string' | 'number' | 'boolean' | 'other' | undefined {
  const type = typeAt(root, path);
  if (!type) return undefined;
  const def = defOf(unwrap(type));
  switch (def.type) {
    case 'string':
    case 'enum':
    case 'literal':
      return 'string';
    case 'number':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'other';
  }
}
