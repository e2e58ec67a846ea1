// The agent's systemd unit, gitstrap@NAME.service: written on the instance by `bootstrap first-boot`
// (not carried in user-data: it is the same for every recipe of a gitstrap version, and EC2 allows
// 16,384 bytes). Pure, and small enough for the agent bundle.
import { agentRuntimeEnvLine } from '../lib/agent-runtime-env.js';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';

/**
 * The unit text. It runs the agent as the unprivileged user gitstrap; only the package step
 * (ExecStartPre with "+", there only when the recipe has packages steps) runs as root, to install
 * the recipe's OS packages, and gets 15 minutes to do it (TimeoutStartSec). Environment= carries
 * the agent's own heap settings (src/lib/agent-runtime-env.ts); its service does not inherit them.
 */
export function agentUnitText(options: { packages: boolean }): string {
  const { bin, recipesDir, stateDir } = INSTANCE_PATHS;
  const recipe = `${recipesDir}/%i.yaml`;
  return [
    `## The gitstrap agent serving ${recipesDir}/NAME.yaml (written by bootstrap first-boot).`,
    '[Unit]',
    'Description=gitstrap agent for %i',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    'User=gitstrap',
    'Group=gitstrap',
    ...(options.packages ? [`ExecStartPre=+${bin} packages --recipe ${recipe}`] : []),
    `ExecStart=${bin} run --recipe ${recipe} --root ${stateDir}/%i`,
    'StateDirectory=gitstrap/%i',
    'CacheDirectory=gitstrap/%i',
    `Environment=HOME=${stateDir}/%i XDG_CACHE_HOME=/var/cache/gitstrap/%i NODE_ENV=production`,
    `Environment=${agentRuntimeEnvLine()}`,
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'UMask=0022',
    'Restart=on-failure',
    'RestartSec=5s',
    'TimeoutStartSec=15min',
    'KillMode=mixed',
    'TimeoutStopSec=30s',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
