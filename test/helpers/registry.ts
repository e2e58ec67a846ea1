// A real npm registry on 127.0.0.1 for tests: verdaccio (no uplinks: it knows only what a test
// publishes), and gitstrap packed by `npm pack` as a release would be. Publishing speaks npm's
// publish protocol (PUT /NAME with the tarball attached), as `npm publish` does.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { list } from 'tar';
import { freePort, startProcess, waitFor, type Started } from './proc.js';
import { tempDir } from './tmp.js';
import { projectRoot } from './tools.js';

export interface Registry {
  /** http://127.0.0.1:PORT/ */
  url: string;
  port: number;
  process: Started;
  /** Publishes a package tarball (.tgz); resolves with its name@version. */
  publish(tarball: string): Promise<string>;
  /** The paths the registry was asked for, in order (from its access log). */
  requests(): string[];
}

const VERDACCIO = path.join(projectRoot, 'node_modules/verdaccio/bin/verdaccio');

/** Starts verdaccio with an empty storage; stopped (by PID) after the test. */
export async function startRegistry(t: Pick<TestContext, 'after'>): Promise<Registry> {
  const dir = tempDir(t, 'gitstrap-registry-');
  const port = await freePort();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${path.join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(dir, 'htpasswd')}`,
      '    max_users: -1',
      'uplinks: {}',
      'packages:',
      "  '@*/*': { access: $all, publish: $anonymous }",
      "  '**': { access: $all, publish: $anonymous }",
      'log: { type: stdout, format: json, level: http }',
      '',
    ].join('\n'),
  );
  const proc = startProcess(t, process.execPath, [
    VERDACCIO,
    '--config',
    config,
    '--listen',
    `127.0.0.1:${port}`,
  ]);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(
    async () => ((await fetch(`${url}-/ping`)).ok ? true : undefined),
    `verdaccio on port ${port} (its output: ${proc.output().slice(-500)})`,
    30_000,
  );
  return {
    url,
    port,
    process: proc,
    publish: (tarball) => publishTarball(url, tarball),
    requests: () =>
      proc
        .output()
        .split('\n')
        .flatMap((line) => {
          try {
            const entry = JSON.parse(line) as { req?: { url?: string } };
            return entry.req?.url ? [entry.req.url] : [];
          } catch {
            return [];
          }
        }),
  };
}

/** The package.json inside an npm tarball. */
export async function readTarballManifest(tarball: string): Promise<Record<string, unknown>> {
  let text: string | undefined;
  await list({
    file: tarball,
    filter: (p) => /^[^/]+\/package\.json$/.test(p),
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => (text ??= Buffer.concat(chunks).toString('utf8')));
    },
  });
  if (text === undefined) throw new Error(`${tarball} holds no package.json`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function publishTarball(registry: string, tarball: string): Promise<string> {
  const data = readFileSync(tarball);
  const manifest = await readTarballManifest(tarball);
  const name = String(manifest.name);
  const version = String(manifest.version);
  const file = `${name.split('/').pop()}-${version}.tgz`;
  const body = {
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        dist: {
          shasum: createHash('sha1').update(data).digest('hex'),
          integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
          tarball: `${registry}${name}/-/${file}`,
        },
      },
    },
    _attachments: {
      [file]: {
        content_type: 'application/octet-stream',
        data: data.toString('base64'),
        length: data.length,
      },
    },
  };
  const response = await fetch(`${registry}${name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`publishing ${name}@${version}: ${response.status} ${await response.text()}`);
  }
  return `${name}@${version}`;
}

/** gitstrap as `npm pack` makes it for a release (a clean build, the package's `files`), packed from
 * a copy of the package so the checkout's dist/ is left alone; returns the tarball's path. */
export function packGitstrap(dir: string): string {
  const copy = path.join(dir, 'package');
  mkdirSync(copy, { recursive: true });
  for (const entry of ['package.json', 'README.md', 'bin', 'recipes', 'userdata']) {
    cpSync(path.join(projectRoot, entry), path.join(copy, entry), { recursive: true });
  }
  run(process.execPath, ['scripts/build.mjs', '--out', path.join(copy, 'dist')], projectRoot);
  const packed = run(
    'npm',
    ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'],
    copy,
  );
  const [info] = JSON.parse(packed) as Array<{ filename: string }>;
  if (!info) throw new Error(`npm pack printed no package: ${packed}`);
  return path.join(dir, info.filename);
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

/** The .tgz files in a folder. */
export function tarballsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => path.join(dir, f));
}
