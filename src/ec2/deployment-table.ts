// `bootstrap ls` as data and as a table: one row per deployment with its recipe, state, addresses,
// age and time left. Pure: the inventory and the clock come in.
import { formatDuration } from '../lib/duration.js';
import { isExpired, launchedAt, type DeploymentResources } from './inventory.js';
import { addressOf } from './addresses.js';

export interface DeploymentRow {
  deployment: string;
  recipe: string;
  state: string;
  addresses: string[];
  instances: Array<{ id: string; state: string; address?: string; type?: string }>;
  launchedAt?: string;
  ageSeconds?: number;
  expiresAt?: string;
  secondsLeft?: number;
  expired: boolean;
  autoScalingGroup?: { name: string; desired: number; inService: number };
  /** Resources of an ended deployment that still exist (removed by down and reap). */
  leftovers: string[];
}

/** One deployment as `ls` shows it. */
export function summarizeDeployment(d: DeploymentResources, now: Date): DeploymentRow {
  const instances = d.instances.map((i) => {
    const address = addressOf(i);
    return {
      id: i.InstanceId ?? '?',
      state: i.State?.Name ?? 'unknown',
      ...(address ? { address } : {}),
      ...(i.InstanceType ? { type: i.InstanceType } : {}),
    };
  });
  const group = d.groups[0];
  const row: DeploymentRow = {
    deployment: d.deployment,
    recipe: d.recipe,
    state: stateOf(d, instances),
    addresses: instances.flatMap((i) => (i.address ? [i.address] : [])),
    instances,
    expired: isExpired(d, now),
    leftovers: [],
  };
  const started = launchedAt(d);
  if (started) {
    row.launchedAt = started.toISOString();
    row.ageSeconds = Math.max(0, Math.round((now.getTime() - started.getTime()) / 1000));
  }
  if (d.expiresAt) {
    row.expiresAt = d.expiresAt.toISOString();
    row.secondsLeft = Math.round((d.expiresAt.getTime() - now.getTime()) / 1000);
  }
  if (group?.AutoScalingGroupName) {
    row.autoScalingGroup = {
      name: group.AutoScalingGroupName,
      desired: group.DesiredCapacity ?? 0,
      inService: (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    };
  }
  if (!instances.length && !group) {
    row.leftovers = [
      ...d.templates.map((t) => `launch template ${t.name}`),
      ...d.securityGroups.map((s) => `security group ${s.id}`),
    ];
  }
  return row;
}

function stateOf(d: DeploymentResources, instances: Array<{ state: string }>): string {
  const group = d.groups[0];
  if (group) {
    if (group.Status) return 'deleting';
    const inService = (group.Instances ?? []).filter(
      (i) => i.LifecycleState === 'InService',
    ).length;
    return `fleet ${inService}/${group.DesiredCapacity ?? 0}`;
  }
  if (!instances.length) return 'ended';
  const counts = new Map<string, number>();
  for (const i of instances) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
  if (counts.size === 1) {
    const [state, n] = [...counts][0]!;
    return n > 1 ? `${state} x${n}` : state;
  }
  return [...counts].map(([state, n]) => `${state} ${n}`).join(', ');
}

/** The rows as an aligned table; "no deployments" when there are none. */
export function formatDeploymentTable(rows: readonly DeploymentRow[]): string {
  if (!rows.length) return 'no deployments\n';
  const header = ['DEPLOYMENT', 'RECIPE', 'STATE', 'ADDRESS', 'AGE', 'LEFT'];
  const lines = rows.map((r) => [
    r.deployment,
    r.recipe || '-',
    r.state,
    r.addresses.length > 1
      ? `${r.addresses[0]} (+${r.addresses.length - 1})`
      : (r.addresses[0] ?? '-'),
    r.ageSeconds === undefined ? '-' : formatDuration(r.ageSeconds * 1000),
    r.secondsLeft === undefined
      ? '-'
      : r.expired
        ? 'expired'
        : formatDuration(r.secondsLeft * 1000),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  return (
    [header, ...lines]
      .map((cells) =>
        cells
          .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!)))
          .join('  '),
      )
      .join('\n') + '\n'
  );
}

/** Rows in a stable order: oldest first (ended ones last), then by id. */
export function sortRows(rows: DeploymentRow[]): DeploymentRow[] {
  const key = (r: DeploymentRow) => `${r.launchedAt ?? '9999'} ${r.deployment}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
