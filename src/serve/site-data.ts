// The site runtime's template context: the data version's JSON and YAML files as one object tree,
// read lazily (a file is parsed the first time a template touches it) and memoised per version.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isInside } from '../lib/resolve-inside.js';

/** Data files larger than this are refused (a template context is not a place for them). */
export const MAX_DATA_FILE_BYTES = 16 * 1024 * 1024;

const DATA_EXTENSIONS = /\.(json|ya?ml)$/i;

/** A data file that cannot become part of the context; the message names it. */
export class SiteDataError extends Error {
  override name = 'SiteDataError';
}

/** The property descriptors of a data version's root: data files as keys, folders as objects. */
export function dataDescriptors(dataRoot: string): PropertyDescriptorMap {
  return folderDescriptors(dataRoot, dataRoot);
}

/** A fresh context object over shared lazy descriptors, with `extras` as own keys on top. */
export function makeContext(
  descriptors: PropertyDescriptorMap,
  extras: Record<string, unknown>,
): Record<string, unknown> {
  const context = Object.defineProperties({}, descriptors) as Record<string, unknown>;
  for (const [key, value] of Object.entries(extras)) {
    Object.defineProperty(context, key, { value, enumerable: true, configurable: true });
  }
  return context;
}

/** The context key of a data file or folder name ("results.json" → "results"). */
export function keyOf(name: string): string {
  return name.replace(DATA_EXTENSIONS, '');
}

function folderDescriptors(dir: string, root: string): PropertyDescriptorMap {
  const descriptors: PropertyDescriptorMap = {};
  const names = readdirSync(dir)
    .filter((n) => n.charCodeAt(0) !== 46)
    .sort();
  // Files first, so that when "runs.json" and "runs/" both exist the file's key wins.
  const folders: string[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    if (DATA_EXTENSIONS.test(name)) {
      descriptors[keyOf(name)] = lazy(() => readDataFile(full, root));
    } else {
      folders.push(name);
    }
  }
  for (const name of folders) {
    if (name in descriptors) continue;
    const full = path.join(dir, name);
    const real = safeReal(full, root);
    if (real === undefined || !statSync(real).isDirectory()) continue;
    descriptors[name] = lazy(() => Object.defineProperties({}, folderDescriptors(real, root)));
  }
  return descriptors;
}

function readDataFile(file: string, root: string): unknown {
  const rel = path.relative(root, file);
  const real = safeReal(file, root);
  if (real === undefined)
    throw new SiteDataError(`data file ${rel}: a symlink that points outside the data version`);
  const size = statSync(real).size;
  if (size > MAX_DATA_FILE_BYTES)
    throw new SiteDataError(
      `data file ${rel}: ${size} bytes, more than the ${MAX_DATA_FILE_BYTES} a template context takes`,
    );
  const text = readFileSync(real, 'utf8');
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SiteDataError(
      `data file ${rel}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
}

function safeReal(file: string, root: string): string | undefined {
  try {
    const real = realpathSync.native(file);
    return isInside(root, real, true) ? real : undefined;
  } catch {
    return undefined;
  }
}

function lazy(load: () => unknown): PropertyDescriptor {
  let loaded = false;
  let value: unknown;
  return {
    enumerable: true,
    configurable: true,
    get() {
      if (!loaded) {
        value = load();
        loaded = true;
      }
      return value;
    },
  };
}
