// Reading a recipe: find the file, parse the YAML keeping positions, apply --set overrides typed by
// the schema, validate, and report every problem with file, key path, line and column.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { GitstrapError } from '../lib/errors.js';
import { suggest } from '../lib/suggest.js';
import { checkRules } from './rules.js';
import { recipeSchema, type Recipe } from './schema.js';
import { keysAt, scalarKindAt, typeAt } from './shape.js';

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
}

export interface ParseResult {
  recipe?: Recipe;
  problems: RecipeProblem[];
}

/** A recipe that failed to load; details hold one formatted line per problem. */
export class RecipeError extends GitstrapError {
  readonly problems: RecipeProblem[];
  constructor(file: string, problems: RecipeProblem[]) {
    const n = problems.length;
    super(`${file} is not a valid recipe (${n} problem${n === 1 ? '' : 's'}):`, {
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
  return [path.join(cwd, 'recipes'), '/etc/gitstrap/recipes', ...(builtinDir ? [builtinDir] : [])];
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

/** Types a --set value by what the schema expects at its key. */
function typeSetValue(keyPath: readonly PropertyKey[], raw: string): unknown {
  switch (scalarKindAt(recipeSchema, keyPath)) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'string':
      return raw;
    default: {
      // Arrays and objects are written as YAML flow: --set 'service.start=[php, -S, "127.0.0.1:{port}"]'
      const doc = parseDocument(raw);
      return doc.errors.length ? raw : doc.toJS();
    }
  }
}

/** Parses and validates recipe text. Pure: no file system. */
export function parseRecipe(text: string, file: string, sets: readonly string[] = []): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const problems: RecipeProblem[] = [];
  const at = (keyPath: PropertyKey[], key = false) => locate(doc, keyPath, lineCounter, key);

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
    const parsed = parseSetArgument(arg);
    if (!parsed) {
      problems.push({
        file,
        path: [],
        set: arg,
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
        set: arg,
        message: 'unknown key',
        ...(close ? { hint: `did you mean ${formatKeyPath([...parent, close])}?` } : {}),
      });
      continue;
    }
    try {
      doc.setIn(keyPath, doc.createNode(typeSetValue(keyPath, raw)));
      setPaths.push({ keyPath, arg });
    } catch (error) {
      problems.push({
        file,
        path: keyPath,
        set: arg,
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

  const input = doc.toJS() ?? {};
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

/** Reads, parses and validates a recipe file; throws RecipeError listing every problem. */
export function loadRecipeFile(
  file: string,
  sets: readonly string[] = [],
  displayName = file,
): Recipe {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GitstrapError(
      `cannot read recipe ${displayName}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
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

function locate(
  doc: Document,
  keyPath: PropertyKey[],
  lineCounter: LineCounter,
  wantKey: boolean,
): { line?: number; col?: number } {
  let node: unknown = doc.contents;
  let found: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < keyPath.length; i++) {
    const segment = keyPath[i];
    const last = i === keyPath.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      );
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
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
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
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const close = suggest(k, keysAt(recipeSchema, keyPath));
        const full = [...keyPath, k];
        return {
          file,
          path: full,
          message: close ? `unknown key; did you mean "${close}"?` : 'unknown key',
          hint: `allowed here: ${keysAt(recipeSchema, keyPath).join(', ')}`,
          ...place(full, true),
        };
      });
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
