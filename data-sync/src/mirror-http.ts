// The static mirror over HTTP(S): one GET, no redirects followed, its body kept in memory (the
// pointer) or streamed to a file (a bundle), counted and hashed as it arrives and stopped past its
// size bound; and the failures it reports, each with what to check.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { redactCredentials, SyncFailure } from './failure.js';

/** What to check when the mirror cannot be read. */
export const MIRROR_HINT =
  'check data.source.static (the URL of the folder publish.mirror is uploaded to) and that this machine can reach it';
/** Why a bundle may be missing or short: the upload order. */
export const HALF_UPLOADED =
  'the mirror may be half-uploaded: upload the bundles before gitstrap-data.json (docs/fleet.md); the next poll tries again';

/** How the mirror answered one GET. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  etag?: string;
  location?: string;
  /** The body, when not written to a file. */
  body?: Buffer;
  bytes: number;
  sha256: string;
}

/** The failure for an answer other than 200: its status, where it moved to, what to check. */
export function httpFailure(url: string, answer: HttpAnswer, hint: string): SyncFailure {
  const moved = answer.location ? ` (to ${redactCredentials(answer.location)})` : '';
  return new SyncFailure(
    'fetch',
    `${redactCredentials(url)} answered HTTP ${answer.status} ${answer.statusText}${moved}`.trim(),
    answer.location ? 'set data.source.static to the URL it moved to' : hint,
  );
}

/**
 * One GET (no redirects followed): the body kept in memory or written to `file`, counted and hashed
 * as it arrives; more than `maxBytes` stops it.
 */
export function httpGet(
  url: string,
  o: {
    agents: { http: http.Agent; https: https.Agent };
    headers: Record<string, string>;
    maxBytes: number;
    timeoutMs: number;
    file?: string;
    signal?: AbortSignal;
  },
): Promise<HttpAnswer> {
  const shown = redactCredentials(url);
  return new Promise<HttpAnswer>((resolve, reject) => {
    const fail = (why: string, hint = MIRROR_HINT) =>
      reject(new SyncFailure('fetch', `cannot read ${shown}: ${why}`, hint));
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      fail('not a URL');
      return;
    }
    const tls = target.protocol === 'https:';
    const request = (tls ? https : http).get(
      target,
      {
        agent: tls ? o.agents.https : o.agents.http,
        headers: { 'user-agent': 'gitstrap-agent', ...o.headers },
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const answer: HttpAnswer = {
          status,
          statusText: response.statusMessage ?? '',
          bytes: 0,
          sha256: '',
          ...(typeof response.headers.etag === 'string' ? { etag: response.headers.etag } : {}),
          ...(typeof response.headers.location === 'string'
            ? { location: response.headers.location }
            : {}),
        };
        if (status !== 200) {
          response.resume();
          response.on('end', () => resolve(answer));
          response.on('error', () => resolve(answer));
          return;
        }
        const hash = createHash('sha256');
        const chunks: Buffer[] = [];
        const sink = o.file ? createWriteStream(o.file) : undefined;
        let failed = false;
        const stop = (why: string, hint?: string) => {
          if (failed) return;
          failed = true;
          response.destroy();
          sink?.destroy();
          fail(why, hint);
        };
        sink?.on('error', (error) => stop(error.message, 'is the disk full?'));
        response.on('data', (chunk: Buffer) => {
          answer.bytes += chunk.length;
          if (answer.bytes > o.maxBytes) {
            stop(
              `it is larger than ${o.maxBytes} bytes`,
              o.file ? `the pointer says ${o.maxBytes} bytes; ${HALF_UPLOADED}` : MIRROR_HINT,
            );
            return;
          }
          hash.update(chunk);
          if (sink) {
            if (!sink.write(chunk)) {
              response.pause();
              sink.once('drain', () => response.resume());
            }
          } else chunks.push(chunk);
        });
        response.on('error', (error) => stop(error.message));
        let ended = false;
        response.on('aborted', () => stop('the connection closed early'));
        response.on('close', () => {
          if (!ended) stop('the connection closed early');
        });
        response.on('end', () => {
          ended = true;
          if (failed) return;
          answer.sha256 = hash.digest('hex');
          if (!sink) {
            answer.body = Buffer.concat(chunks);
            resolve(answer);
            return;
          }
          sink.once('finish', () => {
            if (!failed) resolve(answer);
          });
          sink.end();
        });
      },
    );
    request.setTimeout(o.timeoutMs, () =>
      request.destroy(new Error(`no answer within ${o.timeoutMs} ms`)),
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (o.signal?.aborted) fail('interrupted');
      else fail(error.code ? `${error.code} ${error.message}` : error.message);
    });
  });
}
