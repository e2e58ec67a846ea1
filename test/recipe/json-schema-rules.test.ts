// recipes/schema.json, checked with a real JSON Schema validator (ajv, draft-7, as editors read it):
// every shipped recipe passes it, and for each cross-field rule it carries (rules-in-json-schema.ts)
// a recipe that breaks the rule is refused by both the schema and `bootstrap validate`, and one that
// keeps it is accepted by both. The rules left to validate are shown to pass the schema.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Ajv, type ErrorObject } from 'ajv';
import { parse, stringify } from 'yaml';
import { parseRecipe } from '../../src/recipe/load.js';
import { RULES_IN_JSON_SCHEMA } from '../../src/recipe/rules-in-json-schema.js';
import { rules, type RuleName } from '../../src/recipe/rules.js';
import { projectRoot } from '../helpers/tools.js';

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');
const schema = JSON.parse(read('recipes/schema.json')) as object;
const checkSchema = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(
  schema,
);

type Recipe = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Both verdicts on one recipe: the JSON Schema's and validate's (with its messages). */
function verdicts(recipe: Recipe): { schema: boolean; errors: string; validate: string[] } {
  const ok = checkSchema(recipe);
  const errors = (checkSchema.errors ?? [])
    .map((e: ErrorObject) => `${e.instancePath} ${e.message ?? ''}`)
    .join('; ');
  const { problems } = parseRecipe(stringify(recipe), 'case.yaml');
  return { schema: ok, errors, validate: problems.map((p) => p.message) };
}

/** A small valid recipe of each runtime to break, one rule at a time. */
const base = (): Recipe => ({
  name: 'case',
  service: {
    repo: 'https://example.org/service.git',
    runtime: 'process',
    start: ['php', '-S', '127.0.0.1:{port}'],
    install: [{ name: 'php', packages: { apt: ['php-cli'] } }],
  },
  data: {
    repo: 'https://example.org/data.git',
    mount: 'data',
    transform: [{ extract: 'data.tar.gz', strip: 1 }],
    check: [{ exists: 'index.json' }],
    notify: { signal: 'SIGHUP' },
  },
  serve: { port: 8080 },
});

interface Case {
  rule: RuleName;
  name: string;
  change: (r: Recipe) => void;
  /** What validate says for it; undefined when the change keeps the rule. */
  message?: RegExp;
}

