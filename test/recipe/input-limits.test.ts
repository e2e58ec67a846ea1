// Hostile recipe text gets a clear problem with its position, never a crash or a long wait: the
// size limit, nesting, duplicate keys (checked in one pass), aliases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatProblemLines, loadRecipeFile, parseRecipe } from '../../src/recipe/load.js';
import { MAX_RECIPE_BYTES } from '../../src/recipe/limits.js';
import { tempDir } from '../helpers/tmp.js';

const minimal = `name: demo-app
service:
  repo: https://example.org/app.git
  runtime: static
`;

function messages(text: string, sets: string[] = []): string[] {
  return parseRecipe(text, 'r.yaml', sets).problems.flatMap(formatProblemLines);
}

describe('recipe text the loader refuses before or while parsing', () => {
  test('over the size limit: refused before parsing', () => {
    const text = minimal + '#'.repeat(MAX_RECIPE_BYTES);
    assert.deepEqual(messages(text), [
      `r.yaml: recipe r.yaml is too big: ${text.length.toLocaleString('en-US')} bytes; a recipe may have at most 262,144 bytes (256 KiB)`,
      '  hint: a recipe names where the service and its data live; keep large content in the data repo',
    ]);
    // Counted in bytes, not characters.
    assert.match(messages(minimal + 'é'.repeat(MAX_RECIPE_BYTES / 2))[0]!, /is too big/);
  });

  test('flow collections nested too deeply: the line and column where it goes too deep', () => {
    const text = `${minimal}description: ok\nlaunch:\n  subnet: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    assert.deepEqual(messages(text), [
      'r.yaml:7:75: YAML nested more than 64 levels deep',
      '  hint: a recipe is a few levels deep; check for unclosed [ or { (or a run of "- - -")',
    ]);
  });

  test('block sequences opened on one line, too deep', () => {
    assert.match(
      messages(`${minimal}x: ${'- '.repeat(1000)}y\n`)[0]!,
      /^r\.yaml:5:\d+: YAML nested more than 64 levels deep$/,
    );
  });

  test('brackets in strings and scalars are text, not nesting', () => {
    const text = `${minimal}description: "${'['.repeat(200)}"\nttl: 1h\n`;
    assert.deepEqual(messages(text), []);
    assert.deepEqual(messages(`${minimal}description: |\n  ${'{'.repeat(200)}\n`), []);
  });

  test('duplicate keys deep in a large mapping, found in one pass', () => {
    const env = Array.from({ length: 15_000 }, (_, i) => `    K${i}: v\n`).join('');
    const text = `${minimal}  env:\n${env}    K17: again\n`;
    assert.deepEqual(messages(text), [
      `r.yaml:${5 + 15_000 + 1}:5: YAML syntax: Map keys must be unique; "K17" is also on line ${5 + 18}`,
      '  hint: keep one of them',
    ]);
  });

  test('a YAML alias bomb: its line, and what to do instead', () => {
    const levels = ['  l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 9; i++) {
      levels.push(`  l${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    }
    assert.deepEqual(messages(`${minimal}bomb:\n${levels.join('\n')}\n`), [
      'r.yaml:9:47: YAML aliases: the aliases up to *a2 repeat more than 10,000 values (a YAML "billion laughs")',
      '  hint: write the values out instead of repeating them with &anchors and *aliases',
    ]);
  });

  test('an alias inside the value it stands for', () => {
    assert.deepEqual(messages(`${minimal}launch: &l\n  subnet: *l\n`), [
      'r.yaml:6:11: YAML aliases: *l is inside the value it stands for',
      '  hint: an alias cannot repeat a collection that contains it',
    ]);
  });

  test('an alias without its anchor (yaml leaves it to the reader, which throws)', () => {
    assert.deepEqual(messages(`${minimal}description: *nothing\n`), [
      'r.yaml:5:14: YAML aliases: *nothing has no anchor &nothing before it',
      '  hint: set the anchor on the value first (key: &name value), or quote a value that starts with "*"',
    ]);
    assert.match(messages('*a\n')[0]!, /^r\.yaml:1:1: YAML aliases: \*a has no anchor/);
    assert.deepEqual(messages(minimal, ['service.start=*a']), [
      '--set service.start=*a: service.start: YAML aliases: *a has no anchor &a before it',
      '  hint: set the anchor on the value first (key: &name value), or quote a value that starts with "*"',
    ]);
  });

  test('a few aliases are fine', () => {
    const text = `${minimal}data:\n  repo: https://example.org/d.git\n  mount: d\n  sparse: &paths [a, b]\nlaunch:\n  subnet: &net net-1\n  key_name: *net\ninstaller:\n  allow: *paths\n`;
    const { recipe, problems } = parseRecipe(text, 'r.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(recipe?.installer?.allow, ['a', 'b']);
    assert.equal(recipe?.launch.key_name, 'net-1');
  });
});

describe('a recipe with very many problems', () => {
  test('reports the first 100 and counts the rest', (t) => {
    const text = minimal + Array.from({ length: 5000 }, (_, i) => `k${i}: v\n`).join('');
    const lines = messages(text);
    assert.equal(lines.length, 100 * 2 + 2);
    assert.equal(lines[0], 'r.yaml:5:1: k0: unknown key');
    assert.deepEqual(lines.slice(-2), [
      'r.yaml: and 4,900 more problems',
      '  hint: fix these first; a recipe with this many problems is likely not a recipe',
    ]);
    assert.throws(
      () => {
        const file = path.join(tempDir(t), 'r.yaml');
        writeFileSync(file, text);
        loadRecipeFile(file, [], 'r.yaml');
      },
      (e: Error) => e.message === 'r.yaml is not a valid recipe (5,000 problems):',
    );
  });
});
