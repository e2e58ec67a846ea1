// Properties of `bootstrap userdata` over generated recipe values (fast-check): any valid string in
// any recipe field renders to user-data, or to a GitstrapError saying why it cannot; the recipe
// reaches the instance unchanged; and every value that reaches a shell arrives as single-quoted
// words: cloud-init's own code decodes a sample of the renders and turns their runcmd into the
// script it would run, which must consist of quoted words only. The built CLI never crashes on
// arbitrary --set values either.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { GitstrapError } from '../../src/lib/errors.js';
import { parseRecipe } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import { INSTANCE_PATHS, renderUserData } from '../../src/userdata/index.js';
import { planExpiry, planFirstBootArgs } from '../../src/userdata/first-boot.js';
import { recipePath } from '../../src/lib/instance-paths.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { setArgument, TOKENS } from '../recipe/arbitraries.js';
import { makeCanaries } from '../userdata/helpers.js';

const OPTIONS = { version: '0.1.0', expiresAt: new Date('2030-01-02T03:04:05Z') } as const;

/** Text built to escape quoting: the canary tricks, shell and YAML characters, anything at all. */
// Characters cloud-init cannot carry (U+0085, unpaired surrogates) or an argv cannot (NUL) are
// rare: a recipe holding one is refused, and most recipes should get through to the checks.
const hostile = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...makeCanaries().tricks.map((t) => t.text)) },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          "'",
          '"',
          '\\',
          '$',
          '`',
          '\n',
          '\t',
          '\r',
          ' #',
          ': ',
          '- ',
          '{{',
          '}}',
          '%',
        ),
      },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constantFrom('\u0085', '\u2028', '\ufeff', 'é', '🚀', '\u0000'),
          fc.string({ unit: 'binary', maxLength: 4 }),
        ),
      },
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

/** A value without whitespace (an npm package spec cannot have any). */
const word = hostile.map((v) => v.replace(/\s/g, '')).filter((v) => v.length > 0);

/** A recipe (as a person writes it) with generated values in every string field. */
const recipeInput = fc.record({
  description: hostile,
  host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.constantFrom('0.0.0.0', '::', 'localhost')),
  source: fc.oneof(
    word.map((w) => `npm:${w}`),
    fc.constant('image'),
    fc.record({
      url: fc.tuple(fc.webUrl(), word).map(([url, w]) => `${url}?x=${encodeURIComponent(w)}`),
      sha256: fc.constant('ab'.repeat(32)),
    }),
  ),
  env: hostile,
  start: fc.array(hostile, { minLength: 1, maxLength: 4 }),
  shell: hostile.filter((v) => v.length > 0),
  ttl: fc.option(fc.constantFrom('90s', '2h', '30d')),
});

type RecipeValues = typeof recipeInput extends fc.Arbitrary<infer T> ? T : never;
type Format = 'cloud-config' | 'mime';
const format = fc.constantFrom<Format>('cloud-config', 'mime');

function recipeText(v: RecipeValues): string {
  return stringify({
    name: 'prop-app',
    description: v.description,
    service: {
      repo: 'https://example.org/app.git',
      runtime: 'process',
      start: ['php', ...v.start],
      env: { GREETING: v.env },
      install: [{ name: 'step', shell: v.shell }],
    },
    serve: { host: v.host },
    agent: { source: v.source, node: 'official' },
    ...(v.ttl ? { ttl: v.ttl } : {}),
  });
}

/** Renders, or says why the recipe or its user-data cannot be: never anything else. */
function renderOrRefuse(
  text: string,
  format: Format,
): { recipe: Recipe; userData: string } | undefined {
  const { recipe } = parseRecipe(text, 'r.yaml');
  if (!recipe) return undefined;
  try {
    return { recipe, userData: renderUserData(recipe, { ...OPTIONS, format }).text };
  } catch (error) {
    assert.ok(error instanceof GitstrapError, `not a GitstrapError: ${String(error)}`);
    return undefined;
  }
}

/**
 * The words of a shell command line that may consist only of single-quoted strings ('it'\''s'):
 * any other character outside quotes is a value that reached the shell unquoted.
 */
function quotedWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i += 1;
      continue;
    }
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      if (line[i] === "'") {
        const end = line.indexOf("'", i + 1);
        assert.ok(end !== -1, `an unclosed quote in ${JSON.stringify(line)}`);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (line.startsWith("\\'", i)) {
        word += "'";
        i += 2;
      } else {
        assert.fail(`${JSON.stringify(line[i])} outside quotes at ${i} of ${JSON.stringify(line)}`);
      }
    }
    words.push(word);
  }
  return words;
}

/** The argv first boot runs with, as the renderer plans it. */
function plannedArgv(recipe: Recipe): string[] {
  return [
    'sh',
    INSTANCE_PATHS.firstBoot,
    ...planFirstBootArgs(recipe, {
      version: OPTIONS.version,
      expiry: planExpiry(recipe, OPTIONS.expiresAt),
    }),
  ];
}

/** The multipart's shell-script part, decoded. */
function shellPartOf(userData: string): string {
  const boundary = /boundary="([^"]+)"/.exec(userData)![1]!;
  const part = userData.split(`--${boundary}`).find((p) => p.includes('text/x-shellscript'))!;
  const [headers, ...body] = part.split('\n\n');
  const content = body.join('\n\n').replace(/\n$/, '');
  return /base64/.test(headers!) ? Buffer.from(content, 'base64').toString('utf8') : content;
}

