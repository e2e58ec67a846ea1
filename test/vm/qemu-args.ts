// Plans the QEMU command line of a test VM (pure: returns the arguments, never runs them).

/** A host port on 127.0.0.1 forwarded to a guest TCP port. */
export interface PortForward {
  host: number;
  guest: number;
}

/** Everything that decides a test VM's QEMU command line. */
export interface QemuPlan {
  accel: 'tcg' | 'kvm';
  kernel: string;
  initrd: string;
  /** The per-boot qcow2 overlay of the cached root image. */
  disk: string;
  /** The NoCloud seed (cloud-localds). */
  seed: string;
  memoryMb: number;
  cpus: number;
  mac: string;
  forwards: readonly PortForward[];
  qmpSocket: string;
  guestAgentSocket: string;
  /** Extra kernel command-line words. */
  append?: readonly string[];
}

/** The guest's one network card: a fixed MAC so the seed's network config can name it. */
export const GUEST_MAC = '52:54:00:12:34:56';

/** The QEMU arguments (without the program) for `plan`; the serial console goes to stdout. */
export function planQemuArgs(plan: QemuPlan): string[] {
  for (const f of plan.forwards) {
    for (const port of [f.host, f.guest]) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`expected a TCP port (1-65535) in a port forward, got ${port}`);
      }
    }
  }
  for (const file of [
    plan.kernel,
    plan.initrd,
    plan.disk,
    plan.seed,
    plan.qmpSocket,
    plan.guestAgentSocket,
  ]) {
    // QEMU splits option values on commas.
    if (file.includes(',')) throw new Error(`a path QEMU is given must not contain ",": ${file}`);
  }
  const hostfwd = plan.forwards.map((f) => `,hostfwd=tcp:127.0.0.1:${f.host}-:${f.guest}`).join('');
  const accel =
    plan.accel === 'kvm'
      ? ['-accel', 'kvm', '-cpu', 'host']
      : // Measured here: with -cpu max (AVX2, ...) a first boot took 63-78 s to cloud-init done and
        // the boot after a guest reboot 60-110 s to reach systemd; with qemu64 (plain x86-64, which
        // Debian 12 and Node 18 target) and a 256 MB translation cache, 38-67 s and 15-28 s.
        ['-accel', 'tcg,thread=multi,tb-size=256', '-cpu', 'qemu64'];
  return [
    '-nodefaults',
    '-no-user-config',
    '-name',
    'gitstrap-test-vm',
    ...accel,
    '-m',
    String(plan.memoryMb),
    '-smp',
    String(plan.cpus),
    '-display',
    'none',
    '-kernel',
    plan.kernel,
    '-initrd',
    plan.initrd,
    '-append',
    // tsc=reliable: after a guest reset under TCG the vCPUs' TSCs differ, the kernel falls back
    // to the HPET clock source, and every clock read is emulated: the second boot ran 5x slower.
    [
      'root=/dev/vda',
      'rw',
      'console=ttyS0',
      'ds=nocloud',
      'tsc=reliable',
      ...(plan.append ?? []),
    ].join(' '),
    '-drive',
    `file=${plan.disk},if=virtio,format=qcow2`,
    '-drive',
    `file=${plan.seed},if=virtio,format=raw,readonly=on`,
    // User-mode network: the guest reaches the host's 127.0.0.1 as 10.0.2.2; no IPv6, so no route
    // but the one the seed's network config gives (none beyond 10.0.2.0/24).
    '-netdev',
    `user,id=n0,ipv6=off${hostfwd}`,
    '-device',
    `virtio-net-pci,netdev=n0,mac=${plan.mac}`,
    '-chardev',
    'stdio,id=serial0,signal=off',
    '-serial',
    'chardev:serial0',
    '-qmp',
    `unix:${plan.qmpSocket},server=on,wait=off`,
    '-chardev',
    `socket,id=qga0,path=${plan.guestAgentSocket},server=on,wait=off`,
    '-device',
    'virtio-serial-pci',
    '-device',
    'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
    '-device',
    'virtio-rng-pci',
  ];
}
