// Anaconda's deprecated and removed boot options, and what current Anaconda accepts instead.
// Source: Anaconda's docs/boot-options.rst ("Deprecated Options", "Removed Options"), which also
// says options without the `inst.` prefix "may require the prefix in a future release" (Fedora 34
// and RHEL 9 require it).
import { GitstrapError } from '../lib/errors.js';

/** One kernel parameter: `name` or `name=value` (value without the quotes). */
export interface BootParam {
  name: string;
  value?: string;
}

/** What a deprecated option becomes: its replacements (maybe none) and the warning to show. */
export interface Modernized {
  params: BootParam[];
  warning: string;
}

/** Installer options that Anaconda once accepted without the `inst.` prefix. */
const INST_OPTIONS = new Set([
  'ks',
  'ks.sendmac',
  'ks.sendsn',
  'ks.device',
  'ksstrict',
  'repo',
  'stage2',
  'dd',
  'noverifyssl',
  'proxy',
  'multilib',
  'text',
  'cmdline',
  'graphical',
  'noninteractive',
  'vnc',
  'vncpassword',
  'vncconnect',
  'lang',
  'keymap',
  'singlelang',
  'geoloc',
  'resolution',
  'headless',
  'xdriver',
  'usefbx',
  'sshd',
  'rescue',
  'updates',
  'nokill',
  'loglevel',
  'noshell',
  'syslog',
  'virtiolog',
  'zram',
  'nodmraid',
  'nompath',
  'gpt',
  'nosave',
  'dhcpclass',
  'waitfornet',
]);

/** Removed options that do nothing in current Anaconda: dropped, with why. */
const REMOVED_NOOPS: Record<string, string> = {
  askmethod: "Anaconda's initramfs is non-interactive; use inst.repo= or network options",
  asknetwork: "Anaconda's initramfs is non-interactive; use ip= and nameserver=",
  essid: 'dracut does not support wireless networking',
  wepkey: 'dracut does not support wireless networking',
  wpakey: 'dracut does not support wireless networking',
  ethtool: 'removed from Anaconda',
  gdb: 'removed from Anaconda; see dracut\'s "Troubleshooting" guide',
  utf8: 'removed from Anaconda (the default TERM works)',
  upgradeany: 'Anaconda no longer handles upgrades',
  display: 'removed from Anaconda; for a remote UI use inst.vnc',
};

const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

const show = (p: BootParam) => (p.value === undefined ? p.name : `${p.name}=${p.value}`);
const renamed = (p: BootParam, name: string): BootParam =>
  p.value === undefined ? { name } : { name, value: p.value };

/** The current form of a deprecated or removed Anaconda option, or undefined when it is current. */
export function modernizeParam(p: BootParam): Modernized | undefined {
  const { name, value } = p;
  if (name === 'ks' && value === 'floppy') {
    throw new GitstrapError('boot parameter ks=floppy is no longer supported by Anaconda', {
      hint: 'serve the kickstart over http(s) and pass --ks URL (or inst.ks=hd:<device>:/ks.cfg)',
    });
  }
  if (name === 'repo' && value?.startsWith('nfsiso:')) {
    const params = [{ name: 'inst.repo', value: `nfs:${value.slice('nfsiso:'.length)}` }];
    return { params, warning: `${show(p)} is deprecated; using ${show(params[0]!)}` };
  }
  if (INST_OPTIONS.has(name)) {
    const next = renamed(p, `inst.${name}`);
    return { params: [next], warning: `${show(p)} is deprecated; using ${show(next)}` };
  }
  if (name === 'method') {
    const next = renamed(p, 'inst.repo');
    return { params: [next], warning: `${show(p)} is deprecated; using ${show(next)}` };
  }
  if (name === 'inst.mediacheck' || name === 'mediacheck') {
    return {
      params: [{ name: 'rd.live.check' }],
      warning: `${name} was removed; using rd.live.check`,
    };
  }
  if (name === 'dns' && value) {
    const params = value
      .split(',')
      .filter(Boolean)
      .map((v) => ({ name: 'nameserver', value: v }));
    return {
      params,
      warning: `${show(p)} is deprecated; using ${params.map(show).join(' ')} (one per server)`,
    };
  }
  if (name === 'ksdevice') return modernizeKsdevice(p);
  if (name === 'blacklist' && value) {
    const next = { name: 'modprobe.blacklist', value };
    return { params: [next], warning: `${show(p)} was removed; using ${show(next)}` };
  }
  if (name === 'nofirewire') {
    const next = { name: 'modprobe.blacklist', value: 'firewire_ohci' };
    return { params: [next], warning: `nofirewire was removed; using ${show(next)}` };
  }
  if (name === 'serial') {
    const next = { name: 'console', value: 'ttyS0' };
    return { params: [next], warning: `serial was removed; using ${show(next)}` };
  }
  if (name === 'noipv6') {
    const next = { name: 'ipv6.disable', value: '1' };
    return { params: [next], warning: `noipv6 was removed; using ${show(next)}` };
  }
  const why = REMOVED_NOOPS[name];
  if (why !== undefined) return { params: [], warning: `${show(p)} was dropped: ${why}` };
  return undefined;
}

/** Anaconda's table for ksdevice=: link and bootif are the default, the rest have successors. */
function modernizeKsdevice(p: BootParam): Modernized {
  const value = p.value ?? '';
  const drop = (why: string): Modernized => ({
    params: [],
    warning: `${show(p)} is deprecated and was dropped: ${why}`,
  });
  if (value === '' || value === 'link') return drop('the first device with a link is the default');
  if (value === 'bootif') return drop('BOOTIF= is used when present');
  let next: BootParam;
  if (value === 'ibft') next = { name: 'ip', value: 'ibft' };
  else if (MAC.test(value)) next = { name: 'BOOTIF', value: value.replace(/:/g, '-') };
  else next = { name: 'bootdev', value };
  return { params: [next], warning: `${show(p)} is deprecated; using ${show(next)}` };
}

/** Warnings for current options that still deserve a word (kept as they are). */
export function adviseParam(p: BootParam): string | undefined {
  if (p.name === 'inst.vncpassword') {
    return 'inst.vncpassword travels in user-data, which anyone on the instance or the node can read: treat it as public';
  }
  if (['netmask', 'gateway', 'hostname'].includes(p.name)) {
    return `${p.name}= is deprecated: give it as part of ip=<ip>::<gateway>:<netmask>:<hostname>:<interface>:none`;
  }
  if (p.name === 'ip' && p.value === 'bootif') {
    return 'ip=bootif is deprecated and not needed: a PXE-supplied BOOTIF is used automatically';
  }
  return undefined;
}
