// The static data source's recipe keys (data.source.static, publish.mirror): what they take, and
// what they refuse, with the key named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRecipe } from '../../src/recipe/load.js';

const recipe = (data: string, publish = '') =>
  parseRecipe(
    `name: keys\nservice: { repo: https://h.example/s.git, runtime: static }\ndata: { repo: https://h.example/d.git, mount: d, ${data} }\n${publish}`,
    'r.yaml',
  );
const problems = (data: string, publish = '') =>
  recipe(data, publish).problems.map(
    (p) => `${p.path.join('.')}: ${p.message}${p.hint ? ` (hint: ${p.hint})` : ''}`,
  );
const STATIC = 'source: { static: "https://cdn.example/open-qa/" }';

describe('data.source and publish.mirror', () => {
  test('take an http(s) folder URL and an absolute folder', () => {
    const r = recipe(STATIC, 'publish: { mirror: /srv/mirror/open-qa }\n');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.recipe?.data?.source, { static: 'https://cdn.example/open-qa/' });
    assert.equal(r.recipe?.publish?.mirror, '/srv/mirror/open-qa');
    assert.deepEqual(problems('source: { static: "http://127.0.0.1:8080" }'), []);
  });

  test('refuse what the static mirror does not carry, naming the key', () => {
    const hint =
      'remove it, or pull from data.repo with git (remove data.source): the static mirror carries one commit of the data repo, whole';
    assert.deepEqual(
      problems(`${STATIC}, submodules: true, lfs: true, sparse: [docs], filter: "blob:none"`),
      [
        `data.submodules: data.submodules fetches submodules from their own repos, which data.source.static does not support (hint: ${hint})`,
        `data.lfs: data.lfs downloads Git LFS objects from the LFS endpoint of data.repo, which data.source.static does not support (hint: ${hint})`,
        `data.sparse: data.sparse checks out part of the data repo, which data.source.static does not support (hint: ${hint})`,
        `data.filter: data.filter makes a partial clone, which data.source.static does not support (hint: ${hint})`,
      ],
    );
    assert.deepEqual(problems(`${STATIC}, ref: ${'a'.repeat(40)}`), [
      'data.ref: data.ref pins a commit, but data.source.static follows the branch the mirror publishes (hint: set data.ref to the branch bootstrap publish pushes (e.g. main), or remove data.source to pin a commit)',
    ]);
  });

  test('refuse URLs and paths that are not what they should be', () => {
    const url = (value: string) => problems(`source: { static: ${JSON.stringify(value)} }`);
    for (const bad of [
      'ftp://cdn.example/x/',
      's3://bucket/prefix/',
      'https://cdn.example/x/?v=1',
      'cdn.example/x',
    ]) {
      assert.deepEqual(
        url(bad),
        [
          `data.source.static: expected an http:// or https:// URL of a folder, without ?query or #fragment, got ${JSON.stringify(bad)}`,
        ],
        bad,
      );
    }
    assert.match(
      url('https://user:secret@cdn.example/x/').join('\n'),
      /^data\.source\.static: carries a credential/,
    );
    assert.deepEqual(problems('source: { git: true }'), [
      'data.source.static: is required (expected a string)',
      'data.source.git: unknown key (hint: allowed here: static)',
    ]);
    assert.deepEqual(problems('', 'publish: { mirror: mirror/open-qa }\n'), [
      'publish.mirror: expected an absolute path on the publishing machine, without ".." segments, got "mirror/open-qa"',
    ]);
  });
});
