// The import-direction rule (eslint.config.js): a part that imports a part above it fails the lint
// that npm test runs; the same import from a part allowed to make it passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { projectRoot } from '../helpers/tools.js';

async function messagesFor(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: projectRoot });
  const [result] = await eslint.lintText(code, { filePath: `${projectRoot}/${file}` });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

test('an import against the layers fails the lint, naming what the part may import', async () => {
  const cases: Array<[string, string]> = [
    [
      'src/ec2/x.ts',
      "import { stringOpt } from '../cli/command.js';\nexport const x = stringOpt;\n",
    ],
    [
      'src/lib/x.ts',
      "import { recipeSchema } from '../recipe/schema.js';\nexport const x = recipeSchema;\n",
    ],
    [
      'data-sync/src/x.ts',
      "import { parseSize } from '../../src/serve/x.js';\nexport const x = parseSize;\n",
    ],
    [
      'src/serve/x.ts',
      "import { runAgent } from '../agent/agent.js';\nexport const x = runAgent;\n",
    ],
  ];
  for (const [file, code] of cases) {
    const messages = await messagesFor(file, code);
    assert.equal(messages.length, 1, `${file}: ${messages.join('; ')}`);
    assert.match(messages[0]!, /may import only/);
  }
});

test('imports along the layers pass', async () => {
  assert.deepEqual(
    await messagesFor(
      'src/agent/x.ts',
      "import { createDataSync } from '../../data-sync/src/index.js';\nexport const x = createDataSync;\n",
    ),
    [],
  );
  assert.deepEqual(
    await messagesFor(
      'src/cli/x.ts',
      "import { runAgent } from '../agent/agent.js';\nexport const x = runAgent;\n",
    ),
    [],
  );
});
