// The pieces of the whole-product VM test (product.vm.ts): the service and data repos it serves, the
// user-data rendered by the built CLI from fixtures/vm-product.yaml with --set pointing at the host's
// servers, a signed webhook call, and a watcher that records every answer the service gives.
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AGENT_BUNDLE, runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { projectRoot } from '../helpers/tools.js';

/** The test recipe; its name is the instance name of the agent's unit. */
export const PRODUCT_RECIPE = path.join(projectRoot, 'test/vm/fixtures/vm-product.yaml');
export const PRODUCT_NAME = 'vm-product';
/** serve.port of the test recipe. */
export const PRODUCT_PORT = 8080;
/** data.webhook.secret_file of the test recipe. */
export const WEBHOOK_SECRET_FILE = '/etc/gitstrap/webhook-secret';

/**
 * A service repo whose server.js answers every request with data/message.txt, read on each
 * request through the data mount (so a new data version shows at once), 500 when it cannot.
 */
export function makeProductService(dir: string): string {
  return makeRepo(dir, {
    'server.js': [
      "const http = require('node:http');",
      "const fs = require('node:fs');",
      "const path = require('node:path');",
      "const file = path.join(__dirname, 'data', 'message.txt');",
      'http',
      '  .createServer((req, res) => {',
      '    fs.readFile(file, (error, body) => {',
      '      if (error) return res.writeHead(500).end(`${error.code}\\n`);',
      "      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);",
      '    });',
      '  })',
      "  .listen(Number(process.argv[2]), '127.0.0.1');",
      '',
    ].join('\n'),
  });
}

/** gitstrap's user-data for the test recipe (or another), rendered by the built CLI with these
 * --set values. */
export async function renderProductUserData(
  sets: Record<string, string>,
  recipe = PRODUCT_RECIPE,
): Promise<string> {
  if (!existsSync(AGENT_BUNDLE)) {
    throw new Error(`${AGENT_BUNDLE} is missing: run npm run build first (npm test does)`);
  }
  const args = ['userdata', '--recipe', recipe];
  for (const [key, value] of Object.entries(sets)) args.push('--set', `${key}=${value}`);
  const result = await runCli(args);
  if (result.code !== 0) {
    throw new Error(`bootstrap ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
  }
  return result.stdout;
}

/** GitHub's X-Hub-Signature-256 for `body`. */
export function hubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs a push event to the agent's webhook; returns the status. */
export async function callWebhook(
  url: string,
  body: string,
  signature: string | undefined,
): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      ...(signature ? { 'x-hub-signature-256': signature } : {}),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** One answer (or failure to answer) the watcher saw. */
export interface Seen {
  at: number;
  status: number | 'error';
  body: string;
}

/** Polls `url` every `everyMs` until stopped, recording every answer in order. */
export function watchService(url: string, everyMs = 250): { stop(): Promise<Seen[]> } {
  const seen: Seen[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        seen.push({ at, status: response.status, body: await response.text() });
      } catch (error) {
        seen.push({ at, status: 'error', body: String(error) });
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/**
 * What went wrong in a watcher's record: any answer that is not a 200 with one of `versions`
 * (in order), or that goes back to an earlier version. Empty when all is well.
 */
export function problemsIn(seen: readonly Seen[], versions: readonly string[]): string[] {
  const problems: string[] = [];
  let highest = 0;
  for (const s of seen) {
    const index = versions.indexOf(s.body);
    const when = new Date(s.at).toISOString();
    if (s.status !== 200) problems.push(`${when}: ${s.status} ${s.body.slice(0, 100)}`);
    else if (index < 0)
      problems.push(`${when}: 200 with unexpected body ${JSON.stringify(s.body)}`);
    else if (index < highest) problems.push(`${when}: went back to ${JSON.stringify(s.body)}`);
    else highest = index;
  }
  return problems;
}

/** The agent's status.json, the parts the test reads. */
export interface ProductStatus {
  service: { state: string; commit?: string };
  data?: {
    commit?: string;
    nextSync?: string;
    history: Array<{ outcome: string; trigger: string; commit?: string }>;
  };
}

/** GET /_gitstrap/status.json through the forwarded port. */
export async function readStatus(url: string): Promise<ProductStatus> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as ProductStatus;
}
