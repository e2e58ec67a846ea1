// The agent's status page (GET /_gitstrap/) and status.json: a pure view model built from the
// agent's status and health, and a handlebars template with inline CSS (no external assets).
import Handlebars from 'handlebars';
import type { SyncResult, VersionLfs } from '../../data-sync/src/api.js';
import { formatDuration } from '../lib/duration.js';
import { redactDeep, redactSecrets } from '../lib/redact.js';
import type { HealthReport, StatusData } from './types.js';

/** One sync result as the page shows it. */
export interface SyncRow {
  outcome: SyncResult['outcome'];
  good: boolean;
  commit: string;
  trigger: SyncResult['trigger'];
  finishedAt: string;
  ago: string;
  duration: string;
  error?: string;
  hint?: string;
}

/** A submodule as the page shows it. */
export interface SubmoduleRow {
  path: string;
  commit: string;
  url: string;
}

/** Everything the status page template shows, already formatted. */
export interface StatusView {
  name: string;
  description?: string;
  runtime: string;
  healthy: boolean;
  reasons: string[];
  service: {
    repo: string;
    ref: string;
    commit: string;
    state?: string;
    submodules?: SubmoduleRow[];
  };
  data?: {
    repo: string;
    ref: string;
    mount: string;
    commit: string;
    submodules?: SubmoduleRow[];
    /** One line on the version's Git LFS files: "3 files (2 objects, 1.5 MB); 1 downloaded ...". */
    lfs?: string;
    lastSync?: SyncRow;
    nextSync?: { at: string; in: string };
    history: SyncRow[];
  };
  startedAt: string;
  uptime: string;
  ttl?: { endsAt: string; left: string; expired: boolean };
  agentVersion?: string;
  generatedAt: string;
}

/** The status as JSON: the agent's data, health and computed times (every credential redacted). */
export function statusJson(status: StatusData, health: HealthReport, now: Date): unknown {
  const expiresAt = status.expiresAt ? Date.parse(status.expiresAt) : undefined;
  return redactDeep({
    ...status,
    service: { ...status.service, repo: redactUrl(status.service.repo) },
    ...(status.data ? { data: { ...status.data, repo: redactUrl(status.data.repo) } } : {}),
    health,
    now: now.toISOString(),
    ...(expiresAt !== undefined ? { timeLeftMs: Math.max(0, expiresAt - now.getTime()) } : {}),
  });
}

/** Builds the page's view model (pure); every credential in it redacted. */
export function describeStatus(status: StatusData, health: HealthReport, now: Date): StatusView {
  return redactDeep(describeView(status, health, now));
}

function describeView(status: StatusData, health: HealthReport, now: Date): StatusView {
  const t = now.getTime();
  const view: StatusView = {
    name: status.recipe.name,
    runtime: status.recipe.runtime,
    healthy: health.ok,
    reasons: health.reasons,
    service: {
      repo: redactUrl(status.service.repo),
      ref: status.service.ref,
      commit: status.service.commit ?? 'not cloned yet',
      ...(status.service.state ? { state: status.service.state } : {}),
      ...(status.service.submodules?.length
        ? { submodules: status.service.submodules.map(describeSubmodule) }
        : {}),
    },
    startedAt: status.startedAt,
    uptime: formatDuration(Math.max(0, t - Date.parse(status.startedAt))),
    generatedAt: now.toISOString(),
  };
  if (status.recipe.description) view.description = status.recipe.description;
  if (status.agentVersion) view.agentVersion = status.agentVersion;
  if (status.data) {
    const history = status.data.history.map((r) => describeSync(r, t));
    view.data = {
      repo: redactUrl(status.data.repo),
      ref: status.data.ref,
      mount: status.data.mount,
      commit: status.data.commit ?? 'no version yet',
      history,
      ...(status.data.submodules?.length
        ? { submodules: status.data.submodules.map(describeSubmodule) }
        : {}),
      ...(status.data.lfs ? { lfs: describeLfs(status.data.lfs) } : {}),
    };
    if (history[0]) view.data.lastSync = history[0];
    if (status.data.nextSync) {
      const at = Date.parse(status.data.nextSync);
      view.data.nextSync = { at: status.data.nextSync, in: formatDuration(Math.max(0, at - t)) };
    }
  }
  if (status.expiresAt) {
    const left = Date.parse(status.expiresAt) - t;
    view.ttl = {
      endsAt: status.expiresAt,
      left: left > 0 ? formatDuration(left) : 'ending now',
      expired: left <= 0,
    };
  }
  return view;
}

/** Renders the status page HTML. */
export function renderStatusPage(view: StatusView): string {
  return template(view);
}

/** A repository URL without credentials in it ("https://tok@host/x" → "https://***@host/x"). */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

function describeSubmodule(m: { path: string; commit: string; url: string }): SubmoduleRow {
  return { path: m.path, commit: m.commit.slice(0, 12), url: redactUrl(m.url) };
}

/** Bytes for people: 512 B, 1.5 KB, 12.0 MB, 2.1 GB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The Git LFS line of the data section. */
function describeLfs(lfs: VersionLfs): string {
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const parts = [
    `${plural(lfs.files, 'file')} (${plural(lfs.objects, 'object')}, ${formatBytes(lfs.bytes)})`,
    `${lfs.downloaded} downloaded for this version`,
  ];
  if (lfs.outsideSparse > 0) {
    parts.push(
      `${plural(lfs.outsideSparse, 'file')} (${formatBytes(lfs.outsideSparseBytes)}) outside data.sparse, never downloaded`,
    );
  }
  return parts.join('; ');
}

