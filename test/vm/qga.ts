// A small client for the QEMU guest agent (qemu-guest-agent in the image) on the host end of its
// virtio serial port: run a command in the guest as root and get its exit code and output. It is
// the harness's way into the guest (cloud-init status, files, reboot), with no network or ssh.
import net from 'node:net';

/** What a command run in the guest ended with. */
export interface GuestResult {
  exitCode: number | null;
  /** The signal that ended it, if any. */
  signal: number | null;
  stdout: string;
  stderr: string;
}

/** One connection to the guest agent, synchronised so stale replies are dropped. */
class GuestAgentConnection {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /** Sends a guest-sync-delimited and drops everything up to its reply (the 0xFF marker). */
  async sync(timeoutMs: number): Promise<void> {
    const id = Math.floor(Math.random() * 2 ** 31);
    this.buffer = Buffer.alloc(0);
    this.send('guest-sync-delimited', { id });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const marker = this.buffer.lastIndexOf(0xff);
      if (marker >= 0) {
        this.buffer = this.buffer.subarray(marker + 1);
        const reply = (await this.reply(deadline)) as number;
        if (reply === id) return;
      } else await this.more(deadline);
    }
  }

  /** Runs one command and returns its `return` value. */
  async execute(command: string, args: Record<string, unknown>, timeoutMs: number) {
    this.send(command, args);
    return this.reply(Date.now() + timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  private send(command: string, args: Record<string, unknown>): void {
    this.socket.write(JSON.stringify({ execute: command, arguments: args }) + '\n');
  }

  private async reply(deadline: number): Promise<unknown> {
    for (;;) {
      const newline = this.buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.buffer.subarray(0, newline).toString('utf8').trim();
        this.buffer = this.buffer.subarray(newline + 1);
        if (!line) continue;
        const message = JSON.parse(line) as { return?: unknown; error?: { desc?: string } };
        if (message.error) throw new Error(`guest agent: ${message.error.desc ?? line}`);
        return message.return;
      }
      await this.more(deadline);
    }
  }

  private more(deadline: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('guest agent connection closed'));
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(new Error('guest agent did not answer in time'));
    return new Promise((resolve) => {
      const timer = setTimeout(done, left);
      this.waiter = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

async function connect(path: string): Promise<GuestAgentConnection> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  return new GuestAgentConnection(socket);
}

/**
 * Opens a synchronised connection to the guest agent, retrying (the agent starts during boot)
 * until `timeoutMs` runs out.
 */
export async function connectGuestAgent(
  path: string,
  timeoutMs: number,
): Promise<GuestAgentConnection> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let connection: GuestAgentConnection | undefined;
    try {
      connection = await connect(path);
      await connection.sync(Math.min(3000, Math.max(500, deadline - Date.now())));
      return connection;
    } catch (error) {
      lastError = error;
      connection?.close();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(
    `the guest agent did not answer within ${timeoutMs} ms (is the guest up?): ${String(lastError)}`,
  );
}

/** Runs `argv` in the guest as root, waits up to `timeoutMs` for it to end, returns its result. */
export async function guestExec(
  socketPath: string,
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<GuestResult> {
  const [path, ...arg] = argv;
  if (path === undefined) throw new Error('guestExec needs a command');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const connection = await connectGuestAgent(socketPath, timeoutMs);
  try {
    const started = (await connection.execute(
      'guest-exec',
      {
        path,
        arg,
        'capture-output': true,
        ...(options.input === undefined
          ? {}
          : { 'input-data': Buffer.from(options.input).toString('base64') }),
      },
      10_000,
    )) as { pid: number };
    while (Date.now() < deadline) {
      const status = (await connection.execute(
        'guest-exec-status',
        { pid: started.pid },
        10_000,
      )) as {
        exited: boolean;
        exitcode?: number;
        signal?: number;
        'out-data'?: string;
        'err-data'?: string;
      };
      if (status.exited) {
        return {
          exitCode: status.exitcode ?? null,
          signal: status.signal ?? null,
          stdout: Buffer.from(status['out-data'] ?? '', 'base64').toString('utf8'),
          stderr: Buffer.from(status['err-data'] ?? '', 'base64').toString('utf8'),
        };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${argv.join(' ')} did not end in the guest within ${timeoutMs} ms`);
  } finally {
    connection.close();
  }
}

/** Asks the guest agent to reboot or power off the guest the clean way (shutdown -r / -P). */
export async function guestShutdown(
  socketPath: string,
  mode: 'reboot' | 'powerdown',
  timeoutMs = 30_000,
): Promise<void> {
  const connection = await connectGuestAgent(socketPath, timeoutMs);
  try {
    // On success guest-shutdown sends no reply: send it and give the agent a moment to act on it.
    connection.execute('guest-shutdown', { mode }, 2000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    connection.close();
  }
}
