import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import {
  FIRST_BOOT_UNIT,
  KICKSTART_LAUNCHER,
  planKickstartFiles,
  renderKickstart,
} from '../../src/installer/kickstart.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { loadRecipeFile, parseRecipe } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import { planFirstBootArgs } from '../../src/userdata/first-boot.js';
import { planWriteFiles } from '../../src/userdata/render.js';
import { loadTemplates } from '../../src/userdata/templates.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot, requireTool } from '../helpers/tools.js';

const VERSION = '0.1.0';
const openQa = () => loadRecipeFile(path.join(projectRoot, 'recipes/open-qa.yaml'));

/** The %post section's script: the lines between "%post ..." and its "%end". */
function postScript(ks: string): string {
  const match = /^%post\b[^\n]*\n([\s\S]*?)^%end$/m.exec(ks);
  assert.ok(match, 'the kickstart has a %post ... %end section');
  return match[1]!;
}

/** Runs %post in a sandbox root with a stand-in systemctl that records its arguments. */
function runPost(t: Parameters<typeof tempDir>[0], ks: string) {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const bin = path.join(dir, 'bin');
  mkdirSync(root);
  mkdirSync(bin);
  const calls = path.join(dir, 'systemctl-calls');
  writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\nprintf '%s\\n' "$*" >>'${calls}'\n`);
  chmodSync(path.join(bin, 'systemctl'), 0o755);
  const script = path.join(dir, 'post.sh');
  writeFileSync(script, postScript(ks));
  const result = spawnSync('sh', [script], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, GITSTRAP_TEST_ROOT: root, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  assert.equal(result.status, 0, result.stderr);
  return { dir, root, calls: existsSync(calls) ? readFileSync(calls, 'utf8') : '' };
}

describe('renderKickstart', () => {
  test('a complete unattended kickstart with git and Node.js, ending in reboot', () => {
    const ks = renderKickstart(openQa(), { version: VERSION });
    for (const line of [
      'text',
      'lang en_US.UTF-8',
      'network --bootproto=dhcp --activate --onboot=on',
      'rootpw --lock',
      "firewall --enabled --ssh --port='80:tcp'",
      'zerombr',
      'clearpart --all --initlabel',
      'autopart',
      'reboot',
      '%packages',
      'git',
      'nodejs',
      'npm',
      '%post --erroronfail --log=/root/gitstrap-kickstart-post.log',
    ]) {
      assert.ok(ks.split('\n').includes(line), `has the line ${JSON.stringify(line)}`);
    }
    assert.equal(ks.match(/^%end$/gm)?.length, 2, '%packages and %post are closed');
    assert.doesNotMatch(ks, /\{\{|\}\}/);
    assert.doesNotMatch(ks, /ignoredisk/);
  });

  test('--disk limits the install to one disk', () => {
    const ks = renderKickstart(openQa(), { version: VERSION, disk: 'vdb' });
    assert.match(ks, /^ignoredisk --only-use='vdb'$/m);
    assert.match(ks, /^clearpart --all --initlabel --drives='vdb'$/m);
  });

  test('a --disk that is not a device name is refused', () => {
    for (const disk of ["vdb'; reboot", 'vdb --all', '', '-x']) {
      assert.throws(
        () => renderKickstart(openQa(), { version: VERSION, disk }),
        (e: unknown) => e instanceof GitstrapError && /is not a disk name/.test(e.message),
      );
    }
  });

  test('%post is POSIX sh and shellcheck-clean', (t) => {
    requireTool('shellcheck', 'shellcheck');
    const dir = tempDir(t);
    const file = path.join(dir, 'post.sh');
    writeFileSync(file, postScript(renderKickstart(openQa(), { version: VERSION })));
    const result = spawnSync('shellcheck', ['--shell=sh', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

describe("the kickstart's %post sets the machine up as cloud-init does", () => {
  test('it writes the same recipe, first-boot script and units, and enables first boot', (t) => {
    const recipe = openQa();
    const { root, calls } = runPost(t, renderKickstart(recipe, { version: VERSION }));
    // The files the cloud-init path writes (the user-data renderer's own plan), byte for byte.
    for (const f of planWriteFiles(recipe, loadTemplates(), { expires: false })) {
      const written = path.join(root, f.path);
      // As cloud-init's write_files decodes each encoding (gz+b64: base64, then gunzip).
      const expected =
        f.encoding === 'gz+b64'
          ? gunzipSync(Buffer.from(f.content, 'base64'))
          : f.encoding === 'b64'
            ? Buffer.from(f.content, 'base64')
            : Buffer.from(f.content);
      assert.deepEqual(readFileSync(written), expected, f.path);
      assert.equal((statSync(written).mode & 0o777).toString(8).padStart(4, '0'), f.permissions);
    }
    assert.ok(existsSync(path.join(root, '/etc/gitstrap/recipes/open-qa.yaml')));
    // The first-boot script is the script itself (it travels gzip+base64 in user-data).
    assert.match(
      readFileSync(path.join(root, '/usr/local/lib/gitstrap/first-boot.sh'), 'utf8'),
      /^#!\/bin\/sh\n/,
    );
    // The launcher runs the first-boot script with the arguments cloud-init's runcmd would pass.
    const launcher = readFileSync(path.join(root, KICKSTART_LAUNCHER), 'utf8');
    const args = planFirstBootArgs(recipe, { version: VERSION, expiry: undefined });
    assert.ok(
      launcher.includes(
        `'/usr/local/lib/gitstrap/first-boot.sh' ${args.map((a) => `'${a}'`).join(' ')}`,
      ),
      launcher,
    );
    const unit = readFileSync(path.join(root, '/etc/systemd/system', FIRST_BOOT_UNIT), 'utf8');
    assert.match(
      unit,
      /^ExecStart=\/bin\/sh \/usr\/local\/lib\/gitstrap\/kickstart-first-boot.sh$/m,
    );
    assert.match(unit, /^ConditionPathExists=!\/var\/lib\/gitstrap\/bootstrap-result.json$/m);
    assert.match(unit, /^WantedBy=multi-user.target$/m);
    assert.equal(calls, `enable ${FIRST_BOOT_UNIT}\n`);
  });

  test('a recipe with a ttl gets the expiry step (the first-boot script writes the timer)', () => {
    const recipe = openQa();
    const withTtl: Recipe = { ...recipe, ttl: '2h' };
    const script = planWriteFiles(withTtl, loadTemplates(), { expires: true })[1]!;
    assert.match(gunzipSync(Buffer.from(script.content, 'base64')).toString(), /^step_ttl\(\)/m);
    const launcher = planKickstartFiles(withTtl, { version: VERSION })
      .find((f) => f.path === KICKSTART_LAUNCHER)!
      .content.toString();
    assert.match(launcher, /'--ttl-seconds' '7200'/);
  });

  test('hostile recipe values are carried exactly and never run', (t) => {
    const dir = tempDir(t);
    const canary = path.join(dir, 'canary');
    const text = readFileSync(path.join(projectRoot, 'recipes/open-qa.yaml'), 'utf8');
    const { recipe, problems } = parseRecipe(text, 'open-qa.yaml', [
      `description=it's "$(touch ${canary})" \`touch ${canary}\` ; touch ${canary} %post %end\n%end`,
      `service.start=[php, -S, "127.0.0.1:{port}", "'; touch ${canary}; '"]`,
      `agent.source=npm:gitstrap@0.1.0`,
    ]);
    assert.deepEqual(problems, []);
    const ks = renderKickstart(recipe!, { version: VERSION });
    assert.equal(ks.match(/^%end$/gm)?.length, 2, 'a recipe value cannot close a section');
    const { root } = runPost(t, ks);
    assert.ok(!existsSync(canary), 'no recipe value was run');
    const written = readFileSync(path.join(root, '/etc/gitstrap/recipes/open-qa.yaml'), 'utf8');
    const planned = planWriteFiles(recipe!, loadTemplates(), { expires: false })[0]!;
    assert.equal(
      written,
      planned.encoding === 'b64'
        ? Buffer.from(planned.content, 'base64').toString()
        : planned.content,
    );
    assert.match(written, /touch/);
  });
});

describe('bootstrap kickstart', () => {
  test('-o writes the file; stdout otherwise', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'open-qa.ks');
    const written = await runCli(['kickstart', '--recipe', 'open-qa', '-o', file]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stderr, /wrote .*open-qa.ks: the kickstart for open-qa/);
    const printed = await runCli(['kickstart', '--recipe', 'open-qa']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(readFileSync(file, 'utf8'), printed.stdout);
    assert.match(printed.stdout, /^%post --erroronfail/m);
  });

  test('a bad --disk is refused with a hint', async () => {
    const result = await runCli(['kickstart', '--recipe', 'open-qa', '--disk', 'vdb; reboot']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: --disk "vdb; reboot" is not a disk name\n\s+hint: /);
  });
});
