// Temporary folders that are removed when the test ends, pass or fail.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh folder under the system temp dir, removed after the test (or suite) `t`. */
export function tempDir(t: Pick<TestContext, 'after'>, prefix = 'gitstrap-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