const CASES: Case[] = [
  {
    rule: 'installStepsHaveOneAction',
    name: 'a step with packages and run',
    change: (r) => (r.service.install[0].run = ['true']),
    message: /has packages and run; expected exactly one of/,
  },
  {
    rule: 'installStepsHaveOneAction',
    name: 'a step with no action',
    change: (r) => (r.service.install = [{ name: 'nothing' }]),
    message: /needs one of packages, run, shell, patch/,
  },
  {
    rule: 'installStepsHaveOneAction',
    name: 'a step with run only',
    change: (r) => (r.service.install = [{ name: 'x', run: ['true'] }]),
  },
  {
    rule: 'packageStepsTakeNoCommandOptions',
    name: 'a packages step with cwd',
    change: (r) => (r.service.install[0].cwd = 'sub'),
    message: /env and cwd apply only to run and shell steps/,
  },
  {
    rule: 'packageStepsTakeNoCommandOptions',
    name: 'a run step with env and cwd',
    change: (r) => (r.service.install = [{ name: 'x', run: ['true'], env: { A: '1' }, cwd: 's' }]),
  },
  {
    rule: 'runtimeNeedsItsEntry',
    name: 'process without start',
    change: (r) => delete r.service.start,
    message: /runtime "process" needs a start command/,
  },
  {
    rule: 'runtimeNeedsItsEntry',
    name: 'node with start and module',
    change: (r) => Object.assign(r.service, { runtime: 'node', module: 'app.js' }),
    message: /runtime "node" needs exactly one of start/,
  },
  {
    rule: 'runtimeNeedsItsEntry',
    name: 'node with module only',
    change: (r) => {
      Object.assign(r.service, { runtime: 'node', module: 'app.js' });
      delete r.service.start;
      delete r.data.notify;
    },
  },
  {
    rule: 'runtimeNeedsItsEntry',
    name: 'static with start',
    change: (r) => {
      r.service.runtime = 'static';
      delete r.data.notify;
    },
    message: /runtime "static" is served by the agent itself/,
  },
  {
    rule: 'transformsHaveOneAction',
    name: 'a transform with extract and run',
    change: (r) => (r.data.transform[0].run = ['true']),
    message: /has extract and run; expected exactly one of/,
  },
  {
    rule: 'transformsHaveOneAction',
    name: 'strip without extract',
    change: (r) => (r.data.transform = [{ run: ['true'], strip: 2 }]),
    message: /into, strip and keep_archive apply only to extract/,
  },
  {
    rule: 'transformsHaveOneAction',
    name: 'a copy with the default into',
    change: (r) => (r.data.transform = [{ copy: { from: 'a', to: 'b' }, into: '.' }]),
  },
  {
    rule: 'checksHaveOneAction',
    name: 'a check with exists and json',
    change: (r) => (r.data.check[0].json = 'index.json'),
    message: /has exists and json; expected exactly one of/,
  },
  {
    rule: 'notifyHasOneAction',
    name: 'notify with signal and http',
    change: (r) => (r.data.notify.http = 'http://127.0.0.1:{port}/reload'),
    message: /notify has signal and http/,
  },
  {
    rule: 'notifyHasOneAction',
    name: 'notify.signal without a service process',
    change: (r) => {
      Object.assign(r.service, { runtime: 'node', module: 'app.js' });
      delete r.service.start;
    },
    message: /notify.signal needs a service process/,
  },
  {
    rule: 'authIsOneKind',
    name: 'auth with a token file and an SSM parameter',
    change: (r) => (r.data.auth = { token_file: '/t', ssm_parameter: '/p' }),
    message: /data.auth needs exactly one of/,
  },
  {
    rule: 'authIsOneKind',
    name: 'an SSH key without known_hosts',
    change: (r) => (r.service.auth = { ssh_key_file: '/k' }),
    message: /needs pinned host keys in known_hosts/,
  },
  {
    rule: 'authIsOneKind',
    name: 'an SSH key with an empty known_hosts',
    change: (r) => (r.service.auth = { ssh_key_file: '/k', known_hosts: [] }),
    message: /needs pinned host keys in known_hosts/,
  },
  {
    rule: 'authIsOneKind',
    name: 'an SSH key with known_hosts',
    change: (r) =>
      (r.service.auth = { ssh_key_file: '/k', known_hosts: ['example.org ssh-ed25519 AAAAC3Nza'] }),
  },
  {
    rule: 'registryNeedsNpmSource',
    name: 'a registry with the image source',
    change: (r) => (r.agent = { registry: 'https://npm.example.org/', source: 'image' }),
    message: /is only used to install the agent from npm/,
  },
  {
    rule: 'registryNeedsNpmSource',
    name: 'a registry with an npm source',
    change: (r) => (r.agent = { registry: 'https://npm.example.org/', source: 'npm:gitstrap@1' }),
  },
  {
    rule: 'submoduleUrlsNeedSubmodules',
    name: 'submodule_urls without submodules',
    change: (r) => (r.data.submodule_urls = ['https://gitlab.com/acme/']),
    message: /data.submodule_urls applies only when data.submodules fetches submodules/,
  },
  {
    rule: 'submoduleUrlsNeedSubmodules',
    name: 'submodule_urls with submodules: false',
    change: (r) => Object.assign(r.service, { submodules: false, submodule_urls: ['https://a/'] }),
    message: /service.submodule_urls applies only when/,
  },
  {
    rule: 'submoduleUrlsNeedSubmodules',
    name: 'submodule_urls with submodules: true',
    change: (r) => Object.assign(r.service, { submodules: true, submodule_urls: ['https://a/'] }),
  },
  {
    rule: 'staticSourceTakesWholeCommits',
    name: 'a static source with lfs',
    change: (r) =>
      Object.assign(r.data, { source: { static: 'https://cdn.example/d/' }, lfs: true }),
    message: /data.lfs .* which data.source.static does not support/,
  },
  {
    rule: 'staticSourceTakesWholeCommits',
    name: 'a static source with a pinned commit',
    change: (r) =>
      Object.assign(r.data, { source: { static: 'https://cdn.example/d/' }, ref: 'a'.repeat(40) }),
    message: /data.ref pins a commit/,
  },
  {
    rule: 'staticSourceTakesWholeCommits',
    name: 'a static source with sparse',
    change: (r) =>
      Object.assign(r.data, { source: { static: 'https://cdn.example/d/' }, sparse: [] }),
    message: /data.sparse checks out part of the data repo/,
  },
  {
    rule: 'staticSourceTakesWholeCommits',
    name: 'a static source, nothing else',
    change: (r) => Object.assign(r.data, { source: { static: 'https://cdn.example/d/' } }),
  },
];

