// Properties of the recipe loader over generated input (fast-check): arbitrary YAML-ish text and
// arbitrary --set values end in a recipe or in problems written for a person (never in a crash, never
// showing a credential), and a --set value a string key accepts arrives exactly as written.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatError, GitstrapError } from '../../src/lib/errors.js';
import { loadRecipeFile, parseRecipe, parseSetArgument } from '../../src/recipe/load.js';
import { recipeSchema } from '../../src/recipe/schema.js';
import { scalarKindAt } from '../../src/recipe/shape.js';
import { tempDir } from '../helpers/tmp.js';
import { checkProperty } from '../helpers/property.js';
import { OPEN_QA, setArgument, TOKENS, yamlishText } from './arbitraries.js';

/** Generous: a small input that takes this long has gone quadratic (or worse). */
const BOUND_MS = 2000;

/** Loads text (and --set arguments) from a file as the CLI does; returns what a person would read. */
function loadAsCli(file: string, text: string, sets: string[]): string {
  writeFileSync(file, text);
  const start = performance.now();
  try {
    loadRecipeFile(file, sets, 'r.yaml');
    return '';
  } catch (error) {
    assert.ok(error instanceof GitstrapError, `not a GitstrapError: ${String(error)}`);
    const message = formatError(error);
    assert.match(message, /^error: \S/);
    for (const token of TOKENS)
      assert.ok(!message.includes(token), `shows a credential: ${message}`);
    assert.doesNotMatch(message, /unexpected failure|\n\s+at .*:\d+:\d+/);
    return message;
  } finally {
    const ms = performance.now() - start;
    assert.ok(ms < BOUND_MS, `took ${ms.toFixed(0)} ms`);
  }
}

describe('the recipe loader over generated input', () => {
  test('YAML-ish text: a recipe, or problems each with a message', async (t) => {
    const file = path.join(tempDir(t), 'r.yaml');
    await checkProperty(
      t,
      fc.property(yamlishText, (text) => {
        const { recipe, problems } = parseRecipe(text, 'r.yaml');
        assert.equal(recipe === undefined, problems.length > 0);
        for (const p of problems) assert.ok(p.message.length > 0 && p.file === 'r.yaml');
        const message = loadAsCli(file, text, []);
        assert.equal(message === '', recipe !== undefined);
      }),
      300,
    );
  });

  test('--set values: never a crash; a string key gets its value exactly as written', async (t) => {
    const file = path.join(tempDir(t), 'r.yaml');
    await checkProperty(
      t,
      fc.property(fc.array(setArgument, { minLength: 1, maxLength: 3 }), (sets) => {
        const { recipe, problems } = parseRecipe(OPEN_QA, 'r.yaml', sets);
        for (const p of problems) assert.ok(p.message.length > 0);
        loadAsCli(file, OPEN_QA, sets);
        if (!recipe) return;
        // The last --set of a key wins; its value arrives as written, never folded or trimmed.
        const last = parseSetArgument(sets.at(-1)!)!;
        let value: unknown = recipe;
        for (const segment of last.keyPath) value = (value as Record<string, unknown>)[segment];
        const kind = scalarKindAt(recipeSchema, last.keyPath);
        if (kind === 'string' || typeof value === 'string') assert.equal(value, last.raw);
      }),
      300,
    );
  });
});
