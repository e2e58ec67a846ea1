// Shared by the user-data tests: the recipes in recipes/, stable render options for golden files,
// and values built to break out of any quoting (with canary files that must never appear).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadRecipe } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import { renderUserData, type UserDataOptions } from '../../src/userdata/index.js';
import { goldenDir } from '../helpers/golden.js';
import { projectRoot } from '../helpers/tools.js';

export const RECIPES_DIR = path.join(projectRoot, 'recipes');
export const GOLDEN_DIR = goldenDir('userdata');
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** Fixed options, so golden files do not change with the clock or the release. */
export const GOLDEN_OPTIONS = {
  version: '1.2.3-golden',
  expiresAt: new Date('2030-01-02T03:04:05Z'),
} as const;

/** The name of every recipe in recipes/. */
export function recipeNames(): string[] {
  return readdirSync(RECIPES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();
}

/** A recipe from recipes/ (with --set overrides), as the CLI would load it. */
export function recipeOf(name: string, sets: string[] = []): Recipe {
  return loadRecipe(name, sets, { cwd: projectRoot, searchDirs: [RECIPES_DIR] }).recipe;
}

/** Renders a recipe from recipes/. */
export function render(name: string, sets: string[] = [], options: Partial<UserDataOptions> = {}) {
  return renderUserData(recipeOf(name, sets), { version: '0.1.0', ...options });
}

/** Canary files under /tmp that a value tries to create; none may exist after a run. */
export interface Canaries {
  paths: string[];
  /** Each trick, and a naive way of splicing it into a shell line under which it does run. */
  tricks: Array<{ text: string; naive: (text: string) => string }>;
  /** Every trick, newlines, a tab and unicode in one value. */
  value: string;
  /** The same without newlines or tabs (for keys whose pattern refuses them). */
  oneLine: string;
}

/** Fresh canaries and the hostile values that aim at them. */
export function makeCanaries(): Canaries {
  const id = randomBytes(6).toString('hex');
  const paths = Array.from({ length: 9 }, (_, i) => `/tmp/gitstrap-pwned-${id}-${i}`);
  const p = (i: number) => paths[i]!;
  const bare = (v: string) => `echo ${v}`;
  const tricks = [
    { text: `$(touch ${p(0)})`, naive: bare },
    { text: `\`touch ${p(1)}\``, naive: (v: string) => `echo "${v}"` },
    { text: `'; touch ${p(2)}; '`, naive: (v: string) => `echo '${v}'` },
    { text: `"; touch ${p(3)}; "`, naive: (v: string) => `echo "${v}"` },
    { text: `| touch ${p(4)}`, naive: bare },
    { text: `& touch ${p(5)}`, naive: bare },
    { text: `> ${p(6)} < /etc/hostname`, naive: bare },
    { text: `\${IFS}$(touch\${IFS}${p(7)})`, naive: bare },
    { text: `\ntouch ${p(8)}\n`, naive: bare },
  ];
  const value = `x ${tricks.map((t) => t.text).join(' ')} \t ünïcödé ✓ 🚀 \\ end\n`;
  return { paths, tricks, value, oneLine: value.replace(/[\n\t]/g, ' ').trim() };
}
