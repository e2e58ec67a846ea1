// Golden files: a value compared with a reviewed file in a test folder's golden/ (test/ec2/golden,
// ...). UPDATE_GOLDEN=1 rewrites them instead; then read the diff: each golden file is a reviewed
// statement of what the code under test produces (what goes on the wire, what the engine runs, ...).
// In CI (CI set, as .ci/run sets it) UPDATE_GOLDEN=1 is refused: there every golden file is compared.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './tools.js';

/**
 * Whether this run rewrites golden files (UPDATE_GOLDEN=1) instead of comparing with them; fails
 * the comparison when it is asked for in CI, where a rewrite would make every comparison pass.
 */
export function updatingGolden(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.UPDATE_GOLDEN !== '1') return false;
  const ci = env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    assert.fail(
      `UPDATE_GOLDEN=1 is refused in CI (CI=${ci}): golden files are compared there, never rewritten; update them locally and review the diff`,
    );
  }
  return true;
}

/** The golden folder of a test folder: goldenDir('ec2') is test/ec2/golden. */
export function goldenDir(testFolder: string): string {
  return path.join(projectRoot, 'test', testFolder, 'golden');
}

/** Asserts that `text` equals the golden file `dir`/`file` to the byte. */
export function assertGoldenText(dir: string, file: string, text: string): void {
  const golden = goldenFor(dir, file, text);
  if (golden === undefined) return;
  assert.equal(text, golden, `${shown(dir, file)} changed: review the diff, then UPDATE_GOLDEN=1`);
}

/** Asserts that `value`, as JSON, equals the golden file `dir`/`name`.json (layout aside). */
export function assertGolden(dir: string, name: string, value: unknown): void {
  const text = JSON.stringify(value, null, 2) + '\n';
  const golden = goldenFor(dir, `${name}.json`, text);
  if (golden === undefined) return;
  assert.deepEqual(JSON.parse(text), JSON.parse(golden), `golden ${shown(dir, `${name}.json`)}`);
}

/** The golden text to compare with; undefined when this run rewrote it. Fails when it is missing. */
function goldenFor(dir: string, file: string, actual: string): string | undefined {
  const full = path.join(dir, file);
  if (updatingGolden()) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(full, actual);
    return undefined;
  }
  if (!existsSync(full)) {
    const folder = path.relative(projectRoot, path.dirname(dir));
    assert.fail(
      `golden file ${shown(dir, file)} is missing: run UPDATE_GOLDEN=1 node scripts/test.mjs ${folder} and review it`,
    );
  }
  return readFileSync(full, 'utf8');
}

const shown = (dir: string, file: string) => path.relative(projectRoot, path.join(dir, file));
