// The VM tier's pure planners: the QEMU command line, the seed's meta-data and network config, the
// minimal user-data (checked by the real `cloud-init schema`), and the host-to-guest URL rewrite.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { planKvmProbeArgs } from './accel.js';
import { findAgentTimeline, findBootStages, findFirstBootSteps } from './boot-stages.js';
import { toGuestUrl } from './host-servers.js';
import { planMinimalUserData } from './minimal-service.js';
import { planQemuArgs, type QemuPlan } from './qemu-args.js';
import { planMetaData, planNetworkConfig } from './seed.js';

const plan: QemuPlan = {
  accel: 'tcg',
  kernel: '/cache/vm/k1/vmlinuz',
  initrd: '/cache/vm/k1/initrd.img',
  disk: '/tmp/vm/disk.qcow2',
  seed: '/tmp/vm/seed.img',
  memoryMb: 1536,
  cpus: 2,
  mac: '52:54:00:12:34:56',
  forwards: [
    { host: 40001, guest: 80 },
    { host: 40002, guest: 8080 },
  ],
  qmpSocket: '/tmp/vm/qmp.sock',
  guestAgentSocket: '/tmp/vm/qga.sock',
};

describe('planQemuArgs', () => {
  test('boots the kernel directly under TCG with the overlay, the seed, forwards and sockets', () => {
    assert.equal(
      planQemuArgs(plan).join(' '),
      [
        '-nodefaults -no-user-config -name gitstrap-test-vm',
        '-accel tcg,thread=multi,tb-size=256 -cpu qemu64 -m 1536 -smp 2 -display none',
        '-kernel /cache/vm/k1/vmlinuz -initrd /cache/vm/k1/initrd.img',
        '-append root=/dev/vda rw console=ttyS0 ds=nocloud tsc=reliable',
        '-drive file=/tmp/vm/disk.qcow2,if=virtio,format=qcow2',
        '-drive file=/tmp/vm/seed.img,if=virtio,format=raw,readonly=on',
        '-netdev user,id=n0,ipv6=off,hostfwd=tcp:127.0.0.1:40001-:80,hostfwd=tcp:127.0.0.1:40002-:8080',
        '-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56',
        '-chardev stdio,id=serial0,signal=off -serial chardev:serial0',
        '-qmp unix:/tmp/vm/qmp.sock,server=on,wait=off',
        '-chardev socket,id=qga0,path=/tmp/vm/qga.sock,server=on,wait=off',
        '-device virtio-serial-pci -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
        '-device virtio-rng-pci',
      ].join(' '),
    );
  });

  test('uses KVM with the host CPU when asked, and appends extra kernel words', () => {
    const args = planQemuArgs({ ...plan, accel: 'kvm', append: ['quiet'] });
    assert.deepEqual(args.slice(4, 8), ['-accel', 'kvm', '-cpu', 'host']);
    assert.ok(args.includes('root=/dev/vda rw console=ttyS0 ds=nocloud tsc=reliable quiet'));
  });

  test('rejects a forward that is not a port, and a path QEMU would split on its comma', () => {
    assert.throws(
      () => planQemuArgs({ ...plan, forwards: [{ host: 0, guest: 80 }] }),
      /expected a TCP port \(1-65535\) in a port forward, got 0/,
    );
    assert.throws(
      () => planQemuArgs({ ...plan, disk: '/tmp/a,b/disk.qcow2' }),
      /must not contain ",": \/tmp\/a,b\/disk.qcow2/,
    );
  });

  test('the KVM probe boots the real kernel read-only to init=/bin/true and exits on the panic', () => {
    const image = {
      kernel: '/cache/vm/k1/vmlinuz',
      initrd: '/cache/vm/k1/initrd.img',
      root: '/cache/vm/k1/root.img',
    };
    assert.equal(
      planKvmProbeArgs(image).join(' '),
      '-nodefaults -no-user-config -accel kvm -cpu host -m 512 -display none -no-reboot ' +
        '-kernel /cache/vm/k1/vmlinuz -initrd /cache/vm/k1/initrd.img ' +
        '-append root=/dev/vda ro console=ttyS0 init=/bin/true panic=-1 ' +
        '-drive file=/cache/vm/k1/root.img,if=virtio,format=raw,readonly=on -serial stdio',
    );
  });
});

describe('the NoCloud seed', () => {
  test('meta-data names a fresh instance and the hostname', () => {
    assert.equal(
      planMetaData('iid-gitstrap-smoke-1', 'gitstrap-smoke'),
      'instance-id: iid-gitstrap-smoke-1\nlocal-hostname: gitstrap-smoke\n',
    );
    assert.throws(() => planMetaData('iid\nx: y', 'h'), /expected a plain instance id/);
  });

  test('the network config gives a static address and no gateway or name server', () => {
    assert.equal(
      planNetworkConfig(),
      [
        'version: 1',
        'config:',
        '  - type: physical',
        '    name: eth0',
        '    mac_address: "52:54:00:12:34:56"',
        '    subnets:',
        '      - type: static',
        '        address: 10.0.2.15/24',
        '',
      ].join('\n'),
    );
  });
});

