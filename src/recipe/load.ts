// Reading a recipe: find the file, parse the YAML keeping positions, apply --set overrides typed by
// the schema, validate, and report every problem with file, key path, line and column. Finding the
// file (find-recipe.ts), the problems (problems.ts) and the words for a schema issue
// (describe-issue.ts) live beside it; this file is the one entry the rest imports.
import path from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { redactSecrets } from '../lib/redact.js';
import { suggest } from '../lib/suggest.js';
import { describeIssue } from './describe-issue.js';
import { resolveRecipeFile, type ResolveOptions } from './find-recipe.js';
import { describeOversize, formatCount, MAX_REPORTED_PROBLEMS, OVERSIZE_HINT } from './limits.js';
import { createLocator } from './locate.js';
import { formatKeyPath, RecipeError, type ParseResult, type RecipeProblem } from './problems.js';
import { readRecipeText } from './read.js';
import { checkRules } from './rules.js';
import { recipeSchema, type Recipe } from './schema.js';
import { parseSetArgument, typeSetValue } from './set-values.js';
import { keysAt, typeAt } from './shape.js';
import { checkNesting, checkStructure } from './yaml-guard.js';

export { defaultSearchDirs, resolveRecipeFile, type ResolveOptions } from './find-recipe.js';
export {
  formatKeyPath,
  formatProblemLines,
  RecipeError,
  type ParseResult,
  type RecipeProblem,
} from './problems.js';
export { parseSetArgument } from './set-values.js';

/**
 * Parses and validates recipe text. Pure: no file system. Linear in the size of the text, which
 * may be at most MAX_RECIPE_BYTES.
 */
export function parseRecipe(text: string, file: string, sets: readonly string[] = []): ParseResult {
  const result = validateRecipeText(text, file, sets);
  return { ...result, problems: capProblems(result.problems, file) };
}

/** The first MAX_REPORTED_PROBLEMS problems, and a line saying how many more there are. */
function capProblems(problems: RecipeProblem[], file: string): RecipeProblem[] {
  if (problems.length <= MAX_REPORTED_PROBLEMS) return problems;
  const more = problems.length - MAX_REPORTED_PROBLEMS;
  return [
    ...problems.slice(0, MAX_REPORTED_PROBLEMS),
    {
      file,
      path: [],
      message: `and ${formatCount(more)} more problem${more === 1 ? '' : 's'}`,
      more,
      hint: 'fix these first; a recipe with this many problems is likely not a recipe',
    },
  ];
}

