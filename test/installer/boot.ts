// Booting a real Linux kernel under QEMU (software emulation) with a given command line and a tiny
// busybox initramfs whose /init prints /proc/cmdline (as hex, between markers) to the serial
// console and powers off. Proves what a kernel actually receives.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { startProcess } from '../helpers/proc.js';
import { requireTool } from '../helpers/tools.js';

const BEGIN = 'GITSTRAP-CMDLINE-BEGIN';
const END = 'GITSTRAP-CMDLINE-END';

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox dmesg -n 1
echo ${BEGIN}
/bin/busybox od -An -tx1 -v /proc/cmdline
echo ${END}
/bin/busybox poweroff -f
`;

/** The Debian kernel scripts/setup-test.sh extracts (never installed); fails saying how to get it. */
export function requireKernel(): string {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const kernel = process.env.GITSTRAP_TEST_KERNEL ?? path.join(cache, 'gitstrap/installer/vmlinuz');
  if (!existsSync(kernel)) {
    throw new Error(
      `no kernel at ${kernel}: run npm run setup:test (it extracts /boot/vmlinuz-* from Debian's linux-image package) or set GITSTRAP_TEST_KERNEL`,
    );
  }
  return kernel;
}

/** Builds the busybox initramfs (newc cpio) in `dir` and returns its path. */
export function buildInitramfs(dir: string): string {
  const busybox = requireTool('busybox', 'busybox-static');
  requireTool('cpio', 'cpio');
  const root = path.join(dir, 'initramfs');
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'proc'), { recursive: true });
  mkdirSync(path.join(root, 'dev'), { recursive: true });
  copyFileSync(busybox, path.join(root, 'bin/busybox'));
  writeFileSync(path.join(root, 'init'), INIT);
  chmodSync(path.join(root, 'init'), 0o755);
  const out = path.join(dir, 'initramfs.cpio');
  const result = spawnSync('sh', [
    '-c',
    'cd "$1" && find . | cpio -o -H newc --quiet > "$2"',
    'sh',
    root,
    out,
  ]);
  if (result.status !== 0) throw new Error(`cpio failed: ${String(result.stderr)}`);
  return out;
}

/** Boots `kernel` with `cmdline` and returns the exact bytes of the guest's /proc/cmdline. */
export async function bootAndReadCmdline(
  t: TestContext,
  kernel: string,
  initramfs: string,
  cmdline: string,
  timeoutMs = 120_000,
): Promise<Buffer> {
  const qemu = requireTool('qemu-system-x86_64', 'qemu-system-x86');
  const vm = startProcess(t, qemu, [
    '-accel',
    'tcg',
    '-m',
    '256',
    '-nodefaults',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-no-reboot',
    '-kernel',
    kernel,
    '-initrd',
    initramfs,
    '-append',
    cmdline,
  ]);
  let exitCode: number | string | undefined;
  void vm.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (!vm.output().includes(END)) {
    if (exitCode !== undefined || Date.now() > deadline) {
      throw new Error(
        `QEMU ${exitCode !== undefined ? `exited (${exitCode})` : `timed out after ${timeoutMs} ms`} before the guest printed /proc/cmdline:\n${vm.output().slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const output = vm.output();
  await Promise.race([vm.exited, new Promise((r) => setTimeout(r, 10_000))]);
  await vm.stop();
  const between = output.slice(output.indexOf(BEGIN) + BEGIN.length, output.indexOf(END));
  const hex = between.match(/\b[0-9a-f]{2}\b/g) ?? [];
  return Buffer.from(hex.join(''), 'hex');
}
