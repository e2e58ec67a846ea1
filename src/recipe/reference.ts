// Generates, from the one recipe schema, the editor JSON Schema (recipes/schema.json) and the recipe
// reference (docs/recipes.md). scripts/gen.ts writes them; a test fails when the files are stale.
import * as z from 'zod';
import { DURATION_PATTERN } from '../lib/duration.js';
import type { RuleName } from './rules.js';
import { RULES_IN_JSON_SCHEMA, type SchemaPart, type SchemaSite } from './rules-in-json-schema.js';
import { recipeSchema } from './schema.js';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
  $schema?: string;
  $id?: string;
  title?: string;
  allOf?: SchemaPart[];
};

/** The JSON Schema editors use to complete and check recipes. */
export function recipeJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(recipeSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  }) as JsonSchema;
  addRules(schema);
  return {
    $schema: schema.$schema,
    $id: 'https://gitstrap.dev/recipe.schema.json',
    title: 'gitstrap recipe',
    ...schema,
  };
}

/** The object schema at `site` ("data.transform[]": the items of data.transform). */
function nodeAt(root: JsonSchema, site: SchemaSite): JsonSchema {
  let node = root;
  for (const step of site === '' ? [] : site.split('.')) {
    const key = step.replace(/\[\]$/, '');
    const object = node.properties ? node : node.anyOf?.find((a) => a.properties);
    let next = object?.properties?.[key];
    if (next !== undefined && step.endsWith('[]')) next = next.items;
    if (next === undefined) throw new Error(`the recipe schema has no ${site}`);
    node = next.properties ? next : (next.anyOf?.find((a) => a.properties) ?? next);
  }
  return node;
}

/** Adds the cross-field rules JSON Schema can express (rules-in-json-schema.ts), each with allOf. */
function addRules(root: JsonSchema): void {
  for (const [name, rule] of Object.entries(RULES_IN_JSON_SCHEMA)) {
    if (!('schema' in rule)) continue;
    for (const [site, part] of Object.entries(rule.schema) as Array<[SchemaSite, SchemaPart]>) {
      const node = nodeAt(root, site);
      node.allOf = [
        ...(node.allOf ?? []),
        { $comment: `rule ${name} (src/recipe/rules.ts)`, ...part },
      ];
    }
  }
}

/** The reference's last section: which cross-field rules editors check, and which only validate. */
function rulesSection(): string[] {
  const entries = Object.entries(RULES_IN_JSON_SCHEMA) as Array<
    [RuleName, (typeof RULES_IN_JSON_SCHEMA)[RuleName]]
  >;
  const out = [
    '## Rules across keys',
    '',
    'Besides the types above, `bootstrap validate` checks rules that span keys (`src/recipe/rules.ts`).',
    'Editors check these too (they are in `schema.json`):',
    '',
  ];
  for (const [, rule] of entries) if ('schema' in rule) out.push(`- ${rule.summary}`);
  out.push('', 'Only `bootstrap validate` checks these (JSON Schema cannot say them):', '');
  for (const [, rule] of entries) {
    if ('validateOnly' in rule) out.push(`- ${rule.summary}: ${rule.validateOnly}`);
  }
  out.push('');
  return out;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (s.pattern === DURATION_PATTERN.source) return 'duration';
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && !s.properties && s.additionalProperties) return 'mapping';
  if (s.type === 'integer') {
    const range =
      s.minimum !== undefined || s.maximum !== undefined
        ? ` (${s.minimum ?? ''}..${s.maximum ?? ''})`
        : '';
    return `integer${range}`;
  }
  if (s.format === 'uri') return 'URL';
  return Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Sections for every object in the schema, depth first: key, type, default, description. */
function sections(s: JsonSchema, path: string, out: string[]): void {
  const objectSchema = s.properties ? s : s.anyOf?.find((a) => a.properties);
  if (!objectSchema?.properties) return;
  out.push(`## \`${path || 'top level'}\``, '');
  if (s.description) out.push(s.description, '');
  out.push('| key | type | default | description |', '|---|---|---|---|');
  const nested: Array<[string, JsonSchema]> = [];
  for (const [key, value] of Object.entries(objectSchema.properties)) {
    const required = objectSchema.required?.includes(key) && value.default === undefined;
    const def =
      value.default === undefined
        ? required
          ? '**required**'
          : ''
        : `\`${JSON.stringify(value.default)}\``;
    out.push(`| \`${key}\` | ${cell(typeOf(value))} | ${def} | ${cell(value.description)} |`);
    const child = value.type === 'array' && value.items ? value.items : value;
    if (child.properties || child.anyOf?.some((a) => a.properties))
      nested.push([key + (value.type === 'array' ? '[]' : ''), child]);
  }
  out.push('');
  for (const [key, child] of nested) sections(child, path ? `${path}.${key}` : key, out);
}

/** The recipe reference in Markdown. */
export function recipeReference(): string {
  const out = [
    '# Recipe reference',
    '',
    '<!-- Generated by `npm run gen` from src/recipe/schema.ts. Do not edit by hand. -->',
    '',
    'A recipe is a YAML file in `recipes/`. Start it with',
    '`# yaml-language-server: $schema=./schema.json` so editors complete and check it.',
    'Any key can be overridden on the command line with `--set key.path=value` (typed by the schema;',
    'lists and mappings in YAML flow style: `--set \'service.start=[php, -S, "127.0.0.1:{port}"]\'`).',
    'Run `bootstrap validate --recipe NAME` to check one.',
    '',
  ];
  sections(recipeJsonSchema(), '', out);
  out.push(...rulesSection());
  return out.join('\n').trimEnd() + '\n';
}
