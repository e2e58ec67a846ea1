import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { recipeJsonSchema, recipeReference } from '../../src/recipe/reference.js';
import { loadRecipeFile } from '../../src/recipe/load.js';
import { projectRoot } from '../helpers/tools.js';

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');
const recipeFiles = readdirSync(path.join(projectRoot, 'recipes')).filter((f) =>
  f.endsWith('.yaml'),
);

test('recipes/schema.json is generated from the schema (run `npm run gen` when this fails)', () => {
  assert.equal(read('recipes/schema.json'), JSON.stringify(recipeJsonSchema(), null, 2) + '\n');
});

test('docs/recipes.md is generated from the schema (run `npm run gen` when this fails)', () => {
  assert.equal(read('docs/recipes.md'), recipeReference());
});

test('the reference documents every top-level key', () => {
  for (const key of ['name', 'service', 'data', 'serve', 'ttl', 'agent', 'launch', 'installer']) {
    assert.match(recipeReference(), new RegExp(`\\| \`${key}\` \\|`));
  }
});

test('every shipped recipe is valid and points editors at the schema', () => {
  assert.ok(recipeFiles.length >= 4, 'open-qa and at least one recipe per other runtime');
  const runtimes = new Set<string>();
  for (const file of recipeFiles) {
    const text = read(`recipes/${file}`);
    assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=./schema.json', file);
    const recipe = loadRecipeFile(path.join(projectRoot, 'recipes', file), [], file);
    assert.equal(`${recipe.name}.yaml`, file, 'a recipe file is named after its recipe');
    runtimes.add(recipe.service.runtime);
  }
  assert.deepEqual([...runtimes].sort(), ['node', 'process', 'site', 'static']);
});

test('open-qa is faithful to the seed', () => {
  const recipe = loadRecipeFile(path.join(projectRoot, 'recipes/open-qa.yaml'));
  assert.equal(recipe.service.repo, 'https://github.com/eucalyptus/open-qa.git');
  assert.equal(recipe.data?.repo, 'https://github.com/eucalyptus/open-qa-frontend-data.git');
  assert.equal(recipe.data?.mount, 'webcache');
  assert.equal(recipe.data?.transform[0]?.extract, 'cache_storage_for_open_qa.tar.gz');
  assert.match(recipe.data?.schedule ?? '', /^\d+ 0 \* \* \*$/, 'nightly, just after midnight');
});
