// Every place text leaves the program goes through the one redaction: error messages, JSON log
// lines, the in-memory log, the status page and status.json, and data-sync's failure messages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactCredentials } from '../../data-sync/src/failure.js';
import { formatError, GitstrapError } from '../../src/lib/errors.js';
import { jsonLogger, memoryLogger } from '../../src/lib/log.js';
import { describeStatus, renderStatusPage, statusJson } from '../../src/serve/status-page.js';
import type { StatusData } from '../../src/serve/types.js';

// Built from parts, so no scanner mistakes this file for a leak.
const TOKEN = 'glpat-' + 'Vq3_'.repeat(6);
const URL_WITH_TOKEN = `https://oauth2:${TOKEN}@gitlab.example.org/x/data.git`;
const COMMIT = 'e83c5163316f89bfbde7d9ab23ca2e25604af290';

function assertClean(text: string): void {
  assert.ok(!text.includes(TOKEN.slice(6)), `a credential is shown:\n${text}`);
}

describe('every way out is redacted', () => {
  test('error messages, their details and hints, and the stack under --verbose', () => {
    const error = new GitstrapError(`cannot fetch ${URL_WITH_TOKEN}`, {
      details: [`fatal: ${TOKEN} rejected`],
      hint: `check ${URL_WITH_TOKEN}`,
    });
    for (const verbose of [false, true]) assertClean(formatError(error, verbose));
    assertClean(formatError(new Error(`boom ${TOKEN}`), true));
    assert.equal(
      formatError(new GitstrapError(`cannot fetch ${URL_WITH_TOKEN}`)),
      'error: cannot fetch https://***@gitlab.example.org/x/data.git',
    );
  });

  test('JSON log lines: string fields, nested values, errors, keys; still one valid JSON object', () => {
    const lines: string[] = [];
    const logger = jsonLogger((line) => lines.push(line), { now: () => new Date(0) });
    logger.child({ repo: URL_WITH_TOKEN }).log('error', 'sync.failed', {
      error: new Error(`fetch ${URL_WITH_TOKEN} failed`),
      argv: ['git', 'fetch', URL_WITH_TOKEN],
      env: { [TOKEN]: 'x', ok: `a "${TOKEN}" b` },
      commit: COMMIT,
    });
    assertClean(lines.join(''));
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(entry.repo, 'https://***@gitlab.example.org/x/data.git');
    assert.equal(entry.commit, COMMIT);
    assert.deepEqual(entry.env, { 'glpat-***': 'x', ok: 'a "glpat-***" b' });
  });

  test('the in-memory log', () => {
    const logger = memoryLogger();
    logger.log('warn', `event ${TOKEN}`, { nested: { url: URL_WITH_TOKEN } });
    assertClean(JSON.stringify(logger.entries));
  });

  test('the status page and status.json, sync errors and hints included', () => {
    const status: StatusData = {
      recipe: { name: 'demo-app', runtime: 'static' },
      service: { repo: URL_WITH_TOKEN, ref: 'main', commit: COMMIT },
      data: {
        repo: `https://gitlab.example.org/x/data.git?private_token=${TOKEN}`,
        ref: 'main',
        mount: 'data',
        commit: COMMIT,
        history: [
          {
            outcome: 'failed',
            startedAt: '2030-01-01T00:00:00Z',
            finishedAt: '2030-01-01T00:00:01Z',
            durationMs: 1000,
            phase: 'fetch',
            error: `fatal: could not read from ${URL_WITH_TOKEN}`,
            hint: `token ${TOKEN} expired?`,
            trigger: 'schedule',
          },
        ],
      },
      startedAt: '2030-01-01T00:00:00Z',
    };
    const health = { ok: false, reasons: [`cannot reach ${URL_WITH_TOKEN}`] };
    const now = new Date('2030-01-01T00:01:00Z');
    const json = JSON.stringify(statusJson(status, health, now));
    assertClean(json);
    assert.ok(json.includes(COMMIT), 'commits stay');
    const view = describeStatus(status, health, now);
    assertClean(renderStatusPage(view));
    assert.equal(view.service.repo, 'https://***@gitlab.example.org/x/data.git');
    assert.equal(view.data?.repo, 'https://gitlab.example.org/x/data.git?private_token=***');
  });

  test("data-sync's failure messages", () => {
    assert.equal(
      redactCredentials(`fatal: ${URL_WITH_TOKEN} and ssh://git@h/x`),
      'fatal: https://***@gitlab.example.org/x/data.git and ssh://git@h/x',
    );
  });
});
