// Picks how test VMs run: KVM only where a probe shows a guest really boots under it, else software
// emulation (TCG). On some hosts /dev/kvm exists but the guest hangs before printing anything, so
// the probe boots the real kernel to its first user-space program with a short timeout. The result
// is cached per image and QEMU version (GITSTRAP_VM_ACCEL=tcg|kvm overrides it).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GuestImage } from './image.js';

export type Accel = 'tcg' | 'kvm';

const PROBE_TIMEOUT_MS = 20_000;
/** What the guest kernel prints when its init (here /bin/true) has run and exited. */
const REACHED_USERSPACE = /Attempted to kill init/;

/** The accelerator to boot `image` with. */
export async function chooseAccel(qemu: string, image: GuestImage): Promise<Accel> {
  const forced = process.env.GITSTRAP_VM_ACCEL;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'tcg' && forced !== 'kvm') {
      throw new Error(`GITSTRAP_VM_ACCEL must be tcg or kvm, got ${JSON.stringify(forced)}`);
    }
    return forced;
  }
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  const version = spawnSync(qemu, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  const cacheFile = path.join(
    process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    'gitstrap/vm',
    `accel-${image.manifest.key ?? 'unknown'}.json`,
  );
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { qemu: string; accel: Accel };
    if (cached.qemu === version) return cached.accel;
  } catch {
    // no cached probe yet
  }
  const accel: Accel = (await probeKvm(qemu, image)) ? 'kvm' : 'tcg';
  mkdirSync(path.dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ qemu: version, accel }) + '\n');
  return accel;
}

/** The probe's QEMU arguments: the real kernel and root, read-only, init=/bin/true, exit on panic. */
export function planKvmProbeArgs(image: Pick<GuestImage, 'kernel' | 'initrd' | 'root'>): string[] {
  return [
    '-nodefaults',
    '-no-user-config',
    '-accel',
    'kvm',
    '-cpu',
    'host',
    '-m',
    '512',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-append',
    'root=/dev/vda ro console=ttyS0 init=/bin/true panic=-1',
    '-drive',
    `file=${image.root},if=virtio,format=raw,readonly=on`,
    '-serial',
    'stdio',
  ];
}

/** Boots the probe under KVM; true when the guest reached user space within the timeout. */
function probeKvm(qemu: string, image: GuestImage): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(qemu, planKvmProbeArgs(image), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), PROBE_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (REACHED_USERSPACE.test(output)) finish(true);
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', () => finish(false));
    child.on('exit', () => finish(REACHED_USERSPACE.test(output)));
  });
}
