// The recipe schema: the single source of truth for recipe types, validation, recipes/schema.json
// and docs/recipes.md. Cross-field checks live in rules.ts; this file says what each key is.
// The sections live in schema/ (building blocks, repository access, service, data and publish, the
// instance); this file composes the recipe from them and is the one entry the rest imports.
import * as z from 'zod';
import { duration, recipeName } from './schema/blocks.js';
import { data, publish } from './schema/data.js';
import { agent, installer, launch, serve } from './schema/instance.js';
import type { repoAuth } from './schema/repo-access.js';
import { service } from './schema/service.js';

export * from './schema/blocks.js';
export * from './schema/repo-access.js';
export * from './schema/service.js';
export * from './schema/data.js';
export * from './schema/instance.js';

export const recipeSchema = z
  .strictObject({
    name: recipeName,
    description: z
      .string()
      .optional()
      .describe('One line on what the service is, shown on the status page.'),
    service,
    data: data.optional(),
    publish,
    serve,
    ttl: duration
      .optional()
      .describe('Lifetime of an ephemeral deployment; it ends itself when this runs out.'),
    agent,
    launch,
    installer,
  })
  .describe(
    'A gitstrap recipe: where a service and its data live and how to install, serve and sync them.',
  );

/** A recipe after validation, with defaults filled in. */
export type Recipe = z.output<typeof recipeSchema>;
/** A recipe as written. */
export type RecipeInput = z.input<typeof recipeSchema>;
export type InstallStep = Recipe['service']['install'][number];
export type DataConfig = NonNullable<Recipe['data']>;
export type DataTransform = DataConfig['transform'][number];
export type DataCheck = DataConfig['check'][number];
export type RepoAuth = z.output<typeof repoAuth>;
