// A small client for QEMU's machine protocol (QMP) on a unix socket: run a command, and record the
// events that tell a guest reboot (RESET) and a guest power-off (SHUTDOWN) from a crash or a kill.
import net from 'node:net';

/** One QMP event as QEMU sent it, with the time it arrived. */
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  /** Date.now() when it arrived. */
  at: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** A connected QMP session: commands in order, events appended to `events`. */
export class QmpClient {
  readonly events: QmpEvent[] = [];
  private readonly pending: Pending[] = [];
  private buffer = '';
  private closed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new Error('QMP connection closed'));
      this.notify();
    });
  }

  /** Connects to QEMU's QMP socket (retrying until it exists) and leaves capability negotiation. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await openSocket(path);
        const client = new QmpClient(socket);
        await client.greeting(Math.max(1000, deadline - Date.now()));
        await client.execute('qmp_capabilities');
        return client;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`could not connect to QEMU's QMP socket ${path}: ${String(error)}`, {
            cause: error,
          });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Runs a QMP command and returns its `return` value; throws QEMU's error description. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`QMP connection closed before ${command}`));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(
        JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n',
      );
    });
  }

  /** Resolves with the first event (after index `from`) that `match` accepts, or throws on timeout. */
  waitForEvent(
    match: (e: QmpEvent) => boolean,
    timeoutMs: number,
    from = 0,
    what = 'a QMP event',
  ): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(match);
        if (found) return finish(() => resolve(found));
        if (this.closed) finish(() => reject(new Error(`QEMU closed QMP before ${what}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))),
        timeoutMs,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }

  private greeting(timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no QMP greeting')), timeoutMs);
      this.pending.push({
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line) this.handle(JSON.parse(line) as Record<string, unknown>);
    }
  }

  private handle(message: Record<string, unknown>): void {
    if (typeof message.event === 'string') {
      const data = (message.data ?? {}) as Record<string, unknown>;
      this.events.push({ event: message.event, data, at: Date.now() });
      this.notify();
      return;
    }
    const pending = this.pending.shift();
    if (!pending) return;
    if ('QMP' in message) pending.resolve(message.QMP);
    else if ('error' in message) {
      const error = message.error as { desc?: string } | undefined;
      pending.reject(new Error(`QMP: ${error?.desc ?? JSON.stringify(message.error)}`));
    } else pending.resolve(message.return);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function openSocket(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}
