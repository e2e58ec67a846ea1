// `bootstrap refresh DEPLOYMENT [--max-age D]`: replace a fleet's instances with fresh ones through
// an instance refresh, first moving its launch template to the OS family's current image (kept
// where SSM, which tells the current image, cannot be used).
import { formatDuration } from '../lib/duration.js';
import { GitstrapError } from '../lib/errors.js';
import { requireService, SERVICES, withService } from './cloud.js';
import { requireDeployment } from './down.js';
import {
  buildDescribeLatestTemplateVersionRequest,
  buildNewImageVersionRequest,
  buildStartInstanceRefreshRequest,
} from './fleet-requests.js';
import type { FlowEnv } from './flow-env.js';
import { buildGetImageParameterRequest, isAmiId, isOsFamily } from './images.js';

export interface RefreshResult {
  deployment: string;
  autoScalingGroup: string;
  started: boolean;
  refreshId?: string;
  /** Why no refresh was started (with --max-age), or what it does. */
  reason: string;
  image?: { from: string; to: string };
  oldestAgeSeconds?: number;
}

/** Starts an instance refresh of a fleet deployment (only if an instance is older than maxAgeMs). */
export async function runRefresh(
  env: FlowEnv,
  deployment: string,
  options: { maxAgeMs?: number } = {},
): Promise<RefreshResult> {
  // Before anything, and again once the inventory has asked Auto Scaling (it may not answer).
  const needAutoScaling = () =>
    requireService(
      env,
      'autoscaling',
      (reason) => `refresh replaces the instances of a fleet, which needs Auto Scaling: ${reason}`,
      `set ${SERVICES.autoscaling.variable} to the cloud's Auto Scaling endpoint`,
    );
  needAutoScaling();
  const d = await requireDeployment(env, deployment);
  needAutoScaling();
  const group = d.groups[0];
  if (!group?.AutoScalingGroupName) {
    throw new GitstrapError(
      `${deployment} is not a fleet: refresh replaces the instances of a --fleet deployment`,
      {
        hint: `for a single instance: bootstrap down ${deployment}, then bootstrap launch --recipe ${d.recipe || 'NAME'}`,
      },
    );
  }
  const name = group.AutoScalingGroupName;
  const result: RefreshResult = { deployment, autoScalingGroup: name, started: false, reason: '' };

  const members = new Set((group.Instances ?? []).map((i) => i.InstanceId));
  const launchTimes = d.instances
    .filter((i) => members.has(i.InstanceId))
    .map((i) => i.LaunchTime)
    .filter((t): t is Date => t instanceof Date);
  const now = env.now().getTime();
  if (launchTimes.length) {
    result.oldestAgeSeconds = Math.round(
      (now - Math.min(...launchTimes.map((t) => t.getTime()))) / 1000,
    );
  }
  if (options.maxAgeMs !== undefined) {
    const oldestMs = (result.oldestAgeSeconds ?? 0) * 1000;
    if (oldestMs < options.maxAgeMs) {
      result.reason = `the oldest instance is ${launchTimes.length ? formatDuration(oldestMs) : 'not yet launched'} old, under --max-age ${formatDuration(options.maxAgeMs)}`;
      return result;
    }
  }

  const template = group.LaunchTemplate?.LaunchTemplateName ?? d.templates[0]?.name;
  const os = d.os && isOsFamily(d.os) ? d.os : undefined;
  const param =
    template && os
      ? await withService(
          env,
          'ssm',
          () => env.api.getParameter(buildGetImageParameterRequest(os)),
          () => {
            env.progress(`image kept: ${env.cloud.reason('ssm') ?? 'SSM is unavailable'}`);
            return undefined;
          },
        )
      : undefined;
  if (template && param) {
    const latest = param.Parameter?.Value;
    const versions = await env.api.describeLaunchTemplateVersions(
      buildDescribeLatestTemplateVersionRequest(template),
    );
    const current = versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId;
    if (latest && isAmiId(latest) && current && latest !== current) {
      await env.api.createLaunchTemplateVersion(buildNewImageVersionRequest(template, latest));
      result.image = { from: current, to: latest };
      env.progress(`launch template ${template}: image ${current} -> ${latest} (${os})`);
    }
  }

  const started = await env.api.startInstanceRefresh(buildStartInstanceRefreshRequest(name));
  result.started = true;
  if (started.InstanceRefreshId) result.refreshId = started.InstanceRefreshId;
  result.reason = `replacing the instances of ${name}, a new one in service before an old one ends`;
  return result;
}
