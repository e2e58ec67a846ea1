// `bootstrap userdata` as a black box: the built bin run as a process (npm run build first).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { PACKAGE_VERSION, RECIPES_DIR, render } from './helpers.js';

const SIZE_LINE =
  /^user-data: ([\d,]+) bytes \(([\d,]+) gzipped\); (cloud-config|mime), (sent as is|sent gzipped \(([\d,]+) bytes\)): fits EC2's 16,384 bytes$/;

/** A recipe file in a temp folder: open-qa with a description of `n` random hex digits. */
function bigRecipe(dir: string, n: number): string {
  const file = path.join(dir, 'big.yaml');
  const text = readFileSync(path.join(RECIPES_DIR, 'open-qa.yaml'), 'utf8')
    .replace(/^description: .*$/m, `description: ${randomBytes(n / 2).toString('hex')}`)
    .replace(/^name: open-qa$/m, 'name: big');
  writeFileSync(file, text);
  return file;
}

describe('bootstrap userdata', () => {
  test('prints the cloud-config on stdout and its size on stderr', async () => {
    const r = await runCli(['userdata', '--recipe', 'open-qa']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, render('open-qa', [], { version: PACKAGE_VERSION }).text);
    assert.ok(r.stdout.startsWith('#cloud-config\n'));
    const [line, ...rest] = r.stderr.trimEnd().split('\n');
    assert.deepEqual(rest, []);
    const m = SIZE_LINE.exec(line ?? '');
    assert.ok(m, line);
    assert.equal(Number(m[1]!.replace(/,/g, '')), Buffer.byteLength(r.stdout));
    assert.equal(m[4], 'sent as is');
  });

  test('--set and --format mime', async () => {
    const r = await runCli([
      'userdata',
      '--recipe',
      'open-qa',
      '--set',
      'service.ref=v2',
      '--format',
      'mime',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      render('open-qa', ['service.ref=v2'], { version: PACKAGE_VERSION, format: 'mime' }).text,
    );
    assert.match(r.stderr, /; mime, sent as is: /);
  });

  test('-o FILE writes the file and nothing on stdout', async (t) => {
    const dir = tempDir(t);
    const r = await runCli(['userdata', '--recipe', 'open-qa', '-o', 'user-data.yaml'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(
      readFileSync(path.join(dir, 'user-data.yaml'), 'utf8'),
      render('open-qa', [], { version: PACKAGE_VERSION }).text,
    );
    assert.match(r.stderr, /\nwrote user-data\.yaml\n$/);
    assert.deepEqual(readdirSync(dir), ['user-data.yaml'], 'no temporary file left behind');
  });

  test('--gzip gzips it (to a pipe)', async () => {
    const r = await runCli(['userdata', '--recipe', 'open-qa', '--gzip']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.charCodeAt(0), 0x1f, 'gzip magic');
    assert.match(r.stderr, /; cloud-config, sent gzipped \([\d,]+ bytes\): /);
  });

  test('--gzip -o FILE: a gzip file cloud-init would decompress to the same user-data', async (t) => {
    const dir = tempDir(t);
    const r = await runCli(['userdata', '--recipe', 'open-qa', '--gzip', '-o', 'ud.gz'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    const body = readFileSync(path.join(dir, 'ud.gz'));
    assert.deepEqual(body.subarray(0, 2), Buffer.from([0x1f, 0x8b]));
    assert.equal(
      gunzipSync(body).toString(),
      render('open-qa', [], { version: PACKAGE_VERSION }).text,
    );
  });

  test('over 16,384 bytes it is gzipped automatically', async (t) => {
    const dir = tempDir(t);
    const recipe = bigRecipe(dir, 12_000);
    const r = await runCli(['userdata', '--recipe', recipe, '-o', 'ud.gz'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const m = SIZE_LINE.exec(r.stderr.split('\n')[0] ?? '');
    assert.ok(m, r.stderr);
    assert.ok(Number(m[1]!.replace(/,/g, '')) > 16_384);
    assert.equal(m[4]?.startsWith('sent gzipped'), true);
    assert.ok(
      gunzipSync(readFileSync(path.join(dir, 'ud.gz')))
        .toString()
        .startsWith('#cloud-config\n'),
    );
  });

  test('refused when even gzipped it does not fit: exit 1, nothing written', async (t) => {
    const dir = tempDir(t);
    const recipe = bigRecipe(dir, 60_000);
    const r = await runCli(['userdata', '--recipe', recipe, '-o', 'ud'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^error: the user-data is [\d,]+ bytes even gzipped \([\d,]+ raw\); EC2 accepts at most 16,384\n {2}hint: shorten the recipe: /,
    );
    assert.ok(!existsSync(path.join(dir, 'ud')));
    assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
  });

  test('gzipped output is not printed to a terminal', async (t) => {
    const script = requireTool('script', 'bsdutils');
    const dir = tempDir(t);
    // `script` gives the command a terminal for stdout; its typescript file records what it printed.
    const typescript = path.join(dir, 'typescript');
    const r = spawnSync(
      script,
      [
        '-q',
        '-e',
        '-c',
        `'${process.execPath}' '${BIN}' userdata --recipe open-qa --gzip`,
        typescript,
      ],
      { cwd: path.dirname(path.dirname(BIN)), encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const printed = readFileSync(typescript, 'utf8');
    assert.match(
      printed,
      /error: the user-data is gzipped: not printing binary data to a terminal/,
    );
    assert.match(printed, /hint: write it to a file with -o FILE/);
    assert.ok(!printed.includes('\u001f\u008b'));
  });

  test('a credential in a --set value is refused with where and how, never repeated', async () => {
    const token = `ghp_${'A1b2C3d4'.repeat(5)}`;
    const r = await runCli([
      'userdata',
      '--recipe',
      'open-qa',
      '--set',
      `service.repo=https://deploy:${token}@github.com/acme/private.git`,
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        'error: recipes/open-qa.yaml is not a valid recipe (1 problem):',
        `  --set service.repo=https://***@github.com/acme/private.git: service.repo: carries a credential (a user name or token in the URL); user-data and recipes are readable by anyone on the instance`,
        '    hint: keep the credential on the instance: set auth.token_file or auth.ssh_key_file to a file there, or auth.ssm_parameter to an SSM SecureString name',
        '',
      ].join('\n'),
    );
    assert.ok(!r.stderr.includes(token));
  });

  test('a token in an environment value is refused too', async () => {
    const r = await runCli([
      'userdata',
      '--recipe',
      'open-qa',
      '--set',
      `service.env.TOKEN=glpat-${'x'.repeat(20)}`,
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /service\.env\.TOKEN: carries a credential \(a GitLab token\)/);
  });

  test('a character cloud-init cannot read is refused, naming the key', async () => {
    const r = await runCli(['userdata', '--recipe', 'open-qa', '--set', 'description=a\u007fb']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'error: recipe value description contains U+007F, a character cloud-init cannot read in user-data\n  hint: remove that character from the recipe (or from the --set value)\n',
    );
  });

  test('usage errors exit 2', async () => {
    const format = await runCli(['userdata', '--recipe', 'open-qa', '--format', 'yaml']);
    assert.equal(format.code, 2);
    assert.equal(format.stderr, 'error: --format must be cloud-config or mime, got "yaml"\n');
    const typo = await runCli(['userdata', '--recipe', 'open-qa', '--format', 'mim']);
    assert.match(typo.stderr, /hint: did you mean --format mime\?/);
    const missing = await runCli(['userdata']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: missing --recipe NAME\|PATH/);
    const unknown = await runCli(['userdata', '--recipe', 'open-qa', '--gzipp']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /did you mean --gzip\?/);
  });

  test('an unknown recipe exits 1 with a suggestion', async () => {
    const r = await runCli(['userdata', '--recipe', 'open-q']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no recipe named "open-q".*\n {2}hint: did you mean "open-qa"\?/);
  });

  test('--help shows the options', async () => {
    const r = await runCli(['userdata', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--format FORMAT/);
    assert.match(r.stdout, /-o, --output FILE/);
  });
});
