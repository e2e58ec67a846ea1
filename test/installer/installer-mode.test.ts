import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { planInstallerBootParams } from '../../src/installer/installer-mode.js';
import { findBootParams } from '../../src/installer/find-bootparams.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { loadRecipeFile } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';
import { readFileSync } from 'node:fs';

const openQa = () => loadRecipeFile(path.join(projectRoot, 'recipes/open-qa.yaml'));

describe('planInstallerBootParams', () => {
  test('nothing outside installer mode; --ks/--bootparams alone are a usage error', () => {
    assert.equal(planInstallerBootParams(openQa(), { installer: false }), undefined);
    assert.throws(
      () => planInstallerBootParams(openQa(), { installer: false, ks: 'http://h/k' }),
      (e: unknown) => e instanceof GitstrapError && /apply to installer mode/.test(e.message),
    );
  });

  test('flags win over the recipe; the recipe allowlist applies', () => {
    const recipe: Recipe = {
      ...openQa(),
      installer: { ks: 'http://recipe/ks', bootparams: 'inst.text', allow: ['inst.*', 'ip'] },
    };
    assert.equal(
      planInstallerBootParams(recipe, { installer: true })!.canonical,
      'inst.ks=http://recipe/ks inst.text',
    );
    assert.equal(
      planInstallerBootParams(recipe, {
        installer: true,
        ks: 'http://flag/ks',
        bootparams: 'ip=dhcp',
      })!.canonical,
      'inst.ks=http://flag/ks ip=dhcp',
    );
    assert.throws(
      () => planInstallerBootParams(recipe, { installer: true, bootparams: 'init=/bin/sh' }),
      /init is not an allowed parameter/,
    );
  });

  test('installer mode needs a kickstart', () => {
    assert.throws(
      () => planInstallerBootParams(openQa(), { installer: true, bootparams: 'inst.text' }),
      (e: unknown) => e instanceof GitstrapError && /needs a kickstart URL/.test(e.message),
    );
  });
});

describe('bootstrap userdata --installer', () => {
  for (const format of ['cloud-config', 'mime']) {
    test(`${format}: the bootparams line the hook reads, warnings on stderr`, async (t) => {
      const file = path.join(tempDir(t), 'ud');
      const result = await runCli([
        'userdata',
        '--recipe',
        'open-qa',
        '--format',
        format,
        '--installer',
        '--ks',
        'http://10.0.2.2:8080/open-qa.ks',
        '--bootparams',
        'ksdevice=link text ip=dhcp',
        '-o',
        file,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /warning: ksdevice=link is deprecated and was dropped/);
      assert.match(result.stderr, /warning: text is deprecated; using inst.text/);
      assert.deepEqual(
        findBootParams(readFileSync(file))?.text,
        'inst.ks=http://10.0.2.2:8080/open-qa.ks inst.text ip=dhcp',
      );
    });
  }

  test('hostile --bootparams are refused before any user-data is written', async (t) => {
    const file = path.join(tempDir(t), 'ud');
    for (const bootparams of [
      'inst.ks=http://evil',
      'a\nb',
      'x="y inst.ks=http://evil"',
      'x=a"b',
    ]) {
      const result = await runCli([
        'userdata',
        '--recipe',
        'open-qa',
        '--installer',
        '--ks',
        'http://h/k',
        '--bootparams',
        bootparams,
        '-o',
        file,
      ]);
      assert.equal(result.code, 1, bootparams);
      assert.match(result.stderr, /^error: --ks with --bootparams: /);
      assert.match(result.stderr, /hint: /);
    }
    assert.throws(() => readFileSync(file), /ENOENT/);
  });

  test('--ks without --installer is a usage error', async () => {
    const result = await runCli(['userdata', '--recipe', 'open-qa', '--ks', 'http://h/k']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--ks and --bootparams apply to installer mode/);
  });
});
