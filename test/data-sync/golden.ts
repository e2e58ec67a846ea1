// Golden files: a value compared with test/data-sync/golden/NAME.json. UPDATE_GOLDEN=1 rewrites
// them (then read the diff: each file is a reviewed statement of what the engine will run).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

/** Asserts that `value`, as JSON, equals the golden file `name`.json. */
export function assertGolden(name: string, value: unknown): void {
  const file = path.join(DIR, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(file, text);
    return;
  }
  if (!existsSync(file)) {
    assert.fail(`golden file ${name}.json is missing: run with UPDATE_GOLDEN=1 and review it`);
  }
  assert.deepEqual(JSON.parse(text), JSON.parse(readFileSync(file, 'utf8')), `golden ${name}.json`);
}
