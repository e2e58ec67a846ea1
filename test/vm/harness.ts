// Boots a test VM: a qcow2 overlay of the cached Debian 12 image, a NoCloud seed from the given
// user-data, host ports on 127.0.0.1 forwarded to guest ports, the serial console captured line by
// line (with the time since QEMU started), QMP for reboot and power-off events, and the guest agent
// to run commands in the guest. QEMU is stopped by PID when the test ends, pass or fail; a failure
// inside `vm.check()` / `withVm()` carries the tail of the serial console.
import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { freePort, startProcess, type Started } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { chooseAccel, type Accel } from './accel.js';
import { ensureImage, type GuestImage } from './image.js';
import { guestExec, guestShutdown, type GuestResult } from './qga.js';
import { GUEST_MAC, planQemuArgs, type PortForward } from './qemu-args.js';
import { QmpClient } from './qmp.js';
import { planMetaData, planNetworkConfig, writeSeed } from './seed.js';

type Hooks = Pick<TestContext, 'after'>;

export interface VmOptions {
  /** The user-data the guest boots with (cloud-config, a script, or gitstrap's rendered output). */
  userData: string;
  /** Guest TCP ports to reach from the host; each gets a free port on 127.0.0.1. */
  forward?: readonly number[];
  /** A short name for logs and saved serial logs. */
  name?: string;
  memoryMb?: number;
  cpus?: number;
  /** The guest image (default: ensureImage(), building it if it is not cached). */
  image?: GuestImage;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** One line of the serial console and when it arrived, in ms since QEMU started. */
export interface SerialLine {
  ms: number;
  text: string;
}

/** How QEMU ended when the guest powered itself off. */
export interface PowerOff {
  /** ms since QEMU started. */
  ms: number;
  /** QEMU's SHUTDOWN reason, e.g. guest-shutdown (the guest OS powered off through ACPI). */
  reason: string;
}

const SERIAL_TAIL_LINES = 60;
// eslint-disable-next-line no-control-regex -- stripping terminal escapes is the point
const TERMINAL_ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]|\r/g;

/** A running test VM. */
export class Vm {
  /** Lines of the serial console so far. */
  readonly serial: SerialLine[] = [];
  private partial = '';
  private stderr = '';
  private stopping = false;
  private serialClosed = false;

  constructor(
    readonly name: string,
    readonly accel: Accel,
    /** Date.now() when QEMU was started. */
    readonly startedAt: number,
    private readonly qemu: Started,
    private readonly qmp: QmpClient,
    private readonly forwards: readonly PortForward[],
    /** The VM's folder: overlay disk, seed, sockets, serial.log. */
    readonly dir: string,
    private readonly guestAgentSocket: string,
    private readonly serialFile: WriteStream,
    private readonly log: (line: string) => void,
  ) {
    qemu.child.stdout?.on('data', (d: Buffer) => this.receiveSerial(d.toString('utf8')));
    qemu.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
  }

  /** QEMU's process id. */
  get pid(): number {
    return this.qemu.pid;
  }

  /** True while the QEMU process runs. */
  get running(): boolean {
    return this.qemu.child.exitCode === null && this.qemu.child.signalCode === null;
  }

  /** Milliseconds since QEMU started. */
  elapsed(): number {
    return Date.now() - this.startedAt;
  }

  /** The host port on 127.0.0.1 that reaches `guestPort`. */
  hostPort(guestPort: number): number {
    const forward = this.forwards.find((f) => f.guest === guestPort);
    if (!forward) throw new Error(`guest port ${guestPort} is not forwarded (options.forward)`);
    return forward.host;
  }

  /** http://127.0.0.1:HOSTPORT/PATH for a forwarded guest port. */
  url(guestPort: number, urlPath = '/'): string {
    return `http://127.0.0.1:${this.hostPort(guestPort)}${urlPath.startsWith('/') ? '' : '/'}${urlPath}`;
  }

  /** The serial console so far, as text. */
  serialText(): string {
    return this.serial.map((l) => l.text).join('\n');
  }

  /** The last `lines` lines of the serial console. */
  serialTail(lines = SERIAL_TAIL_LINES): string {
    return this.serial
      .slice(-lines)
      .map((l) => l.text)
      .join('\n');
  }

  /** How many times a kernel has started in this VM (1 after the first boot, 2 after a reboot). */
  bootCount(): number {
    return this.serial.filter((l) => /Linux version \d/.test(l.text)).length;
  }

  /** Waits for a serial console line matching `pattern` (from line index `from`); returns it. */
  waitForSerial(pattern: RegExp, timeoutMs: number, from = 0): Promise<SerialLine> {
    return this.until(
      async () => this.serial.slice(from).find((l) => pattern.test(l.text)),
      `a serial console line matching ${pattern}`,
      timeoutMs,
      250,
    );
  }

