// Finding a recipe: `--recipe NAME|PATH` to a file, searched in ./recipes, /etc/gitstrap/recipes and
// gitstrap's own; when none is found, what exists instead.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';
import { suggest } from '../lib/suggest.js';

export interface ResolveOptions {
  cwd?: string;
  /** Folders searched for NAME.yaml, in order. */
  searchDirs?: string[];
}

/** The folders `--recipe NAME` looks in: ./recipes, /etc/gitstrap/recipes, then gitstrap's own. */
export function defaultSearchDirs(cwd: string, builtinDir?: string): string[] {
  return [
    path.join(cwd, 'recipes'),
    INSTANCE_PATHS.recipesDir,
    ...(builtinDir ? [builtinDir] : []),
  ];
}

/** Turns `--recipe NAME|PATH` into a file path, or explains what exists instead. */
export function resolveRecipeFile(nameOrPath: string, options: ResolveOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const looksLikePath = nameOrPath.includes('/') || /\.ya?ml$/.test(nameOrPath);
  if (looksLikePath) {
    const file = path.resolve(cwd, nameOrPath);
    if (!existsSync(file)) throw new GitstrapError(`recipe file ${nameOrPath} does not exist`);
    return file;
  }
  const dirs = options.searchDirs ?? defaultSearchDirs(cwd);
  for (const dir of dirs) {
    for (const ext of ['.yaml', '.yml']) {
      const file = path.join(dir, nameOrPath + ext);
      if (existsSync(file)) return file;
    }
  }
  const known = dirs.flatMap((dir) => listRecipeNames(dir));
  const close = suggest(nameOrPath, known);
  throw new GitstrapError(`no recipe named "${nameOrPath}" in ${dirs.join(', ')}`, {
    hint: close
      ? `did you mean "${close}"?`
      : known.length
        ? `known recipes: ${[...new Set(known)].join(', ')}; or pass a file path`
        : 'pass the path of a recipe file, e.g. --recipe ./my-recipe.yaml',
  });
}

function listRecipeNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => f.replace(/\.ya?ml$/, ''));
  } catch {
    return [];
  }
}
