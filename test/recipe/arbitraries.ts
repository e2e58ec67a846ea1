// Shared by the recipe property tests: generators of YAML-ish recipe text, of --set arguments and
// of credentials no message may show. Seeds come from test/helpers/property.ts (GITSTRAP_TEST_SEED).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { projectRoot } from '../helpers/tools.js';

/** A shipped recipe, the base the generators mutate. */
export const OPEN_QA = readFileSync(path.join(projectRoot, 'recipes/open-qa.yaml'), 'utf8');

/** Characters that mean something to YAML or to a shell, and some that mean something to neither. */
const SPECIAL = [
  ':',
  '-',
  ' ',
  '  ',
  '\n',
  '\t',
  '\r',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&',
  '*',
  '!',
  '|',
  '>',
  '<',
  '"',
  "'",
  '#',
  '%',
  '@',
  '`',
  '?',
  '\\',
  '$',
  '(',
  ')',
  ';',
  '~',
  '=',
  '.',
  '/',
  '---',
  '...',
  '&a',
  '*a',
  '<<',
  '\u0000',
  '\u0085',
  '\u2028',
  '\ufeff',
  'é',
  '🚀',
  '\ud800',
];

/** Credentials of several shapes (built from parts): no message may ever show one. */
export const TOKENS = [
  'ghp_' + 'Zq7w'.repeat(9),
  'glpat-' + 'Xk2_'.repeat(6),
  'AKIA' + 'Q7ZKW3VN5MPL2RTY',
  'xoxb-' + '4815162342-'.repeat(3),
];

/** One unit of YAML-ish text: a special character, a word, or a recipe line. */
const unit = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'npm:',
      'npm:x',
      'image',
      '127.0.0.1',
      '::1',
      'https://example.org/x.git',
      'https://u:',
      '@github.com/x.git',
      '?access_token=',
      ...TOKENS,
    ),
  },
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'name',
      'service',
      'repo',
      'data',
      'serve',
      'host',
      'x',
      '1',
      'true',
      'null',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...OPEN_QA.split('\n').map((l) => `${l}\n`)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
);

/** Text that looks like YAML often enough to get past the parser, and breaks it often enough too. */
export const yamlishText = fc.oneof(
  fc.array(unit, { maxLength: 80 }).map((parts) => parts.join('')),
  // A real recipe with pieces spliced in: deep into validation, with positions to locate.
  fc
    .tuple(fc.nat(OPEN_QA.length), fc.array(unit, { maxLength: 12 }), fc.nat(40))
    .map(([at, parts, cut]) => OPEN_QA.slice(0, at) + parts.join('') + OPEN_QA.slice(at + cut)),
);

/** Key paths --set may name: strings, numbers, booleans, unions, lists, mappings, and unknown ones. */
export const SET_KEYS = [
  'name',
  'description',
  'service.repo',
  'service.ref',
  'service.runtime',
  'service.start',
  'service.env.GREETING',
  'service.install',
  'data.repo',
  'data.mount',
  'data.schedule',
  'data.transform',
  'serve.port',
  'serve.host',
  'serve.listing',
  'agent.source',
  'agent.node',
  'ttl',
  'launch.subnet',
  'installer.allow',
  'nosuch.key',
];

/** A --set argument: a known or unknown key and an arbitrary value (YAML-ish, or any text). */
export const setArgument = fc
  .tuple(
    fc.constantFrom(...SET_KEYS),
    fc.oneof(
      fc.array(unit, { maxLength: 20 }).map((parts) => parts.join('')),
      fc.string({ unit: 'binary', maxLength: 30 }),
      // Close to valid: a value the key accepts, with something spliced on.
      fc
        .tuple(
          fc.constantFrom('npm:x', 'image', '::1', 'https://example.org/x.git', '[php, -S]', '2h'),
          fc.array(unit, { maxLength: 4 }),
        )
        .map(([start, parts]) => start + parts.join('')),
    ),
  )
  .map(([key, value]) => `${key}=${value}`);
