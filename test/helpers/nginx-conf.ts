// The part of an nginx.conf every nginx run here shares (the tests' mirror server, bench:serve,
// bench:fleet): one process in the foreground, everything it writes under its own prefix.

/** The top of nginx.conf, up to `http {`: foreground, one process, pid and error log in `prefix`. */
export function nginxMain(prefix: string, workerConnections: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections ${workerConnections}; }
`;
}

/** The temp folders, inside `http {}`: under `prefix`, not in the distribution's /var/lib/nginx. */
export function nginxTempPaths(prefix: string): string {
  return ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind === 'body' ? 'client_body' : kind}_temp_path ${prefix}/${kind};`)
    .join('\n');
}
