// `npm run bench:launcher`: what the launcher commands cost to start, as a person feels it: the built
// bin run as a process, medians of interleaved runs, side by side with the baseline of starting
// Node itself (`node -e 0`). Commands that need no AWS must not pay for loading the AWS SDK
// (imported only inside the AWS commands' run()); `ls` and `launch --no-wait` talk to a local
// recording endpoint on 127.0.0.1 (test/ec2/wire-endpoint.ts), so their figures are the SDK's
// load plus real SDK requests, without any network.
//
//   BENCH_RUNS=15 npm run bench:launcher     (needs npm run build first)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWireEndpoint } from '../test/ec2/wire-endpoint.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/bootstrap.js');
if (!existsSync(path.join(root, 'dist/cli.js'))) {
  console.error('dist/cli.js is missing: run "npm run build" first');
  process.exit(1);
}

const closers: Array<() => unknown> = [];
const endpoint = await startWireEndpoint({ after: (fn: () => unknown) => void closers.push(fn) });
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: endpoint.url,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
};

const cases: Array<{ name: string; args: string[]; node?: boolean }> = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'], node: true },
  { name: 'bootstrap --help', args: ['--help'] },
  { name: 'bootstrap iam-policy', args: ['iam-policy'] },
  { name: 'bootstrap ls (4 SDK calls)', args: ['ls'] },
  {
    name: 'bootstrap launch --no-wait',
    args: ['launch', '-r', 'open-qa', '--image', 'ami-0123456789abcdef0', '--no-wait'],
  },
];

/** Runs one command line to completion (asynchronously: the endpoint answers in this process). */
function runOnce(args: string[], node: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, node ? args : [bin, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(performance.now() - start);
    });
  });
}

const samples = cases.map(() => [] as number[]);
for (let run = 0; run < RUNS + 1; run++) {
  for (const [i, c] of cases.entries()) {
    const ms = await runOnce(c.args, c.node ?? false);
    if (run > 0) samples[i]!.push(ms); // the first round warms the file cache
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples[0]!);
const helpMs = median(samples[1]!);
console.log(`launcher start-up, ${RUNS} interleaved runs each (Node ${process.version})\n`);
console.log(
  `${'command'.padEnd(32)} ${'median'.padStart(9)} ${'x node -e 0'.padStart(12)} ${'over --help'.padStart(12)}`,
);
for (const [i, c] of cases.entries()) {
  const m = median(samples[i]!);
  console.log(
    `${c.name.padEnd(32)} ${`${m.toFixed(0)} ms`.padStart(9)} ${(m / base).toFixed(2).padStart(12)} ${`${(m - helpMs).toFixed(0)} ms`.padStart(12)}`,
  );
}
console.log(`\nrequests the endpoint answered: ${endpoint.requests.length}`);
for (const close of closers) await close();
