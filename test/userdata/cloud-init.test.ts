// The user-data against the real tools: cloud-init decodes it (gzip, MIME) and its schema accepts
// every cloud-config; shellcheck finds every script clean; systemd accepts the agent's unit.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { INSTANCE_PATHS } from '../../src/userdata/index.js';
import { agentUnitText } from '../../src/userdata/agent-unit.js';
import { loadTemplates } from '../../src/userdata/templates.js';
import { compactShell } from '../../src/userdata/compact.js';
import { firstBootContext, type FirstBootFlags } from '../../src/userdata/render.js';
import { tempDir } from '../helpers/tmp.js';
import { GOLDEN_OPTIONS, makeCanaries, recipeNames, recipeOf, render } from './helpers.js';
import { bashProgram, cloudInitSchema, shellcheck, verifyUnits } from './real-tools.js';
import { stageUserData } from './sandbox.js';

const hostile = makeCanaries();
const HOSTILE_SETS = [
  `description=${hostile.value}`,
  `agent.source=npm:${hostile.oneLine.replace(/\s/g, '')}`,
  `service.start=${JSON.stringify(['php', hostile.value, '-S', '127.0.0.1:{port}'])}`,
  `service.env.GREETING=${hostile.value}`,
  `service.install=${JSON.stringify([
    { name: 'x', run: ['sh', '-c', hostile.value], env: { A: hostile.value } },
    { name: 'y', shell: hostile.value },
  ])}`,
];
const SHA = 'ab'.repeat(32);

const cases = [
  ...recipeNames().flatMap((name) => [
    { what: `${name} (cloud-config)`, data: () => render(name, [], { ...GOLDEN_OPTIONS }).body },
    { what: `${name} (mime)`, data: () => render(name, [], { format: 'mime' }).body },
  ]),
  { what: 'hostile values (cloud-config)', data: () => render('open-qa', HOSTILE_SETS).body },
  {
    what: 'hostile values (mime, gzipped)',
    data: () => render('open-qa', HOSTILE_SETS, { format: 'mime', gzip: true }).body,
  },
  {
    what: 'agent from a URL, official Node.js, ttl, boot parameters (gzipped)',
    data: () =>
      render(
        'open-qa',
        [
          `agent.source={url: "https://example.invalid/a.cjs?x=$(id)'", sha256: "${SHA}"}`,
          'agent.node=official',
          'ttl=3h',
        ],
        { gzip: true, bootparams: 'console=ttyS0 inst.ks=http://10.0.2.2/ks.cfg' },
      ).body,
  },
  {
    what: 'agent on the image, unicode in the recipe',
    data: () => render('open-qa', ['agent.source=image', 'description=Café ✓ 🚀\tend']).body,
  },
];