function validateRecipeText(text: string, file: string, sets: readonly string[]): ParseResult {
  const early = checkText(text, file);
  if (early.length) return { problems: early };
  const lineCounter = new LineCounter();
  // yaml's own unique-key check is quadratic; checkStructure does it in one pass.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false });
  const problems: RecipeProblem[] = [];
  const at = createLocator(doc, lineCounter);
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };

  for (const error of doc.errors) {
    const pos = error.linePos?.[0];
    problems.push({
      file,
      path: [],
      message: `YAML syntax: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      ...(pos ? { line: pos.line, col: pos.col } : {}),
    });
  }
  if (problems.length) return { problems };
  for (const finding of checkStructure(doc, (offset) => position(offset).line)) {
    problems.push({
      file,
      path: [],
      message: finding.message,
      ...(finding.hint ? { hint: finding.hint } : {}),
      ...position(finding.offset),
    });
  }
  if (problems.length) return { problems };
  if (doc.contents !== null && !isMap(doc.contents)) {
    return {
      problems: [
        {
          file,
          path: [],
          message: 'expected a mapping of recipe keys (name:, service:, ...)',
          ...at([]),
        },
      ],
    };
  }

  const setPaths: Array<{ keyPath: PropertyKey[]; arg: string }> = [];
  for (const arg of sets) {
    const shown = showArgument(arg);
    const parsed = parseSetArgument(arg);
    if (!parsed) {
      problems.push({
        file,
        path: [],
        set: shown,
        message: 'expected KEY.PATH=VALUE, e.g. data.ref=v2',
      });
      continue;
    }
    const { keyPath, raw } = parsed;
    if (!typeAt(recipeSchema, keyPath)) {
      const parent = keyPath.slice(0, -1);
      const close = suggest(String(keyPath.at(-1)), keysAt(recipeSchema, parent));
      problems.push({
        file,
        path: keyPath,
        set: shown,
        message: 'unknown key',
        ...(close ? { hint: `did you mean ${formatKeyPath([...parent, close])}?` } : {}),
      });
      continue;
    }
    const typed = typeSetValue(keyPath, raw);
    if ('problem' in typed) {
      problems.push({
        file,
        path: keyPath,
        set: shown,
        message: typed.problem,
        ...(typed.hint ? { hint: typed.hint } : {}),
      });
      continue;
    }
    try {
      doc.setIn(keyPath, doc.createNode(typed.value));
      setPaths.push({ keyPath, arg: shown });
    } catch (error) {
      problems.push({
        file,
        path: keyPath,
        set: shown,
        message: `cannot set this key: ${(error as Error).message}`,
      });
    }
  }
  if (problems.length) return { problems };

  const fromSet = (keyPath: PropertyKey[]) =>
    setPaths.filter((s) => s.keyPath.every((seg, i) => String(keyPath[i]) === String(seg))).pop()
      ?.arg;
  const place = (keyPath: PropertyKey[], key = false) => {
    const set = fromSet(keyPath);
    return set !== undefined ? { set } : at(keyPath, key);
  };

  // checkStructure has bounded the aliases, so yaml's own alias limit is not needed (it refuses
  // some recipes with a handful of aliases).
  const input: unknown = doc.toJS({ maxAliasCount: -1 }) ?? {};
  const result = recipeSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...describeIssue(issue, file, place));
    return { problems };
  }
  for (const rule of checkRules(result.data)) {
    problems.push({
      file,
      path: rule.path,
      message: rule.message,
      ...(rule.hint ? { hint: rule.hint } : {}),
      ...place(rule.path),
    });
  }
  return problems.length ? { problems } : { recipe: result.data, problems };
}

/** A --set argument as shown to people: on one line, without any credential it carries. */
function showArgument(arg: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  return redactSecrets(arg).replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\t'
        ? '\\t'
        : c === '\r'
          ? '\\r'
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** What is wrong with the text before it is parsed: its size, its nesting. */
function checkText(text: string, file: string): RecipeProblem[] {
  const tooBig = describeOversize(Buffer.byteLength(text), `recipe ${file}`);
  if (tooBig) return [{ file, path: [], message: tooBig, hint: OVERSIZE_HINT }];
  const deep = checkNesting(text);
  if (!deep) return [];
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
    lineCounter.addNewLine(i + 1);
  const { line, col } = lineCounter.linePos(deep.offset);
  return [
    { file, path: [], message: deep.message, ...(deep.hint ? { hint: deep.hint } : {}), line, col },
  ];
}

/** Reads, parses and validates a recipe file; throws RecipeError listing every problem. */
export function loadRecipeFile(
  file: string,
  sets: readonly string[] = [],
  displayName = file,
): Recipe {
  const text = readRecipeText(file, displayName);
  const { recipe, problems } = parseRecipe(text, displayName, sets);
  if (!recipe) throw new RecipeError(displayName, problems);
  return recipe;
}

/** `--recipe NAME|PATH [--set ...]` to a validated recipe, with the file it came from (absolute, and as shown to people). */
export function loadRecipe(
  nameOrPath: string,
  sets: readonly string[] = [],
  options: ResolveOptions = {},
): { recipe: Recipe; file: string; display: string } {
  const file = resolveRecipeFile(nameOrPath, options);
  const relative = path.relative(options.cwd ?? process.cwd(), file);
  const display = relative.startsWith('..') ? file : relative;
  return { recipe: loadRecipeFile(file, sets, display), file, display };
}