function describeSync(r: SyncResult, now: number): SyncRow {
  const row: SyncRow = {
    outcome: r.outcome,
    good: r.outcome === 'published' || r.outcome === 'unchanged',
    commit: r.commit ? r.commit.slice(0, 12) : '-',
    trigger: r.trigger,
    finishedAt: r.finishedAt,
    ago: `${formatDuration(Math.max(0, now - Date.parse(r.finishedAt)))} ago`,
    duration: formatDuration(r.durationMs),
  };
  const error = [r.phase, r.error].filter(Boolean).join(': ');
  if (error) row.error = error;
  if (r.hint) row.hint = r.hint;
  return row;
}

const hb = Handlebars.create();

const template = hb.compile(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>{{name}} · gitstrap</title>
<link rel="icon" href="data:,">
<style>
  :root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
  main { max-width: 920px; margin: 0 auto; padding: 24px 16px 48px; }
  header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
  h1 { font-size: 24px; margin: 0; }
  h2 { font-size: 16px; margin: 28px 0 8px; }
  .badge { padding: 2px 10px; border-radius: 999px; color: #fff; font-weight: 600; font-size: 13px; }
  .ok { background: var(--ok); } .bad { background: var(--bad); }
  .muted { color: var(--muted); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 20px; margin: 12px 0; }
  dt { color: var(--muted); } dd { margin: 0; word-break: break-all; }
  code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eff1f3; padding: 1px 5px; border-radius: 4px; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  tr:last-child td { border-bottom: none; }
  .outcome-good { color: var(--ok); font-weight: 600; } .outcome-bad { color: var(--bad); font-weight: 600; }
  ul.reasons { margin: 12px 0; padding-left: 20px; color: var(--bad); }
  footer { margin-top: 24px; font-size: 13px; }
</style>
</head>
<body>
<main>
  <header>
    <h1>{{name}}</h1>
    {{#if healthy}}<span class="badge ok">healthy</span>{{else}}<span class="badge bad">not ready</span>{{/if}}
    <span class="muted">runtime {{runtime}}</span>
  </header>
  {{#if description}}<p class="muted">{{description}}</p>{{/if}}
  {{#unless healthy}}<ul class="reasons">{{#each reasons}}<li>{{this}}</li>{{/each}}</ul>{{/unless}}

  <h2>Service</h2>
  <section><dl>
    <dt>Repository</dt><dd><code>{{service.repo}}</code></dd>
    <dt>Ref</dt><dd><code>{{service.ref}}</code></dd>
    <dt>Commit</dt><dd><code>{{service.commit}}</code></dd>
    {{#if service.state}}<dt>State</dt><dd>{{service.state}}</dd>{{/if}}
    {{#if service.submodules}}<dt>Submodules</dt><dd>{{#each service.submodules}}<code>{{path}}</code> at <code>{{commit}}</code> <span class="muted">{{url}}</span><br>{{/each}}</dd>{{/if}}
    <dt>Up for</dt><dd title="{{startedAt}}">{{uptime}}</dd>
    {{#if ttl}}<dt>Time left</dt><dd title="{{ttl.endsAt}}">{{ttl.left}} <span class="muted">(ends {{ttl.endsAt}})</span></dd>{{/if}}
  </dl></section>

  {{#if data}}
  <h2>Data</h2>
  <section><dl>
    <dt>Repository</dt><dd><code>{{data.repo}}</code></dd>
    <dt>Ref</dt><dd><code>{{data.ref}}</code></dd>
    <dt>Commit</dt><dd><code>{{data.commit}}</code></dd>
    {{#if data.submodules}}<dt>Submodules</dt><dd>{{#each data.submodules}}<code>{{path}}</code> at <code>{{commit}}</code> <span class="muted">{{url}}</span><br>{{/each}}</dd>{{/if}}
    {{#if data.lfs}}<dt>Git LFS</dt><dd>{{data.lfs}}</dd>{{/if}}
    <dt>Mount</dt><dd><code>/{{data.mount}}/</code></dd>
    <dt>Last sync</dt><dd>{{#if data.lastSync}}<span class="{{#if data.lastSync.good}}outcome-good{{else}}outcome-bad{{/if}}">{{data.lastSync.outcome}}</span> <span title="{{data.lastSync.finishedAt}}">{{data.lastSync.ago}}</span>{{else}}<span class="muted">none yet</span>{{/if}}</dd>
    <dt>Next sync</dt><dd>{{#if data.nextSync}}<span title="{{data.nextSync.at}}">in {{data.nextSync.in}}</span>{{else}}<span class="muted">on webhook or by hand</span>{{/if}}</dd>
  </dl></section>

  <h2>Recent syncs</h2>
  <section>
  {{#if data.history.length}}
  <table>
    <thead><tr><th>Outcome</th><th>Commit</th><th>Trigger</th><th>When</th><th>Took</th><th>Error</th></tr></thead>
    <tbody>
    {{#each data.history}}
      <tr><td class="{{#if good}}outcome-good{{else}}outcome-bad{{/if}}">{{outcome}}</td><td><code>{{commit}}</code></td><td>{{trigger}}</td><td title="{{finishedAt}}">{{ago}}</td><td>{{duration}}</td><td>{{error}}{{#if hint}}<br><span class="muted">{{hint}}</span>{{/if}}</td></tr>
    {{/each}}
    </tbody>
  </table>
  {{else}}<p class="muted">No syncs yet.</p>{{/if}}
  </section>
  {{/if}}

  <footer class="muted">gitstrap{{#if agentVersion}} {{agentVersion}}{{/if}} · {{generatedAt}} · <a href="status.json">status.json</a> · <a href="healthz">healthz</a></footer>
</main>
</body>
</html>
`);