describe('cloud-init and shellcheck accept what cloud-init would run', () => {
  // The first-boot script carries no recipe values, so it is the same for most cases: check each
  // distinct text once.
  const checkedScripts = new Set<string>();
  for (const { what, data } of cases) {
    test(what, (t) => {
      const dir = tempDir(t);
      const root = path.join(dir, 'root');
      const staged = stageUserData(data(), dir, root);
      assert.ok(staged.cloudConfigs.length === 1, 'one cloud-config part');
      assert.equal(staged.scripts.length, 1, 'first boot runs once (runcmd or the MIME part)');

      const schema = cloudInitSchema(dir, 'cloud-config.yaml', staged.cloudConfigs[0]!);
      assert.equal(schema.status, 0, schema.output);
      assert.match(schema.output, /^Valid cloud-config: /);

      const firstBoot = readFileSync(path.join(root, INSTANCE_PATHS.firstBoot), 'utf8');
      if (!checkedScripts.has(firstBoot)) {
        const lint = shellcheck(dir, 'first-boot.sh', firstBoot);
        assert.equal(lint.status, 0, lint.output);
        checkedScripts.add(firstBoot);
      }
      // The script that passes the arguments. SC1003 is a note that a backslash right before a
      // closing quote might be a mistaken escape: the hostile values hold exactly that on purpose.
      const runner = readFileSync(staged.scripts[0]!, 'utf8');
      const runnerLint = shellcheck(dir, 'runcmd-or-part.sh', runner, ['SC1003']);
      assert.equal(runnerLint.status, 0, runnerLint.output);
    });
  }

  // Every branch a recipe can choose, and the fewest: each rendering must be clean.
  const FLAGS = ['expires', 'npm', 'url', 'image', 'official', 'fetch', 'lfs'] as const;
  const flagsWhere = (on: (flag: (typeof FLAGS)[number]) => boolean) =>
    Object.fromEntries(FLAGS.map((f) => [f, on(f)])) as unknown as FirstBootFlags;
  const variants = [
    flagsWhere(() => true),
    flagsWhere((f) => f === 'npm'),
    flagsWhere((f) => f === 'url' || f === 'fetch' || f === 'expires'),
  ];
  for (const flags of variants) {
    const on = FLAGS.filter((f) => flags[f]);
    test(`the first-boot template itself, comments and all, is shellcheck-clean (${on.join(', ')})`, (t) => {
      const script = loadTemplates().firstBoot(firstBootContext(flags));
      assert.equal(script.includes('install_official_node()'), flags.official);
      assert.equal(script.includes('step_ttl()'), flags.expires);
      const lint = shellcheck(tempDir(t), 'first-boot.full.sh', script);
      assert.equal(lint.status, 0, lint.output);
    });

    test(`compacted for the user-data, the first-boot script is the same program to bash (${on.join(', ')})`, (t) => {
      const script = loadTemplates().firstBoot(firstBootContext(flags));
      const compact = compactShell(script);
      assert.ok(compact.length < script.length);
      assert.doesNotMatch(compact, /^[ \t]/m, 'no indentation left');
      const program = bashProgram(tempDir(t), compact);
      assert.ok(program.includes('step_unit ()'), program.slice(0, 200));
      assert.equal(program, bashProgram(tempDir(t), script));
    });
  }

  test('a script shellcheck rejects is reported (the checker is live)', (t) => {
    const lint = shellcheck(tempDir(t), 'bad.sh', '#!/bin/sh\nrm -rf $1/*\n');
    assert.notEqual(lint.status, 0);
    assert.match(lint.output, /SC2086/);
  });

  test('a cloud-config the schema rejects is reported (the checker is live)', (t) => {
    const schema = cloudInitSchema(tempDir(t), 'bad.yaml', '#cloud-config\nwrite_files: 3\n');
    assert.notEqual(schema.status, 0);
  });
});

describe("cloud-init's write_files", () => {
  test('writes the files as root, the recipe 0644 and the script 0755, by its defaults where the user-data says nothing', (t) => {
    const dir = tempDir(t);
    const staged = stageUserData(render('open-qa').body, dir, path.join(dir, 'root'));
    assert.deepEqual(
      staged.files.map((f) => [f.path, f.owner, f.permissions, f.written]),
      [
        ['/etc/gitstrap/recipes/open-qa.yaml', null, null, { owner: 'root:root', mode: '0644' }],
        [INSTANCE_PATHS.firstBoot, null, '0755', { owner: 'root:root', mode: '0755' }],
      ],
    );
  });
});

describe('systemd accepts the agent unit bootstrap first-boot writes', () => {
  for (const recipe of ['fundraiser-auction', 'open-qa']) {
    test(`gitstrap@${recipe}.service, as written for that recipe`, (t) => {
      const dir = tempDir(t);
      const root = path.join(dir, 'root');
      stageUserData(render(recipe, [], { ...GOLDEN_OPTIONS }).body, dir, root);
      const packages = recipeOf(recipe).service.install.some((s) => s.packages !== undefined);
      mkdirSync(path.join(root, INSTANCE_PATHS.unitDir), { recursive: true });
      writeFileSync(path.join(root, INSTANCE_PATHS.agentUnit), agentUnitText({ packages }));
      const verify = verifyUnits(root, [`gitstrap@${recipe}.service`], [INSTANCE_PATHS.bin]);
      assert.equal(verify.status, 0, verify.output);
      assert.equal(verify.output, '');
    });
  }

  test('a unit with a mistake is reported (the checker is live)', (t) => {
    const root = path.join(tempDir(t), 'root');
    const unit = path.join(root, INSTANCE_PATHS.agentUnit);
    mkdirSync(path.dirname(unit), { recursive: true });
    const text = agentUnitText({ packages: false }).replace(
      'ProtectSystem=strict',
      'ProtectSytem=strict',
    );
    writeFileSync(unit, text);
    const verify = verifyUnits(root, ['gitstrap@open-qa.service'], [INSTANCE_PATHS.bin]);
    assert.match(verify.output, /Unknown key 'ProtectSytem'/);
  });
});
