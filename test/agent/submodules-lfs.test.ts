// Submodules and Git LFS in both repos, through the real agent: a static service whose theme is a
// submodule and whose logo is in LFS, a data repo with a submodule and an LFS file, all on one git
// host with an LFS API (git smart HTTP + batch API on 127.0.0.1). What is served, and what the
// status page and status.json say about the submodule commits and the LFS files.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { commitFiles, git, makeRepo, pinSubmodule } from '../helpers/git.js';
import { startGitLfsServer } from '../helpers/git-lfs-server.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { get, startAgent } from './harness.js';

const LOGO = Buffer.from('logo-bytes-'.repeat(300));
const BIG = Buffer.from('big-data-'.repeat(900));

describe('submodules and Git LFS through the agent', () => {
  test('both repos: submodules in place, LFS content served, and the status shows their commits and totals', async (t) => {
    requireTool('git-lfs', 'git-lfs');
    const dir = tempDir(t, 'gitstrap-agent-repos-');
    const repo = (name: string) => path.join(dir, 'repos', name);
    const theme = makeRepo(repo('theme'), { 'theme.css': 'body { margin: 0 }\n' });
    const lib = makeRepo(repo('lib'), { 'lib.txt': 'from the lib submodule\n' });

    makeRepo(repo('svc'), { 'index.html': '<p>service</p>' });
    git(repo('svc'), 'lfs', 'install', '--local');
    git(repo('svc'), 'lfs', 'track', '*.bin');
    pinSubmodule(repo('svc'), { path: 'theme', url: '../theme', commit: theme });
    commitFiles(repo('svc'), { 'logo.bin': LOGO, 'data/.gitkeep': '' });

    makeRepo(repo('data'), { 'results.json': '{"total": 2}' });
    git(repo('data'), 'lfs', 'install', '--local');
    git(repo('data'), 'lfs', 'track', '*.bin');
    pinSubmodule(repo('data'), { path: 'lib', url: '../lib', commit: lib });
    const data = commitFiles(repo('data'), { 'big.bin': BIG });

    const server = await startGitLfsServer(t, path.join(dir, 'repos'));
    server.storeFrom(repo('svc'));
    server.storeFrom(repo('data'));
    const agent = await startAgent(t, dir, {
      name: 'repos-as-kept',
      service: { repo: server.url('svc'), runtime: 'static', submodules: true, lfs: true },
      data: { repo: server.url('data'), mount: 'data', submodules: true, lfs: true },
    });

    assert.equal((await get(`${agent.url}/theme/theme.css`)).body, 'body { margin: 0 }\n');
    assert.equal((await get(`${agent.url}/logo.bin`)).body, LOGO.toString());
    assert.equal((await get(`${agent.url}/data/big.bin`)).body, BIG.toString());
    assert.equal((await get(`${agent.url}/data/lib/lib.txt`)).body, 'from the lib submodule\n');

    const status = JSON.parse((await get(`${agent.url}/_gitstrap/status.json`)).body);
    assert.deepEqual(status.service.submodules, [
      { path: 'theme', commit: theme, url: server.url('theme') },
    ]);
    assert.equal(status.data.commit, data);
    assert.deepEqual(status.data.submodules, [
      { path: 'lib', commit: lib, url: server.url('lib') },
    ]);
    assert.deepEqual(status.data.lfs, {
      files: 1,
      objects: 1,
      bytes: BIG.length,
      downloaded: 1,
      outsideSparse: 0,
      outsideSparseBytes: 0,
    });
    const page = (await get(`${agent.url}/_gitstrap/`)).body;
    assert.match(page, new RegExp(`<code>theme</code> at <code>${theme.slice(0, 12)}</code>`));
    assert.match(page, new RegExp(`<code>lib</code> at <code>${lib.slice(0, 12)}</code>`));
    assert.match(
      page,
      /<dt>Git LFS<\/dt><dd>1 file \(1 object, 7\.9 KB\); 1 downloaded for this version<\/dd>/,
    );
  });
});
