// What validation does with hostile input, through the built bin: a recipe over the size limit is
// refused before it is parsed; a YAML alias bomb is a clear error with its line, not a crash;
// Ctrl-C and SIGTERM end the program while it reads and validates a recipe.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BIN, runCli } from '../helpers/cli.js';
import { writeFiles } from '../helpers/git.js';
import { startProcess, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';

const minimal = `name: demo-app
service:
  repo: https://example.org/app.git
  runtime: static
`;

/** A YAML "billion laughs": each level repeats the one before ten times (first alias on line 7). */
function aliasBomb(levels: number): string {
  const bomb = ['bomb:', '  l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= levels; i++) {
    bomb.push(`  l${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  }
  return `${minimal}${bomb.join('\n')}\n`;
}

describe('bootstrap validate with hostile input (the built bin)', () => {
  test('a recipe over the size limit is refused before it is parsed', async (t) => {
    const dir = tempDir(t);
    // 1.5 MB of one mapping: 60k keys took minutes before the limit existed, refused at once now.
    const env = Array.from({ length: 60_000 }, (_, i) => `    KEY_${i}: value-${i}\n`).join('');
    writeFiles(dir, { 'big.yaml': `${minimal}  env:\n${env}` });
    const r = await runCli(['validate', '-r', 'big.yaml'], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^error: recipe big\.yaml is too big: \d[\d,]* bytes; a recipe may have at most 262,144 bytes \(256 KiB\)\n {2}hint: /,
    );
    assert.equal(r.code, 1);
  });

  test('a YAML alias bomb is a clear error naming file and line, exit 1', async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, { 'bomb.yaml': aliasBomb(9) });
    const r = await runCli(['validate', '-r', 'bomb.yaml'], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /unexpected failure|report it as a bug|at .*\.js:\d+/);
    assert.match(
      r.stderr,
      // Line 9 is where the aliases of lines 7, 8 and 9 come to more than 10,000 values.
      /^error: bomb\.yaml is not a valid recipe \(1 problem\):\n {2}bomb\.yaml:9:\d+: YAML aliases: /,
    );
    assert.equal(r.code, 1);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} ends the program while it reads and validates a recipe`, async (t) => {
      // The recipe is a FIFO: the loader blocks in its synchronous read until a writer sends the
      // text, which the test never does. A JS signal listener cannot run then; the signal must
      // end the program by itself.
      const dir = tempDir(t);
      const fifo = path.join(dir, 'r.yaml');
      const made = spawnSync(requireTool('mkfifo', 'coreutils'), [fifo]);
      assert.equal(made.status, 0, String(made.stderr));
      const run = startProcess(t, process.execPath, [BIN, 'validate', '-r', fifo], {
        cwd: dir,
      });
      // Opening the write end without blocking succeeds only once the program has the FIFO open.
      const writer = await waitFor(
        async () => {
          try {
            return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
          } catch {
            return undefined;
          }
        },
        'the program to open the recipe',
        20_000,
        20,
      );
      t.after(() => closeSync(writer));
      // The loader is inside its read now (the program has nothing else to do before it).
      await new Promise((r) => setTimeout(r, 200));
      run.child.kill(signal);
      const ended = await Promise.race([
        run.exited,
        new Promise((r) => setTimeout(() => r('still running 5 s after the signal'), 5000)),
      ]);
      assert.equal(ended, signal, run.output());
    });
  }
});