/** Rules JSON Schema cannot say: a recipe breaking each passes the schema, and validate refuses it. */
const VALIDATE_ONLY_CASES: Case[] = [
  {
    rule: 'installStepNamesAreUnique',
    name: 'two steps named alike',
    change: (r) => r.service.install.push({ name: 'php', run: ['true'] }),
    message: /step name "php" is used twice/,
  },
  {
    rule: 'scheduleIsCron',
    name: 'a schedule that is not cron',
    change: (r) => (r.data.schedule = '61 * * * *'),
    message: /expected a cron expression/,
  },
  {
    rule: 'dataSubmodulesInsideSparse',
    name: 'a submodule outside sparse',
    change: (r) => Object.assign(r.data, { sparse: ['a'], submodules: ['b'] }),
    message: /is outside data.sparse/,
  },
];

describe('recipes/schema.json with a JSON Schema validator (ajv)', () => {
  test('every shipped recipe passes it', () => {
    const files = readdirSync(path.join(projectRoot, 'recipes')).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 4);
    for (const file of files) {
      const recipe = parse(read(`recipes/${file}`)) as Recipe;
      assert.equal(checkSchema(recipe), true, `${file}: ${JSON.stringify(checkSchema.errors)}`);
      assert.deepEqual(verdicts(recipe).validate, [], file);
    }
  });

  test('each rule says once whether JSON Schema carries it, and every carried rule is in it', () => {
    assert.deepEqual(Object.keys(RULES_IN_JSON_SCHEMA), Object.keys(rules));
    const text = read('recipes/schema.json');
    for (const [name, rule] of Object.entries(RULES_IN_JSON_SCHEMA)) {
      const comments = text.split(`"rule ${name} (src/recipe/rules.ts)"`).length - 1;
      const sites = 'schema' in rule ? Object.keys(rule.schema).length : 0;
      assert.equal(comments, sites, name);
    }
  });

  test('the base case passes both', () => {
    const v = verdicts(base());
    assert.deepEqual([v.schema, v.validate], [true, []], v.errors);
  });

  for (const c of CASES) {
    test(`${c.rule}: ${c.name}: the schema and validate agree`, () => {
      assert.ok('schema' in RULES_IN_JSON_SCHEMA[c.rule], `${c.rule} is not in the JSON Schema`);
      const recipe = base();
      c.change(recipe);
      const v = verdicts(recipe);
      if (c.message === undefined) {
        assert.deepEqual(v.validate, [], 'validate accepts it');
        assert.equal(v.schema, true, `the schema accepts it: ${v.errors}`);
      } else {
        assert.ok(
          v.validate.some((m) => c.message!.test(m)),
          `validate refuses it for this rule: ${v.validate.join('; ')}`,
        );
        assert.equal(v.schema, false, 'the schema refuses it');
      }
    });
  }

  for (const c of VALIDATE_ONLY_CASES) {
    test(`${c.rule}: ${c.name}: only validate refuses it, as the reference says`, () => {
      assert.ok('validateOnly' in RULES_IN_JSON_SCHEMA[c.rule]);
      const recipe = base();
      c.change(recipe);
      const v = verdicts(recipe);
      assert.ok(
        v.validate.some((m) => c.message!.test(m)),
        v.validate.join('; '),
      );
      assert.equal(v.schema, true, v.errors);
    });
  }

  test('every rule in the JSON Schema has a case that breaks it, and one that keeps it', () => {
    for (const [name, rule] of Object.entries(RULES_IN_JSON_SCHEMA)) {
      if (!('schema' in rule)) continue;
      assert.ok(
        CASES.some((c) => c.rule === name && c.message),
        `${name}: no case breaks it`,
      );
    }
    const kept = new Set(CASES.filter((c) => !c.message).map((c) => c.rule));
    assert.ok(kept.size >= 8, `only ${kept.size} rules have a case that keeps them`);
  });
});
