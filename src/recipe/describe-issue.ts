// A schema issue (zod) as recipe problems: what was expected, what came (quoted short, without
// credentials), a suggestion for a near miss, and where it is.
import type { z } from 'zod';
import { redactSecrets } from '../lib/redact.js';
import { suggest } from '../lib/suggest.js';
import { MAX_REPORTED_PROBLEMS } from './limits.js';
import type { RecipeProblem } from './problems.js';
import { recipeSchema } from './schema.js';
import { keysAt } from './shape.js';

/** Where a key path is: its line and column in the file, or the --set argument it came from. */
export type Place = (
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

/** The problems one schema issue stands for, in words a person can act on. */
export function describeIssue(
  issue: z.core.$ZodIssue,
  file: string,
  place: Place,
): RecipeProblem[] {
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
