// The NoCloud seed a test VM boots with: user-data, meta-data and a network config, as a disk image
// made by cloud-localds.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from '../helpers/tools.js';
import { GUEST_MAC } from './qemu-args.js';

/** The guest's address on QEMU's user network; the host's 127.0.0.1 is 10.0.2.2 from there. */
export const GUEST_ADDRESS = '10.0.2.15';

/**
 * The guest's network: a static address on QEMU's user network with no default route and no name
 * server, so the guest can reach the host's test servers (10.0.2.2) and nothing else.
 */
export function planNetworkConfig(mac = GUEST_MAC): string {
  return [
    'version: 1',
    'config:',
    '  - type: physical',
    '    name: eth0',
    `    mac_address: "${mac}"`,
    '    subnets:',
    '      - type: static',
    `        address: ${GUEST_ADDRESS}/24`,
    '',
  ].join('\n');
}

/** The meta-data of a seed: a fresh instance id (so cloud-init runs its first boot) and a hostname. */
export function planMetaData(instanceId: string, hostname: string): string {
  if (!/^[A-Za-z0-9.-]+$/.test(instanceId) || !/^[a-z0-9-]{1,63}$/.test(hostname)) {
    throw new Error(`expected a plain instance id and hostname, got ${instanceId} / ${hostname}`);
  }
  return `instance-id: ${instanceId}\nlocal-hostname: ${hostname}\n`;
}

/** Writes user-data, meta-data and network-config into `dir` and makes `dir/seed.img` from them. */
export async function writeSeed(
  dir: string,
  seed: { userData: string; metaData: string; networkConfig: string },
): Promise<string> {
  const cloudLocalds = requireTool('cloud-localds', 'cloud-image-utils');
  const files = {
    userData: path.join(dir, 'user-data'),
    metaData: path.join(dir, 'meta-data'),
    networkConfig: path.join(dir, 'network-config'),
  };
  writeFileSync(files.userData, seed.userData);
  writeFileSync(files.metaData, seed.metaData);
  writeFileSync(files.networkConfig, seed.networkConfig);
  const image = path.join(dir, 'seed.img');
  await promisify(execFile)(
    cloudLocalds,
    ['--network-config', files.networkConfig, image, files.userData, files.metaData],
    { timeout: 30_000 },
  );
  return image;
}