describe('planMinimalUserData', () => {
  const userData = planMinimalUserData({
    repoUrl: 'git://10.0.2.2:9418/svc.git',
    download: { url: 'http://10.0.2.2:8000/extra.txt', sha256: 'a'.repeat(64) },
  });

  test('clones the service and starts it; with a download, checks its sha256 first', () => {
    assert.equal(
      userData,
      [
        '#cloud-config',
        'runcmd:',
        '  - [curl, -fsS, --retry, \'3\', -o, /opt/extra.txt, "http://10.0.2.2:8000/extra.txt"]',
        `  - [sh, -c, "echo '${'a'.repeat(64)}  /opt/extra.txt' | sha256sum -c -"]`,
        '  - [git, clone, --quiet, --depth, \'1\', "git://10.0.2.2:9418/svc.git", /opt/svc]',
        "  - [systemd-run, --unit=minimal-svc, /usr/bin/node, /opt/svc/server.js, '8080']",
        'final_message: "gitstrap-vm: cloud-init finished after $UPTIME seconds (cloud-init $VERSION)"',
        '',
      ].join('\n'),
    );
    assert.throws(
      () => planMinimalUserData({ repoUrl: 'x', download: { url: 'y', sha256: 'nope' } }),
      /expected a sha256 of 64 hex digits, got nope/,
    );
  });

  test('passes the real cloud-init schema check', (t) => {
    const cloudInit = requireTool('cloud-init', 'cloud-init');
    const file = path.join(tempDir(t), 'user-data');
    writeFileSync(file, userData);
    const out = execFileSync(cloudInit, ['schema', '--config-file', file], { encoding: 'utf8' });
    assert.match(out, /Valid cloud-config/);
  });
});

test('toGuestUrl points a host loopback URL at 10.0.2.2 and refuses anything else', () => {
  assert.equal(toGuestUrl('git://127.0.0.1:9418/svc.git'), 'git://10.0.2.2:9418/svc.git');
  assert.equal(toGuestUrl('http://127.0.0.1:8000/a.cjs'), 'http://10.0.2.2:8000/a.cjs');
  assert.throws(() => toGuestUrl('http://localhost:8000/'), /expected a URL on 127.0.0.1/);
});

test('findBootStages reads the first boot stages off the serial console', () => {
  const lines = [
    {
      ms: 1200,
      text: '[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)',
    },
    {
      ms: 22000,
      text: '[   21.482661] systemd[1]: systemd 252.39-1~deb12u2 running in system mode',
    },
    {
      ms: 46000,
      text: "[   45.42] cloud-init[332]: Cloud-init v. 22.4.2 running 'init-local' at Sun. Up 45.22 seconds.",
    },
    {
      ms: 63000,
      text: "[   63.23] cloud-init[399]: Cloud-init v. 22.4.2 running 'init' at Sun. Up 62.09 seconds.",
    },
    {
      ms: 81000,
      text: "gitstrap-smoke login: [ 81.79] cloud-init[426]: Cloud-init v. 22.4.2 running 'modules:config' at Sun",
    },
    {
      ms: 104000,
      text: "[  104.40] cloud-init[457]: Cloud-init v. 22.4.2 running 'modules:final' at Sun",
    },
    {
      ms: 110000,
      text: '[  110.54] cloud-init[457]: gitstrap-vm: cloud-init finished after 110.53 seconds',
    },
    { ms: 150000, text: '[    0.000000] Linux version 6.1.0-56-amd64 (a second boot)' },
    {
      ms: 170000,
      text: "[   45.42] cloud-init[332]: Cloud-init v. 22.4.2 running 'init-local' at Sun",
    },
  ];
  assert.deepEqual(findBootStages(lines), {
    kernel: 1200,
    systemd: 22000,
    'cloud-init init-local': 46000,
    'cloud-init init': 63000,
    'cloud-init modules:config': 81000,
    'cloud-init modules:final': 104000,
    'cloud-init finished': 110000,
  });
  assert.deepEqual(findBootStages(lines.slice(0, 2)), { kernel: 1200, systemd: 22000 });
});

test('findFirstBootSteps times the steps of gitstrap first-boot script', () => {
  const lines = [
    { ms: 41000, text: '[   41.1] cloud-init[457]: gitstrap: step args: started' },
    { ms: 41100, text: '[   41.2] cloud-init[457]: gitstrap: step args: done' },
    { ms: 41200, text: 'gitstrap: step agent: started' },
    { ms: 45000, text: 'gitstrap: agent 0.1.0 installed' },
    { ms: 45100, text: 'gitstrap: step agent: done' },
    { ms: 45200, text: 'gitstrap: step health: started' },
  ];
  assert.deepEqual(findFirstBootSteps(lines), [
    { step: 'args', startMs: 41000, doneMs: 41100 },
    { step: 'agent', startMs: 41200, doneMs: 45100 },
    { step: 'health', startMs: 45200 },
  ]);
});

test('findAgentTimeline times the agent events from the start of its unit', () => {
  const entry = (us: number, message: string) =>
    JSON.stringify({ __MONOTONIC_TIMESTAMP: String(us), MESSAGE: message });
  const journal = [
    entry(1_000_000, 'earlier boot noise'),
    entry(40_000_000, 'Starting gitstrap@shop.service - gitstrap agent for shop...'),
    entry(40_050_000, 'Started gitstrap@shop.service - gitstrap agent for shop.'),
    entry(43_200_000, '{"time":"t","level":"info","event":"agent.start","recipe":"shop"}'),
    entry(43_400_000, 'not json {'),
    entry(43_500_000, '{"time":"t","level":"info","event":"agent.listening"}'),
    entry(47_000_000, '{"time":"t","level":"info","event":"service.up"}'),
    entry(47_100_000, '{"time":"t","level":"info","event":"service.up"}'),
    '',
  ].join('\n');
  assert.deepEqual(findAgentTimeline(journal), [
    { mark: 'unit starting', ms: 0 },
    { mark: 'unit started', ms: 50 },
    { mark: 'agent.start', ms: 3200 },
    { mark: 'agent.listening', ms: 3500 },
    { mark: 'service.up', ms: 7000 },
  ]);
  assert.deepEqual(findAgentTimeline(''), []);
});