  /**
   * Polls an HTTP URL on the host (a forwarded port) until it answers `status` (and, if given, a
   * body `accept` accepts); returns the answer and when it came (ms since QEMU started).
   */
  async waitForHttp(
    url: string,
    options: { timeoutMs: number; status?: number; accept?: (body: string) => boolean },
  ): Promise<{ status: number; body: string; ms: number }> {
    const want = options.status ?? 200;
    let last = 'no answer yet';
    return this.until(
      async () => {
        const answer = await httpGet(url, 5000).catch((error: unknown) => {
          last = String(error);
          return undefined;
        });
        if (!answer) return undefined;
        last = `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`;
        if (answer.status !== want || (options.accept && !options.accept(answer.body))) {
          return undefined;
        }
        return { ...answer, ms: this.elapsed() };
      },
      `${url} to answer ${want}`,
      options.timeoutMs,
      1000,
      () => `last: ${last}`,
    );
  }

  /** Runs `argv` in the guest as root through the guest agent. */
  exec(argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<GuestResult> {
    this.assertRunning(`run ${argv.join(' ')} in the guest`);
    return guestExec(this.guestAgentSocket, argv, options);
  }

  /** Runs `argv` in the guest and returns its stdout; throws with its stderr unless it exits 0. */
  async run(argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
    const result = await this.exec(argv, options);
    if (result.exitCode !== 0) {
      throw new Error(
        `${argv.join(' ')} exited with ${result.exitCode ?? `signal ${result.signal}`} in the guest:\n${result.stderr}${result.stdout}`,
      );
    }
    return result.stdout;
  }

  /** The guest's boot id (a new one on every boot). */
  async bootId(timeoutMs = 60_000): Promise<string> {
    return (await this.run(['cat', '/proc/sys/kernel/random/boot_id'], { timeoutMs })).trim();
  }

  /**
   * Reboots the guest OS the clean way (the guest agent runs `shutdown -r`: systemd stops every
   * service, the kernel resets through ACPI) and waits until the new boot runs commands again.
   * Returns when the reset happened and when the guest answered again (ms since QEMU started).
   */
  async reboot(timeoutMs = 300_000): Promise<{ resetMs: number; upMs: number; bootId: string }> {
    const deadline = Date.now() + timeoutMs;
    const before = await this.bootId();
    const from = this.qmp.events.length;
    this.log(`vm ${this.name}: rebooting the guest (${Math.round(this.elapsed() / 1000)} s)`);
    await guestShutdown(this.guestAgentSocket, 'reboot');
    const reset = await this.qmp.waitForEvent(
      (e) => e.event === 'RESET' && e.data.guest === true,
      deadline - Date.now(),
      from,
      'the guest to reset itself (reboot)',
    );
    const bootId = await this.until(
      async () => {
        const id = await this.bootId(10_000);
        return id && id !== before ? id : undefined;
      },
      'the guest to answer again after the reboot',
      Math.max(1000, deadline - Date.now()),
      1000,
    );
    const upMs = this.elapsed();
    this.log(`vm ${this.name}: guest is back after the reboot (${Math.round(upMs / 1000)} s)`);
    return { resetMs: reset.at - this.startedAt, upMs, bootId };
  }

  /**
   * Waits until the guest powers itself off (QEMU exits after a guest-initiated SHUTDOWN event);
   * throws if QEMU ended any other way or is still running after `timeoutMs`.
   */
  async waitForPowerOff(timeoutMs: number): Promise<PowerOff> {
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.qemu.exited,
      new Promise<undefined>(
        (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
      ),
    ]);
    clearTimeout(timer);
    if (exit === undefined) {
      throw new Error(`the guest did not power off within ${Math.round(timeoutMs / 1000)} s`);
    }
    const ms = this.elapsed();
    const shutdown = this.qmp.events.find((e) => e.event === 'SHUTDOWN');
    if (this.stopping) throw new Error('QEMU was stopped by the harness, not by a guest power-off');
    if (exit !== 0 || !shutdown || shutdown.data.guest !== true) {
      throw new Error(
        `QEMU ended (${exit}) without a guest power-off (${shutdown ? JSON.stringify(shutdown.data) : 'no SHUTDOWN event'}):\n${this.qemuErrors()}`,
      );
    }
    return { ms, reason: String(shutdown.data.reason) };
  }