describe('bootstrap userdata over generated recipe values', () => {
  test('every value reaches the first-boot command as exactly one single-quoted word', async (t) => {
    let checked = 0;
    await checkProperty(
      t,
      fc.property(recipeInput, format, (v, as) => {
        const rendered = renderOrRefuse(recipeText(v), as);
        if (!rendered) return;
        const { recipe, userData } = rendered;
        if (as === 'mime') {
          const exec = shellPartOf(userData).split('\nexec sh ')[1]!.replace(/\n$/, '');
          assert.deepEqual(['sh', ...quotedWords(exec)], plannedArgv(recipe));
        } else {
          const config = parse(userData) as { runcmd: string[][] };
          assert.deepEqual(config.runcmd, [plannedArgv(recipe)]);
        }
        checked += 1;
      }),
      150,
    );
    assert.ok(checked >= 50, `only ${checked} of 150 recipes rendered`);
  });

  test("cloud-init's own code reads a sample back: the recipe unchanged, runcmd quoted", (t) => {
    const seed = propertySeed();
    t.diagnostic(`fast-check seed ${seed} (replay: GITSTRAP_TEST_SEED=${seed})`);
    const cases = fc
      .sample(fc.tuple(recipeInput, format), {
        seed,
        numRuns: 60,
      })
      .map(([v, as]) => renderOrRefuse(recipeText(v), as))
      .filter((r) => r !== undefined);
    assert.ok(cases.length >= 20, `only ${cases.length} of 60 recipes rendered`);
    const dir = tempDir(t);
    const files = cases.map((c, i) => {
      const file = path.join(dir, `user-data-${i}`);
      writeFileSync(file, c.userData);
      return file;
    });
    const read = readWithCloudInit(files);
    for (const [i, { recipe }] of cases.entries()) {
      const { configs, scripts } = read[i]!;
      const entry = configs
        .flatMap((c) => c.write_files ?? [])
        .find((f) => f.path === recipePath(recipe.name))!;
      const content =
        entry.encoding === 'b64'
          ? Buffer.from(entry.content, 'base64').toString('utf8')
          : entry.content;
      assert.deepEqual(parse(content), JSON.parse(JSON.stringify(recipe)), `case ${i}: the recipe`);
      // Each script is a header, comments, and one command of quoted words.
      const command = scripts
        .map((s) =>
          s
            .split('\n')
            .filter((l) => l !== '' && !l.startsWith('#'))
            .join('\n'),
        )
        .map((s) => s.replace(/^exec sh /, "'sh' "));
      assert.equal(command.length, 1, `case ${i}: ${command.join('\n---\n')}`);
      assert.deepEqual(quotedWords(command[0]!), plannedArgv(recipe), `case ${i}: the command`);
    }
  });

  test('the built CLI, given arbitrary --set values: user-data or an error message, never a crash', async (t) => {
    const seed = propertySeed();
    t.diagnostic(`fast-check seed ${seed} (replay: GITSTRAP_TEST_SEED=${seed})`);
    // A command line cannot carry NUL.
    const argument = setArgument.filter((s) => !s.includes('\u0000'));
    const samples = fc.sample(fc.array(argument, { minLength: 1, maxLength: 3 }), {
      seed,
      numRuns: 6,
    });
    for (const sets of samples) {
      const r = await runCli(['userdata', '-r', 'open-qa', ...sets.flatMap((s) => ['--set', s])]);
      const what = `bootstrap userdata ${sets.map((s) => JSON.stringify(s)).join(' ')}`;
      assert.ok(r.code === 0 || r.code === 1, `${what}: exit ${r.code}\n${r.stderr}`);
      if (r.code === 0) assert.match(r.stdout, /^#cloud-config\n/, what);
      else assert.match(r.stderr, /^error: \S/, what);
      assert.doesNotMatch(r.stderr, /unexpected failure|\n\s+at .*:\d+:\d+/, what);
      for (const token of TOKENS)
        assert.ok(!r.stderr.includes(token), `${what}: shows a credential`);
    }
  });
});

interface CloudInitRead {
  configs: Array<{ write_files?: Array<{ path: string; content: string; encoding?: string }> }>;
  scripts: string[];
}

/** Decodes user-data files with cloud-init's code in one process: each cloud-config part as its
 * YAML reader loads it, each shell part, and the script its runcmd becomes (util.shellify). */
function readWithCloudInit(files: string[]): CloudInitRead[] {
  const cloudInit = requireTool('cloud-init', 'cloud-init');
  const python = /^#!\s*(\S+)/.exec(readFileSync(cloudInit, 'utf8').split('\n', 1)[0]!)![1]!;
  const script = `
import json, sys
from cloudinit import user_data, util
out = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        message = user_data.UserDataProcessor(None).process(f.read())
    read = {"configs": [], "scripts": []}
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        payload = util.fully_decoded_payload(part)
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8")
        if part.get_content_type() == "text/cloud-config":
            config = util.load_yaml(payload, default=None)
            read["configs"].append({"write_files": config.get("write_files", [])})
            if "runcmd" in config:
                read["scripts"].append(util.shellify(config["runcmd"]))
        else:
            read["scripts"].append(payload)
    out.append(read)
print(json.dumps(out))
`;
  const run = spawnSync(python, ['-c', script, ...files], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as CloudInitRead[];
}
