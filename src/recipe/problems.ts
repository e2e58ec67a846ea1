// What a recipe that fails to load reports: its problems (file, key path, line and column, the
// --set argument it came from), how each is printed, and the error that carries them.
import { GitstrapError } from '../lib/errors.js';
import { formatCount } from './limits.js';
import type { Recipe } from './schema.js';

/** One problem in a recipe, located as precisely as the input allows. */
export interface RecipeProblem {
  file: string;
  path: PropertyKey[];
  message: string;
  hint?: string;
  line?: number;
  col?: number;
  /** The --set argument the offending value came from, when it came from one. */
  set?: string;
  /** On the last line of a long list: how many further problems it stands for (not shown). */
  more?: number;
}

export interface ParseResult {
  recipe?: Recipe;
  problems: RecipeProblem[];
}

/** A recipe that failed to load; details hold one formatted line per problem. */
export class RecipeError extends GitstrapError {
  readonly problems: RecipeProblem[];
  constructor(file: string, problems: RecipeProblem[]) {
    const n = problems.reduce((sum, p) => sum + (p.more ?? 1), 0);
    super(`${file} is not a valid recipe (${formatCount(n)} problem${n === 1 ? '' : 's'}):`, {
      details: problems.flatMap(formatProblemLines),
    });
    this.name = 'RecipeError';
    this.problems = problems;
  }
}

/** "service.install.0.run" */
export function formatKeyPath(keyPath: readonly PropertyKey[]): string {
  return keyPath.map(String).join('.') || '(top level)';
}

/** The lines printed for one problem: location, key path, message; then the hint. */
export function formatProblemLines(p: RecipeProblem): string[] {
  const where =
    p.set !== undefined
      ? `--set ${p.set}`
      : p.line !== undefined
        ? `${p.file}:${p.line}:${p.col}`
        : p.file;
  const key = p.path.length ? `${formatKeyPath(p.path)}: ` : '';
  const lines = [`${where}: ${key}${p.message}`];
  if (p.hint) lines.push(`  hint: ${p.hint}`);
  return lines;
}
