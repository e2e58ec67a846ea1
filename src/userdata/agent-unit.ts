// The agent's systemd unit, gitstrap@NAME.service. The agent carries it, not the user-data (it is
// the same for every recipe of a gitstrap version, and EC2 allows 16,384 bytes): the agent bundle
// has it, with the package step, in a comment after its #! line (scripts/build.mjs), where the
// first-boot script's step unit finds it; `bootstrap first-boot` writes it when the script found
// none. Pure, and small enough for the agent bundle.
import { agentRuntimeEnvLine } from '../lib/agent-runtime-env.js';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';

/**
 * The unit text. It runs the agent as the unprivileged user gitstrap; only the package step
 * (ExecStartPre with "+", there only when the recipe has packages steps) runs as root, to install
 * the recipe's OS packages, and gets 15 minutes to do it (TimeoutStartSec). Environment= carries
 * the agent's own heap settings (src/lib/agent-runtime-env.ts); its service does not inherit them.
 */
export function agentUnitText(options: {
  packages: boolean;
  /** The copy the agent bundle carries (its first line says so), not bootstrap first-boot's. */
  carried?: boolean;
}): string {
  const { bin, recipesDir, stateDir } = INSTANCE_PATHS;
  const recipe = `${recipesDir}/%i.yaml`;
  const writer = options.carried
    ? 'the first-boot script, from the agent bundle'
    : 'bootstrap first-boot';
  return [
    `## The gitstrap agent serving ${recipesDir}/NAME.yaml (written at first boot by ${writer}).`,
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
