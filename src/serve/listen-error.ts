// Why the agent could not listen, said so a person can fix it (port taken, privileges, address).
import { GitstrapError } from '../lib/errors.js';

/** The error to report when listening on `host:port` failed with `error`. */
export function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  if (error.code === 'EADDRINUSE') {
    return new GitstrapError(`port ${port} on ${host} is already in use`, {
      hint: 'stop whatever listens there (ss -ltnp shows it) or set serve.port to a free port',
      cause: error,
    });
  }
  if (error.code === 'EACCES') {
    return new GitstrapError(`not allowed to listen on port ${port} on ${host}`, {
      hint: 'ports below 1024 need CAP_NET_BIND_SERVICE (the gitstrap unit grants it) or a higher serve.port',
      cause: error,
    });
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new GitstrapError(`${host} is not an address of this machine`, {
      hint: 'set serve.host to 0.0.0.0, 127.0.0.1 or an address this machine has',
      cause: error,
    });
  }
  return new GitstrapError(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error });
}
