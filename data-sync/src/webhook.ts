// The push webhook: GitHub-style `X-Hub-Signature-256: sha256=<hex>` (an HMAC of the raw body with a
// shared secret), checked in constant time. Framework-free: the agent mounts the handler at
// POST /_gitstrap/hooks/sync. The secret is read from a file on the instance, never from user-data.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../src/lib/log.js';
import { silentLogger } from '../../src/lib/log.js';
import { createRecentDeliveries } from './recent-deliveries.js';

/** How long, and how many, delivery ids are remembered to recognise a replay or redelivery. */
export const DELIVERY_WINDOW_MS = 60 * 60_000;
export const DELIVERY_MEMORY = 1000;

/** Whether `header` is the HMAC-SHA256 of `body` with `secret`, as GitHub sends it. */
export function verifyHubSignature(
  secret: Buffer | string,
  body: Buffer,
  header: string | undefined,
): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;
export interface WebhookResponse {
  status: number;
  body: string;
}
export type WebhookHandler = (headers: WebhookHeaders, rawBody: Buffer) => Promise<WebhookResponse>;

export interface WebhookHandlerOptions {
  /** The file holding the shared secret (recipe data.webhook.secret_file); trailing newlines ignored. */
  secretFile: string;
  /** Starts a sync; pass a coalescing trigger so a burst becomes one sync. Not awaited. */
  trigger: () => unknown;
  logger?: Logger;
  /** A delivery id seen again within this time is not synced again (default 1 h). */
  deliveryWindowMs?: number;
  /** The most delivery ids remembered (default 1000; the oldest are forgotten first). */
  deliveryMemory?: number;
  now?: () => number;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * The handler: 401 on a bad or missing signature (nothing happens), 202 when a sync is queued, 200
 * without a sync for a ping or for a delivery id already accepted within the window (a replay or a
 * redelivery).
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const logger = options.logger ?? silentLogger;
  const recent = createRecentDeliveries({
    windowMs: options.deliveryWindowMs ?? DELIVERY_WINDOW_MS,
    max: options.deliveryMemory ?? DELIVERY_MEMORY,
    ...(options.now ? { now: options.now } : {}),
  });
  return async (headers, rawBody) => {
    let secret: Buffer;
    try {
      secret = await readFile(options.secretFile);
    } catch (error) {
      logger.log('error', 'data.webhook.no-secret', {
        file: options.secretFile,
        error: (error as NodeJS.ErrnoException).code ?? (error as Error).message,
      });
      return { status: 500, body: 'webhook secret is not available on this instance\n' };
    }
    let end = secret.length;
    while (end > 0 && (secret[end - 1] === 0x0a || secret[end - 1] === 0x0d)) end--;
    secret = secret.subarray(0, end);
    if (secret.length === 0) {
      logger.log('error', 'data.webhook.no-secret', { file: options.secretFile, error: 'empty' });
      return { status: 500, body: 'webhook secret is not available on this instance\n' };
    }
    const signature = header(headers, 'x-hub-signature-256');
    if (!verifyHubSignature(secret, rawBody, signature)) {
      logger.log('warn', 'data.webhook.rejected', {
        reason: signature ? 'bad signature' : 'no signature',
        delivery: header(headers, 'x-github-delivery'),
      });
      return { status: 401, body: 'bad or missing X-Hub-Signature-256\n' };
    }
    const githubEvent = header(headers, 'x-github-event');
    if (githubEvent === 'ping') return { status: 200, body: 'pong\n' };
    // GitHub's ids are GUIDs; a longer value is cut so the memory of ids stays small.
    const delivery = header(headers, 'x-github-delivery')?.slice(0, 100);
    // Log fields never use the names of the line's own fields (time, level, event).
    const fields = {
      ...(githubEvent !== undefined ? { githubEvent } : {}),
      ...(delivery !== undefined ? { delivery } : {}),
    };
    if (delivery !== undefined && recent.seen(delivery)) {
      logger.log('info', 'data.webhook.duplicate', fields);
      return {
        status: 200,
        body: `delivery ${delivery} was already accepted; no new sync\n`,
      };
    }
    logger.log('info', 'data.webhook.accepted', fields);
    Promise.resolve()
      .then(() => options.trigger())
      .catch((error: unknown) =>
        logger.log('warn', 'data.webhook.trigger-failed', { error: (error as Error).message }),
      );
    return { status: 202, body: 'sync queued\n' };
  };
}
