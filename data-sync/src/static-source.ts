// data.source.static: the data repo's versions read from a static mirror (publish.mirror, uploaded to
// any HTTP host, S3 or a CDN). A poll is a conditional GET of the pointer (If-None-Match: the last
// ETag, kept in memory and in data/static.json): 304 = unchanged, and no git runs at all. A new
// pointer names a bundle; it is downloaded to staging/ (bounded by its size and data.limits), its
// sha256 checked against the pointer, fetched into repo.git (git checks every object id), and the
// commit git fetched must be the pointer's. Then the engine builds it as it builds a git fetch.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { DataConfig } from '../../src/recipe/schema.js';
import { lastLines, redactCredentials, SyncFailure } from './failure.js';
import { FETCHED_REF } from './fetch-plan.js';
import type { Git } from './git.js';
import type { DataLayout } from './layout.js';
import { resolveLimits } from './limits.js';
import { HALF_UPLOADED, httpFailure, httpGet, MIRROR_HINT } from './mirror-http.js';
import {
  chooseBundle,
  mirrorUrl,
  parseBundleHeader,
  parsePointer,
  pointerMatchesRef,
  POINTER_FILE,
  POINTER_MAX_BYTES,
  type MirrorPointer,
} from './static-plan.js';

/** What the agent remembers of the last pointer it synced (data/static.json). */
interface Remembered {
  url: string;
  etag: string;
  commit: string;
}

/** The answer to one poll: the commit the mirror serves, and the pointer when it was downloaded. */
export interface StaticTarget {
  commit: string;
  /** Absent when the server answered 304 (the remembered commit). */
  pointer?: MirrorPointer;
  etag?: string;
}

export interface StaticSource {
  /** Asks the mirror for its pointer (conditional GET); no git. */
  poll(signal?: AbortSignal): Promise<StaticTarget>;
  /** Downloads, checks and fetches the pointer's bundle into the cache; returns the commit. */
  fetch(
    git: Git,
    target: StaticTarget,
    have: string | undefined,
    signal?: AbortSignal,
  ): Promise<string>;
  /** Records a target synced (published or already served): its ETag makes the next poll conditional. */
  remember(target: StaticTarget): void;
  /** Forgets the remembered ETag: the next poll downloads the pointer. */
  forget(): void;
}

