// The static mirror's pure planners (data-sync/src/static-plan.ts), pinned by golden files: the
// pointer as publish writes it and what the agent refuses in one, which bundle an agent downloads,
// a bundle's header, the mirror's URLs and what a publish prunes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bundleFile,
  chooseBundle,
  formatPointer,
  MIRROR_FORMAT,
  mirrorUrl,
  parseBundleHeader,
  parsePointer,
  planMirrorPrune,
  pointerMatchesRef,
  type MirrorPointer,
} from '../../data-sync/src/static-plan.js';
import { assertGolden, assertGoldenText, goldenDir } from '../helpers/golden.js';

const GOLDEN = goldenDir('data-sync');
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function pointer(commit: string, from?: string): MirrorPointer {
  return {
    format: MIRROR_FORMAT,
    ref: 'refs/heads/main',
    commit,
    published: '2024-05-02T00:01:00.000Z',
    bundles: [
      { file: bundleFile(commit), size: 1234, sha256: '1'.repeat(64) },
      ...(from
        ? [{ file: bundleFile(commit, from), size: 321, sha256: '2'.repeat(64), from }]
        : []),
    ],
  };
}

describe('static mirror plans', () => {
  test('the pointer as publish writes it, read back the same', () => {
    const text = formatPointer(pointer(B, A));
    assertGoldenText(GOLDEN, 'static-pointer.json', text);
    assert.deepEqual(parsePointer(text), { ok: true, pointer: pointer(B, A) });
  });

  test('what an agent refuses in a pointer, and why', () => {
    const good = JSON.parse(formatPointer(pointer(B, A))) as Record<string, unknown>;
    const bundles = good.bundles as Array<Record<string, unknown>>;
    const variants: Record<string, unknown> = {
      'not JSON': '<html>',
      'an array': [],
      'another format': { ...good, format: 'gitstrap-data-mirror/2' },
      'a short commit': { ...good, commit: B.slice(0, 12) },
      'a tag': { ...good, ref: 'refs/tags/v1' },
      'no bundles': { ...good, bundles: [] },
      'a bundle outside bundles/': {
        ...good,
        bundles: [{ ...bundles[0], file: `../${B}.bundle` }],
      },
      'a bundle of another commit': { ...good, bundles: [{ ...bundles[0], file: bundleFile(C) }] },
      'from not matching the name': { ...good, bundles: [bundles[0], { ...bundles[1], from: C }] },
      'a fractional size': { ...good, bundles: [{ ...bundles[0], size: 1.5 }] },
      'a short sha256': { ...good, bundles: [{ ...bundles[0], sha256: 'abc' }] },
      'only an incremental bundle': { ...good, bundles: [bundles[1]] },
    };
    const reasons = Object.fromEntries(
      Object.entries(variants).map(([name, value]) => {
        const parsed = parsePointer(typeof value === 'string' ? value : JSON.stringify(value));
        return [name, parsed.ok ? 'accepted' : parsed.why];
      }),
    );
    assertGolden(GOLDEN, 'static-pointer-refusals', reasons);
    assert.ok(Object.values(reasons).every((r) => r !== 'accepted'));
  });

  test('which bundle an agent downloads', () => {
    const choices = {
      'serving the from commit': chooseBundle(pointer(B, A), A).file,
      'serving another commit': chooseBundle(pointer(B, A), C).file,
      'serving nothing': chooseBundle(pointer(B, A), undefined).file,
      'no incremental offered': chooseBundle(pointer(B), A).file,
    };
    assertGolden(GOLDEN, 'static-bundle-choice', choices);
  });

  test('bundle headers: refs and prerequisites, or why it is no bundle', () => {
    const headers = {
      full: `# v2 git bundle\n${B} refs/heads/main\n\nPACK...`,
      incremental: `# v2 git bundle\n-${A} Publish day 1\n${B} refs/heads/main\n\nPACK...`,
      v3: `# v3 git bundle\n@object-format=sha1\n${B} refs/heads/main\n\nPACK...`,
      html: '<html><body>Not Found</body></html>\n\n',
      truncated: `# v2 git bundle\n${B} refs/he`,
      'stray line': `# v2 git bundle\n${B} refs/heads/main\nrm -rf /\n\nPACK`,
    };
    const read = Object.fromEntries(
      Object.entries(headers).map(([name, text]) => [
        name,
        parseBundleHeader(Buffer.from(text, 'latin1')),
      ]),
    );
    assertGolden(GOLDEN, 'static-bundle-headers', read);
  });

  test('mirror URLs stay under the folder; the branch must be data.ref', () => {
    const urls = {
      'folder with slash': mirrorUrl('https://cdn.example/open-qa/', 'gitstrap-data.json'),
      'folder without slash': mirrorUrl('https://cdn.example/open-qa', bundleFile(B, A)),
      'host only': mirrorUrl('http://127.0.0.1:8080', 'gitstrap-data.json'),
    };
    assertGolden(GOLDEN, 'static-urls', urls);
    assert.equal(pointerMatchesRef(pointer(B), 'main'), true);
    assert.equal(pointerMatchesRef(pointer(B), 'refs/heads/main'), true);
    assert.equal(pointerMatchesRef(pointer(B), 'master'), false);
  });

  test('a publish keeps the new and the previous pointer’s bundles, and drops the rest', () => {
    const files = [
      bundleFile(A),
      bundleFile(B),
      bundleFile(B, A),
      bundleFile(C),
      bundleFile(C, B),
      `bundles/.${C}.bundle.tmp-4242`,
    ];
    assertGolden(GOLDEN, 'static-prune', {
      'after C (previous B)': planMirrorPrune(files, [pointer(C, B), pointer(B, A)]),
      'first mirror': planMirrorPrune(files, [pointer(C), undefined]),
    });
  });
});