  /** Runs `body`; if it throws, the error carries the tail of the serial console (also saved). */
  async check<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Stops QEMU (QMP quit, then SIGTERM/SIGKILL by PID) and waits for it to exit. */
  async stop(): Promise<void> {
    this.stopping = this.stopping || this.running;
    if (this.running) {
      await Promise.race([
        this.qmp.execute('quit').catch(() => undefined),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
      await Promise.race([this.qemu.exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    await this.qemu.stop();
    this.qmp.close();
    if (!this.serialClosed) {
      this.serialClosed = true;
      await new Promise<void>((resolve) => this.serialFile.end(() => resolve()));
    }
  }

  /** An error that adds the serial tail (and where the whole log was saved) to `error`. */
  explain(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    const saved = this.saveSerial();
    return new Error(
      `${message}\n--- VM ${this.name}: last ${SERIAL_TAIL_LINES} lines of the serial console ` +
        `(${Math.round(this.elapsed() / 1000)} s after QEMU started; whole log: ${saved}) ---\n` +
        `${this.serialTail()}\n--- end of serial console ---` +
        (this.running ? '' : `\nQEMU has exited: ${this.qemuErrors()}`),
      { cause: error },
    );
  }

  /** The last lines QEMU itself wrote to stderr (not the serial console). */
  qemuErrors(): string {
    return this.stderr.trim().split('\n').slice(-10).join('\n') || '(QEMU wrote nothing to stderr)';
  }

  private saveSerial(): string {
    const dir = process.env.GITSTRAP_VM_LOG_DIR ?? path.join(os.tmpdir(), 'gitstrap-vm-logs');
    const file = path.join(
      dir,
      `${new Date().toISOString().replace(/[:.]/g, '-')}-${this.name}.serial.log`,
    );
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, this.serialText() + '\n' + this.partial);
      return file;
    } catch (error) {
      return `(not saved: ${String(error)})`;
    }
  }

  private receiveSerial(chunk: string): void {
    if (!this.serialClosed) this.serialFile.write(chunk);
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    const ms = this.elapsed();
    for (const line of lines) this.serial.push({ ms, text: line.replace(TERMINAL_ESCAPES, '') });
  }

  private assertRunning(what: string): void {
    if (!this.running) throw new Error(`cannot ${what}: QEMU has exited\n${this.qemuErrors()}`);
  }

  /** Polls `probe` until it returns a value; fails early if QEMU exits, or after `timeoutMs`. */
  private async until<T>(
    probe: () => Promise<T | undefined>,
    what: string,
    timeoutMs: number,
    everyMs: number,
    detail: () => string = () => '',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        lastError = error;
      }
      if (!this.running) {
        throw new Error(`QEMU exited while waiting for ${what}\n${this.qemuErrors()}`);
      }
      if (Date.now() >= deadline) {
        const extra = detail() || (lastError ? String(lastError) : '');
        throw new Error(
          `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${extra ? ` (${extra})` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/**
 * Boots a VM for the test `t` (stopped by PID after it, pass or fail). Returns once QEMU runs and
 * its QMP socket answers; the guest is still booting.
 */
export async function startVm(t: Hooks, options: VmOptions): Promise<Vm> {
  const qemuBin = requireTool('qemu-system-x86_64', 'qemu-system-x86');
  const qemuImg = requireTool('qemu-img', 'qemu-utils');
  const log = options.log ?? ((line: string) => console.error(line));
  const name = options.name ?? 'vm';
  if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new Error(`expected a short VM name, got ${name}`);
  const image = options.image ?? (await ensureImage({ log }));
  const dir = tempDir(t, 'gitstrap-vm-');
  const disk = path.join(dir, 'disk.qcow2');
  await promisify(execFile)(
    qemuImg,
    ['create', '-q', '-f', 'qcow2', '-b', image.root, '-F', 'raw', disk],
    { timeout: 30_000 },
  );
  const seed = await writeSeed(dir, {
    userData: options.userData,
    metaData: planMetaData(`iid-gitstrap-${name}-${Date.now().toString(36)}`, `gitstrap-${name}`),
    networkConfig: planNetworkConfig(),
  });
  const forwards: PortForward[] = [];
  for (const guest of options.forward ?? []) forwards.push({ host: await freePort(), guest });
  const accel = await chooseAccel(qemuBin, image);
  const qmpSocket = path.join(dir, 'qmp.sock');
  const guestAgentSocket = path.join(dir, 'qga.sock');
  const args = planQemuArgs({
    accel,
    kernel: image.kernel,
    initrd: image.initrd,
    disk,
    seed,
    memoryMb: options.memoryMb ?? 1536,
    cpus: options.cpus ?? 2,
    mac: GUEST_MAC,
    forwards,
    qmpSocket,
    guestAgentSocket,
  });
  const serialFile = createWriteStream(path.join(dir, 'serial.log'));
  log(
    `vm ${name}: booting (${accel}, ${forwards.map((f) => `127.0.0.1:${f.host}->${f.guest}`).join(' ') || 'no forwards'})`,
  );
  const startedAt = Date.now();
  const qemu = startProcess(t, qemuBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let qmp: QmpClient;
  try {
    qmp = await Promise.race([
      QmpClient.connect(qmpSocket),
      qemu.exited.then((code) => Promise.reject(new Error(`QEMU exited (${code}) at start`))),
    ]);
  } catch (error) {
    await qemu.stop();
    throw new Error(`QEMU did not start: ${String(error)}\n${qemu.output().slice(-2000)}`, {
      cause: error,
    });
  }
  const vm = new Vm(
    name,
    accel,
    startedAt,
    qemu,
    qmp,
    forwards,
    dir,
    guestAgentSocket,
    serialFile,
    log,
  );
  t.after(() => vm.stop());
  return vm;
}

/** Boots a VM, runs `body` with it (a failure carries the serial tail), and stops it. */
export async function withVm<T>(
  t: Hooks,
  options: VmOptions,
  body: (vm: Vm) => Promise<T>,
): Promise<T> {
  const vm = await startVm(t, options);
  try {
    return await vm.check(() => body(vm));
  } finally {
    await vm.stop();
  }
}

/** True while a process with this PID exists. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