/** The static source of one data folder. */
export function createStaticSource(options: {
  layout: DataLayout;
  data: DataConfig;
  /** Time limit of each HTTP request (default 10 min for a bundle, 1 min for the pointer). */
  timeoutMs?: number;
}): StaticSource {
  const { layout, data } = options;
  const base = data.source!.static!;
  const pointerUrl = mirrorUrl(base, POINTER_FILE);
  const stateFile = path.join(layout.dir, 'static.json');
  let remembered = readRemembered(stateFile, pointerUrl);
  // Polls are minutes apart: a connection per request (as on every Node version; Node 20's global
  // agent would keep them alive), with TLS sessions kept and resumed (a shorter handshake).
  const agents = {
    http: new http.Agent({ keepAlive: false }),
    https: new https.Agent({ keepAlive: false, maxCachedSessions: 4 }),
  };

  return {
    async poll(signal) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (remembered) headers['if-none-match'] = remembered.etag;
      const answer = await httpGet(pointerUrl, {
        agents,
        headers,
        maxBytes: POINTER_MAX_BYTES,
        timeoutMs: options.timeoutMs ?? 60_000,
        ...(signal ? { signal } : {}),
      });
      if (answer.status === 304 && remembered) return { commit: remembered.commit };
      if (answer.status !== 200) throw httpFailure(pointerUrl, answer, MIRROR_HINT);
      const parsed = parsePointer(answer.body!.toString('utf8'));
      if (!parsed.ok) {
        throw new SyncFailure(
          'fetch',
          `${redactCredentials(pointerUrl)} is not a gitstrap mirror pointer: ${parsed.why}`,
          'point data.source.static at the folder bootstrap publish writes with publish.mirror',
        );
      }
      const { pointer } = parsed;
      if (!pointerMatchesRef(pointer, data.ref)) {
        throw new SyncFailure(
          'fetch',
          `${redactCredentials(pointerUrl)} publishes ${pointer.ref}, but data.ref is ${data.ref}`,
          'set data.ref to the branch bootstrap publish pushes, or point data.source.static at the mirror of data.ref',
        );
      }
      return { commit: pointer.commit, pointer, ...(answer.etag ? { etag: answer.etag } : {}) };
    },

    async fetch(git, target, have, signal) {
      const pointer = target.pointer;
      if (!pointer) throw new Error('static source: fetch needs a downloaded pointer');
      const bundle = chooseBundle(pointer, have);
      const url = mirrorUrl(base, bundle.file);
      const shown = redactCredentials(url);
      const limits = resolveLimits(data.limits);
      if (bundle.size > limits.maxBytes) {
        throw new SyncFailure(
          'fetch',
          `${shown} is ${bundle.size} bytes, over data.limits.max_bytes (${limits.maxBytesText})`,
          'raise data.limits.max_bytes if this data is expected to be that large',
        );
      }
      const file = path.join(layout.staging, `bundle-${process.pid}.tmp`);
      mkdirSync(layout.staging, { recursive: true });
      try {
        const answer = await httpGet(url, {
          agents,
          headers: {},
          maxBytes: bundle.size,
          timeoutMs: options.timeoutMs ?? 10 * 60_000,
          file,
          ...(signal ? { signal } : {}),
        });
        if (answer.status !== 200) {
          throw httpFailure(url, answer, answer.status === 404 ? HALF_UPLOADED : MIRROR_HINT);
        }
        if (answer.bytes !== bundle.size || answer.sha256 !== bundle.sha256) {
          throw new SyncFailure(
            'fetch',
            `${shown} does not match the pointer (${answer.bytes} bytes, sha256 ${answer.sha256.slice(0, 16)}…; the pointer says ${bundle.size} bytes, sha256 ${bundle.sha256.slice(0, 16)}…): not published`,
            `the mirror changed under this download or was altered; ${HALF_UPLOADED}`,
          );
        }
        return await fetchBundle(git, layout, file, pointer, shown);
      } finally {
        rmSync(file, { force: true });
      }
    },

    remember(target) {
      if (!target.etag || (remembered && remembered.etag === target.etag)) return;
      remembered = { url: pointerUrl, etag: target.etag, commit: target.commit };
      const tmp = `${stateFile}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, JSON.stringify(remembered) + '\n');
        renameSync(tmp, stateFile);
      } catch {
        // kept in memory; a restart asks for the whole pointer once
      }
    },

    forget() {
      remembered = undefined;
      rmSync(stateFile, { force: true });
    },
  };
}

/** The remembered pointer, if it is for this URL. */
function readRemembered(file: string, url: string): Remembered | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<Remembered>;
    if (r.url === url && typeof r.etag === 'string' && typeof r.commit === 'string') {
      return { url, etag: r.etag, commit: r.commit };
    }
  } catch {
    // none yet
  }
  return undefined;
}

/**
 * Fetches the downloaded bundle into the cache: its header must name the pointer's commit, the
 * commit is marked shallow (a full bundle holds it without its parents, as --depth=1 would), and
 * `git fetch` from the file checks every object; the ref fetched must then be the pointer's commit.
 */
async function fetchBundle(
  git: Git,
  layout: DataLayout,
  file: string,
  pointer: MirrorPointer,
  shown: string,
): Promise<string> {
  const handle = await open(file, 'r');
  const head = Buffer.alloc(64 * 1024);
  let read: number;
  try {
    ({ bytesRead: read } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  const parsed = parseBundleHeader(head.subarray(0, read));
  if (!parsed.ok) {
    throw new SyncFailure('fetch', `${shown} is not usable: ${parsed.why}`, HALF_UPLOADED);
  }
  const ref = parsed.header.refs.find((r) => r.commit === pointer.commit);
  if (!ref) {
    const holds = parsed.header.refs.map((r) => r.commit.slice(0, 12)).join(', ') || 'no commit';
    throw new SyncFailure(
      'fetch',
      `${shown} holds ${holds}, not ${pointer.commit.slice(0, 12)} that the pointer names: not published`,
      'the pointer and its bundles disagree; publish again (bootstrap publish rewrites the mirror)',
    );
  }
  const shallowFile = path.join(layout.repo, 'shallow');
  let before: string | undefined;
  try {
    before = readFileSync(shallowFile, 'utf8');
  } catch {
    before = undefined;
  }
  const lines = new Set((before ?? '').split('\n').filter(Boolean));
  const marked = !lines.has(pointer.commit);
  if (marked) {
    lines.add(pointer.commit);
    writeFileSync(`${shallowFile}.gitstrap-tmp`, [...lines].join('\n') + '\n');
    renameSync(`${shallowFile}.gitstrap-tmp`, shallowFile);
  }
  const restore = () => {
    if (!marked) return;
    if (before === undefined) rmSync(shallowFile, { force: true });
    else writeFileSync(shallowFile, before);
  };
  const args = ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', file];
  const result = await git.run([...args, `+${ref.name}:${FETCHED_REF}`]);
  if (result.code !== 0) {
    restore();
    const why = lastLines(redactCredentials(result.stderr), 3).join('; ');
    throw new SyncFailure(
      'fetch',
      `git fetch from ${shown} failed${why ? `: ${why}` : ''}: not published`,
      'the bundle is damaged or incomplete; publish again (bootstrap publish rewrites the mirror)',
    );
  }
  const fetched = (
    await git.ok('fetch', ['rev-parse', '--verify', '--quiet', `${FETCHED_REF}^{commit}`])
  ).trim();
  if (fetched !== pointer.commit) {
    throw new SyncFailure(
      'fetch',
      `${shown} gave commit ${fetched.slice(0, 12)}, not ${pointer.commit.slice(0, 12)} that the pointer names: not published`,
      'the pointer and its bundles disagree; publish again (bootstrap publish rewrites the mirror)',
    );
  }
  return fetched;
}
