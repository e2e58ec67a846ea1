// Reading a recipe: find the file, parse the YAML keeping positions, apply --set overrides typed by
// the schema, validate, and report every problem with file, key path, line and column.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { GitstrapError } from '../lib/errors.js';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';
import { redactSecrets } from '../lib/redact.js';
import { suggest } from '../lib/suggest.js';
import { describeOversize, formatCount, MAX_REPORTED_PROBLEMS, OVERSIZE_HINT } from './limits.js';
import { createLocator } from './locate.js';
import { readRecipeText } from './read.js';
import { checkRules } from './rules.js';
import { recipeSchema, type Recipe } from './schema.js';
import { parseSetArgument, typeSetValue } from './set-values.js';
import { keysAt, typeAt } from './shape.js';
import { checkNesting, checkStructure } from './yaml-guard.js';

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

// ---------------------------------------------------------------------------------------------
// Finding the file

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

// ---------------------------------------------------------------------------------------------
// Parsing and validating

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

// ---------------------------------------------------------------------------------------------
// Positions and messages

type Place = (
  keyPath: PropertyKey[],
  key?: boolean,
) => { line?: number; col?: number; set?: string };

/** A value as a message quotes it: short, and without any credential in it. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // Redacted before it is cut short: a credential cut in two is no longer recognisable.
    const text = redactSecrets(value);
    return JSON.stringify(text.length > 60 ? text.slice(0, 57) + '...' : text);
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeIssue(issue: z.core.$ZodIssue, file: string, place: Place): RecipeProblem[] {
  const keyPath = issue.path as PropertyKey[];
  const input = (issue as { input?: unknown }).input;
  const base = (message: string, hint?: string, key = false): RecipeProblem => ({
    file,
    path: keyPath,
    message,
    ...(hint ? { hint } : {}),
    ...place(keyPath, key),
  });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(recipeSchema, keyPath);
      const shown = issue.keys.slice(0, MAX_REPORTED_PROBLEMS).map((k) => {
        const close = suggest(k, allowed);
        const full = [...keyPath, k];
        return {
          file,
          path: full,
          message: close ? `unknown key; did you mean "${close}"?` : 'unknown key',
          hint: `allowed here: ${allowed.join(', ')}`,
          ...place(full, true),
        };
      });
      // The keys not described still count, for the "and N more" line.
      const more = issue.keys.length - shown.length;
      return more > 0 ? [...shown, ...Array<RecipeProblem>(more).fill(shown.at(-1)!)] : shown;
    }
    case 'invalid_type': {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (input === undefined) return [base(`is required (expected ${expected})`)];
      const quote =
        issue.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')
          ? 'quote it: YAML reads an unquoted value like this as a number or a boolean'
          : undefined;
      return [base(`expected ${expected}, got ${show(input)}`, quote)];
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const close = typeof input === 'string' ? suggest(input, options) : undefined;
      return [
        base(
          `expected one of ${options.join(' | ')}, got ${show(input)}`,
          close ? `did you mean "${close}"?` : undefined,
        ),
      ];
    }
    case 'too_small':
    case 'too_big': {
      const what =
        issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const limit = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      return [base(`expected ${bound} ${limit}${what ? ' ' + what : ''}, got ${show(input)}`)];
    }
    case 'invalid_union': {
      // When the input has the shape of exactly one form (e.g. a mapping where the other form is a
      // string), say what is wrong inside that form.
      const forms = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
      const sameShape = forms.filter(
        (errors) => !errors.some((e) => e.code === 'invalid_type' && e.path.length === 0),
      );
      if (sameShape.length === 1 && sameShape[0]!.length > 0) {
        return sameShape[0]!.flatMap((e) =>
          describeIssue({ ...e, path: [...keyPath, ...e.path] } as z.core.$ZodIssue, file, place),
        );
      }
      return [
        base(
          `${issue.message === 'Invalid input' ? 'does not match any allowed form' : issue.message}, got ${show(input)}`,
        ),
      ];
    }
    default:
      return [base(`${issue.message}, got ${show(input)}`)];
  }
}
