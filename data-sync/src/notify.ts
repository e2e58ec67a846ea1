// Telling the service that a new data version is live: a signal to its process, a command, or an
// HTTP POST. A failed notification is reported, but does not undo the publish.
import http from 'node:http';
import { fillArgv, fillPlaceholders, type PlaceholderValues } from '../../src/lib/placeholders.js';
import type { DataConfig } from '../../src/recipe/schema.js';
import { describeExit, type Exec } from './exec.js';
import { lastLines } from './failure.js';

export interface NotifyContext {
  servicePid?: () => number | undefined;
  exec: Exec;
  placeholders: PlaceholderValues;
  env: NodeJS.ProcessEnv;
  /** What was published: the commit, the one before, the version folder. */
  event: { commit: string; previous?: string; dir: string };
  timeoutMs?: number;
}

/** POSTs a small JSON body; resolves on 2xx, rejects otherwise. (node:https loads on first use.) */
export async function postJson(url: string, body: unknown, timeoutMs: number): Promise<number> {
  const payload = Buffer.from(JSON.stringify(body));
  const target = new URL(url);
  const client = target.protocol === 'https:' ? (await import('node:https')).default : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(status);
          else reject(new Error(`POST ${url} answered ${status}`));
        });
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`POST ${url} timed out after ${timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** Runs the recipe's notify hook; throws an Error with a readable message when it fails. */
export async function notifyService(
  notify: DataConfig['notify'],
  ctx: NotifyContext,
): Promise<void> {
  if (!notify) return;
  const timeoutMs = ctx.timeoutMs ?? 30_000;
  const values = { ...ctx.placeholders, data: ctx.event.dir };
  if (notify.signal) {
    const pid = ctx.servicePid?.();
    if (pid === undefined)
      throw new Error(`notify.signal: no service process to send ${notify.signal} to`);
    process.kill(pid, notify.signal);
    return;
  }
  if (notify.run) {
    const argv = fillArgv(notify.run, values);
    const result = await ctx.exec(argv, {
      env: { ...ctx.env, GITSTRAP_DATA_COMMIT: ctx.event.commit },
      timeoutMs,
    });
    if (result.code !== 0) {
      const output = lastLines(result.stderr || result.stdout, 3).join('; ');
      throw new Error(
        `notify.run ${argv[0]} failed (${describeExit(result, timeoutMs)})${output ? `: ${output}` : ''}`,
      );
    }
    return;
  }
  if (notify.http) {
    const url = fillPlaceholders(notify.http, values);
    await postJson(url, { event: 'data.published', ...ctx.event }, timeoutMs);
  }
}
