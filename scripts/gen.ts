// Writes the files generated from the recipe schema: recipes/schema.json and docs/recipes.md.
import { writeFileSync } from 'node:fs';
import { recipeJsonSchema, recipeReference } from '../src/recipe/reference.js';

writeFileSync('recipes/schema.json', JSON.stringify(recipeJsonSchema(), null, 2) + '\n');
writeFileSync('docs/recipes.md', recipeReference());
console.log('wrote recipes/schema.json and docs/recipes.md');
