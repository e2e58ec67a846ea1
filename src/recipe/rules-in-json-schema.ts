// Which cross-field rules (rules.ts) the editor JSON Schema (recipes/schema.json) carries too, said
// once per rule: either the JSON Schema that expresses it (draft-7: if/then, oneOf, not, const,
// required), added where it applies by the generator (reference.ts), or why only `bootstrap
// validate` can check it. A rule added to rules.ts does not compile until it has an entry here.
import type { RuleName } from './rules.js';

/** The part of JSON Schema this file writes. */
export interface SchemaPart {
  $comment?: string;
  type?: string;
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  minItems?: number;
  required?: string[];
  properties?: Record<string, SchemaPart | boolean>;
  oneOf?: SchemaPart[];
  allOf?: SchemaPart[];
  anyOf?: SchemaPart[];
  not?: SchemaPart;
  if?: SchemaPart;
  then?: SchemaPart;
}

/** Where a rule's schema goes: a dotted key path from the top, `[]` for a list's items. */
export type SchemaSite =
  | ''
  | 'service'
  | 'service.install[]'
  | 'service.auth'
  | 'data'
  | 'data.transform[]'
  | 'data.check[]'
  | 'data.notify'
  | 'data.auth'
  | 'agent';

export type RuleInJsonSchema =
  | {
      /** What the rule asks, for the reference. */
      summary: string;
      /** The schema added (with allOf) at each site. */
      schema: Partial<Record<SchemaSite, SchemaPart>>;
    }
  | { summary: string; validateOnly: string };

/** Exactly one of `keys` is present. */
const exactlyOneOf = (keys: readonly string[]): SchemaPart => ({
  oneOf: keys.map((k) => ({ required: [k] })),
});

const has = (...keys: string[]): SchemaPart => ({ required: keys });

const runtimeIs = (runtime: string): SchemaPart => ({
  properties: { runtime: { const: runtime } },
  required: ['runtime'],
});

const authIsOneKind: SchemaPart = {
  ...exactlyOneOf(['ssh_key_file', 'token_file', 'ssm_parameter']),
  if: has('ssh_key_file'),
  then: { required: ['known_hosts'], properties: { known_hosts: { minItems: 1 } } },
};

const submoduleUrlsNeedSubmodules: SchemaPart = {
  if: has('submodule_urls'),
  then: { required: ['submodules'], properties: { submodules: { not: { const: false } } } },
};

/** Every rule, in rules.ts order. */
export const RULES_IN_JSON_SCHEMA: Record<RuleName, RuleInJsonSchema> = {
  installStepsHaveOneAction: {
    summary: 'an install step has exactly one of packages, run, shell, patch',
    schema: { 'service.install[]': exactlyOneOf(['packages', 'run', 'shell', 'patch']) },
  },
  installStepNamesAreUnique: {
    summary: 'install step names are unique',
    validateOnly: 'JSON Schema cannot compare one key across the items of a list',
  },
  packageStepsTakeNoCommandOptions: {
    summary: 'env and cwd apply only to run and shell steps',
    schema: {
      'service.install[]': {
        if: { anyOf: [has('packages'), has('patch')] },
        then: { not: { anyOf: [has('env'), has('cwd')] } },
      },
    },
  },
  patchesAreUnifiedDiffs: {
    summary: 'a patch step holds a unified diff (git diff output) that parses',
    validateOnly: 'it takes parsing the diff',
  },
  runtimeNeedsItsEntry: {
    summary:
      'runtime process needs start; node needs exactly one of start and module; static and site take neither',
    schema: {
      service: {
        allOf: [
          { if: runtimeIs('process'), then: has('start') },
          { if: runtimeIs('node'), then: exactlyOneOf(['start', 'module']) },
          {
            if: { properties: { runtime: { enum: ['static', 'site'] } }, required: ['runtime'] },
            then: { not: { anyOf: [has('start'), has('module')] } },
          },
        ],
      },
    },
  },
  transformsHaveOneAction: {
    summary:
      'a transform has exactly one of extract, copy, move, run; into, strip and keep_archive only with extract',
    schema: {
      'data.transform[]': {
        ...exactlyOneOf(['extract', 'copy', 'move', 'run']),
        if: { not: has('extract') },
        then: {
          properties: { into: { const: '.' }, strip: { const: 0 }, keep_archive: { const: false } },
        },
      },
    },
  },
  checksHaveOneAction: {
    summary: 'a check has exactly one of exists, json, run',
    schema: { 'data.check[]': exactlyOneOf(['exists', 'json', 'run']) },
  },
  notifyHasOneAction: {
    summary: 'notify has exactly one of signal, run, http; signal needs service.start',
    schema: {
      'data.notify': exactlyOneOf(['signal', 'run', 'http']),
      '': {
        if: {
          properties: { data: { properties: { notify: has('signal') }, required: ['notify'] } },
          required: ['data'],
        },
        then: { properties: { service: has('start') } },
      },
    },
  },
  scheduleIsCron: {
    summary: 'data.schedule is a cron expression node-cron accepts',
    validateOnly:
      "the grammar, with ranges, steps, names and an optional seconds field, is node-cron's",
  },
  authIsOneKind: {
    summary:
      'auth has exactly one of ssh_key_file, token_file, ssm_parameter; an SSH key needs known_hosts',
    schema: { 'service.auth': authIsOneKind, 'data.auth': authIsOneKind },
  },
  noCredentialsInValues: {
    summary: 'no value carries a credential (a token, a key, a password in a URL)',
    validateOnly: 'every string value is searched for the credential shapes of src/lib/redact.ts',
  },
  registryNeedsNpmSource: {
    summary: 'agent.registry only with an npm agent.source',
    schema: {
      agent: {
        if: has('registry', 'source'),
        then: { properties: { source: { type: 'string', pattern: '^npm:' } } },
      },
    },
  },
  submoduleUrlsNeedSubmodules: {
    summary: 'submodule_urls only when submodules are fetched',
    schema: { service: submoduleUrlsNeedSubmodules, data: submoduleUrlsNeedSubmodules },
  },
  dataSubmodulesInsideSparse: {
    summary: 'with data.sparse, each path in data.submodules lies inside it',
    validateOnly: "JSON Schema cannot compare the paths of one list with another's",
  },
  staticSourceTakesWholeCommits: {
    summary:
      'data.source.static takes no submodules, lfs, sparse or filter, and no commit SHA as data.ref',
    schema: {
      data: {
        if: { properties: { source: has('static') }, required: ['source'] },
        then: {
          properties: {
            submodules: { const: false },
            lfs: { const: false },
            sparse: false,
            filter: false,
            ref: { not: { pattern: '^([0-9a-f]{40}|[0-9a-f]{64})$' } },
          },
        },
      },
    },
  },
};
