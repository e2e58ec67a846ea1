// The hand-written lower bound for a boot: a tiny Node service in a git repo, and a cloud-config
// that only clones it and starts it. The smoke test boots it; the boot benchmark compares gitstrap's
// user-data against it.
import { makeRepo } from '../helpers/git.js';

/** The port the minimal service listens on in the guest. */
export const MINIMAL_SERVICE_PORT = 8080;

/** What the guest prints on its serial console when cloud-init's final stage is done. */
export const FINAL_MESSAGE_MARK = 'gitstrap-vm: cloud-init finished';

/** A service repo whose server.js answers every request with index.txt; returns its commit. */
export function makeMinimalService(dir: string, token: string): string {
  return makeRepo(dir, {
    'index.txt': `${token}\n`,
    'server.js': [
      "const http = require('node:http');",
      "const fs = require('node:fs');",
      "const path = require('node:path');",
      'const port = Number(process.argv[2] || 8080);',
      'http',
      '  .createServer((req, res) => {',
      "    const file = req.url === '/extra' ? '/opt/extra.txt' : path.join(__dirname, 'index.txt');",
      '    fs.readFile(file, (error, body) => {',
      "      if (error) return res.writeHead(404).end('not found\\n');",
      "      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);",
      '    });',
      '  })',
      "  .listen(port, '0.0.0.0');",
      '',
    ].join('\n'),
  });
}

/** A file the user-data downloads from a host server and checks by sha256 before using it. */
export interface Download {
  url: string;
  sha256: string;
}

/**
 * The minimal cloud-config: clone the service from `repoUrl` (as the guest sees it) and start it as
 * a transient systemd service. With `download`, it also fetches a file by URL and checks its sha256
 * (as gitstrap's user-data does with the agent bundle); the service serves it at /extra.
 */
export function planMinimalUserData(options: { repoUrl: string; download?: Download }): string {
  const quote = (value: string) => JSON.stringify(value);
  const lines = ['#cloud-config', 'runcmd:'];
  if (options.download) {
    if (!/^[a-f0-9]{64}$/.test(options.download.sha256)) {
      throw new Error(`expected a sha256 of 64 hex digits, got ${options.download.sha256}`);
    }
    lines.push(
      `  - [curl, -fsS, --retry, '3', -o, /opt/extra.txt, ${quote(options.download.url)}]`,
      `  - [sh, -c, ${quote(`echo '${options.download.sha256}  /opt/extra.txt' | sha256sum -c -`)}]`,
    );
  }
  lines.push(
    `  - [git, clone, --quiet, --depth, '1', ${quote(options.repoUrl)}, /opt/svc]`,
    `  - [systemd-run, --unit=minimal-svc, /usr/bin/node, /opt/svc/server.js, '${MINIMAL_SERVICE_PORT}']`,
    `final_message: "${FINAL_MESSAGE_MARK} after $UPTIME seconds (cloud-init $VERSION)"`,
    '',
  );
  return lines.join('\n');
}
