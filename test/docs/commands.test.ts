// Every command README.md and docs/*.md show, run against the built CLI so the docs cannot rot.
//
// A line in a code block whose command (after an optional "$ " prompt; each part of a `&&` or `|`
// chain) starts with `bootstrap ` or `npm run ` is a shown command. It is run for real in a temp
// folder, with local stand-ins: the EC2 commands talk to the recording endpoint on 127.0.0.1
// (test/ec2/wire-endpoint.ts), `launch` gets --no-wait (no instance boots here), `--endpoint-url`
// points at that endpoint, and a placeholder (DEPLOYMENT, X, URL) becomes a real value. A usage line
// (one with [optional] parts) and a command named in prose (`bootstrap ...` in backticks) are
// checked, not run: the command exists, every option parses (`... --help` exits 0) and a recipe
// named exists. A shown command that cannot run here is listed in NOT_RUN with its reason, and gets
// the same check; a new one fails until it runs or is listed. Failures name the doc file and line.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startWireEndpoint } from '../ec2/wire-endpoint.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';

/** Shown commands that are not run here, by their text (comment left out), each with why. */
const NOT_RUN: Record<string, string> = {
  'npm run demo': 'serves the demo until Ctrl-C; test/cli and test/serve cover what it runs',
  'npm run setup:test': 'installs system packages (apt, needs root)',
  'npm test': 'the whole test suite, this test among it',
  'npm run bench:fleet': 'a benchmark that runs for minutes (npm run bench:fleet is its own check)',
  'bootstrap publish --recipe open-qa --from /var/qa/cache_storage_for_open_qa --once':
    "reads a publisher host's folder and pushes to open-qa's data repo on GitHub; test/publish runs publish against local repos",
};

/** Stand-ins for the placeholders a runnable command may carry. */
const PLACEHOLDER_RECIPE = 'open-qa';

interface DocCommand {
  file: string;
  line: number;
  /** The command as written, comment left out. */
  text: string;
  argv: string[];
  /** `run`: a shown command; `usage`: a usage line; `prose`: named in backticks outside a block. */
  kind: 'run' | 'usage' | 'prose';
}

/** The doc files: README.md and docs/*.md. */
function docFiles(): string[] {
  const docs = readdirSync(path.join(projectRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** Shell-like words of `text`: quotes kept together, an unquoted `#` after a space ends it. */
function words(text: string): Array<{ word: string; quoted: boolean }> {
  const out: Array<{ word: string; quoted: boolean }> = [];
  let word = '';
  let quoted = false;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      word += text.slice(i + 1, end === -1 ? undefined : end);
      i = end === -1 ? text.length : end;
      quoted = inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) out.push({ word, quoted });
      word = '';
      quoted = inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push({ word, quoted });
  return out;
}

const REDIRECT = /^(?:\d?>>?|<|\d?>&\d)$/;

/**
 * The commands in one line: split at `&&`, `;` and (outside a usage line) `|`; redirections and
 * their targets left out. A usage line's brackets and `...` go, and `a|b` alternatives keep `a`.
 */
function commandsOf(text: string): Array<{ argv: string[]; usage: boolean }> {
  const usage = /\[[^\]]*\]/.test(text.replace(/"[^"]*"|'[^']*'/g, ''));
  const source = usage ? text.replace(/[[\]]/g, ' ') : text;
  const parts: Array<{ argv: string[]; usage: boolean }> = [];
  let argv: string[] = [];
  const list = words(source);
  for (let i = 0; i < list.length; i++) {
    const { word, quoted } = list[i]!;
    if (!quoted && (word === '&&' || word === ';' || (!usage && word === '|'))) {
      parts.push({ argv, usage });
      argv = [];
    } else if (!quoted && REDIRECT.test(word)) {
      if (!word.includes('&')) i++;
    } else if (!quoted && /^\d?>>?\S/.test(word)) {
      continue;
    } else if (!quoted && usage && (word === '...' || word === '|')) {
      continue;
    } else {
      argv.push(usage && !quoted ? word.split('|')[0]! : word);
    }
  }
  parts.push({ argv, usage });
  return parts.filter((p) => p.argv.length > 0);
}

const isShown = (argv: readonly string[]): boolean =>
  argv[0] === 'bootstrap' || (argv[0] === 'npm' && (argv[1] === 'run' || argv[1] === 'test'));

/** The commands one markdown text shows or names. */
function extractCommands(file: string, markdown: string): DocCommand[] {
  const found: DocCommand[] = [];
  const lines = markdown.split('\n');
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const open = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (open) {
      if (fence === undefined) fence = open[1];
      else if (raw.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence !== undefined) {
      let text = raw.trim().replace(/^\$ /, '');
      if (!/^(?:bootstrap|npm) /.test(text) && text !== 'npm test') continue;
      // A usage line may go on over indented lines that start with an option.
      while (i + 1 < lines.length && /^\s+[[-]/.test(lines[i + 1]!))
        text += ` ${lines[++i]!.trim()}`;
      for (const { argv, usage } of commandsOf(text)) {
        if (!isShown(argv)) continue;
        found.push({
          file,
          line: i + 1,
          text: argv.join(' '),
          argv,
          kind: usage ? 'usage' : 'run',
        });
      }
      continue;
    }
    for (const m of raw.matchAll(/`((?:bootstrap|npm run|npm test)\b[^`]*)`/g)) {
      for (const { argv, usage } of commandsOf(m[1]!)) {
        if (!isShown(argv)) continue;
        found.push({
          file,
          line: i + 1,
          text: argv.join(' '),
          argv,
          kind: usage ? 'usage' : 'prose',
        });
      }
    }
  }
  return found;
}

/** An all-capitals word a reader replaces (DEPLOYMENT, X, URL, KEY=VALUE, FILE). */
const isPlaceholder = (word: string): boolean =>
  /^[A-Z][A-Z0-9_]*(?:=[A-Z][A-Z0-9_]*)?$/.test(word);

const packageScripts = (): Record<string, string> =>
  (
    JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

/** Checks an npm command: the script it runs exists (a `bench:*` glob matches one at least). */
function checkNpm(argv: readonly string[]): string | undefined {
  const name = argv[1] === 'test' ? 'test' : argv[2];
  if (name === undefined) return 'npm run without a script';
  const scripts = Object.keys(packageScripts());
  const glob = new RegExp(`^${name.replace(/[.+?^${}()|\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return scripts.some((s) => glob.test(s)) ? undefined : `package.json has no script "${name}"`;
}

/** The first line of what a failed run said. */
const said = (r: CliResult): string =>
  `exit ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split('\n').slice(0, 2).join(' / ')}`;

interface Runner {
  run(args: readonly string[]): Promise<CliResult>;
  recipes: Map<string, string | undefined>;
}

/** Checks a bootstrap command without running it: command and options parse, its recipe exists. */
async function checkParses(runner: Runner, argv: readonly string[]): Promise<string | undefined> {
  const args = argv.slice(1);
  const parsed = await runner.run([...args, '--help']);
  if (parsed.code !== 0) return said(parsed);
  const at = args.findIndex((a) => a === '--recipe' || a === '-r');
  const recipe = at === -1 ? undefined : args[at + 1];
  if (recipe === undefined || isPlaceholder(recipe)) return undefined;
  if (!runner.recipes.has(recipe)) {
    const r = await runner.run(['validate', '--recipe', recipe]);
    runner.recipes.set(recipe, r.code === 0 ? undefined : `recipe "${recipe}": ${said(r)}`);
  }
  return runner.recipes.get(recipe);
}

/** Checks every command found; returns the failures, each naming its file and line. */
async function checkAll(
  commands: readonly DocCommand[],
  runner: Runner,
  endpoint: string,
): Promise<{ failures: string[]; ran: number; checked: number }> {
  const failures: string[] = [];
  let ran = 0;
  let checked = 0;
  let deployment: string | undefined;
  for (const c of commands) {
    const where = `${c.file}:${c.line}: \`${c.text}\``;
    let problem: string | undefined;
    if (c.argv[0] === 'npm') {
      problem = checkNpm(c.argv);
      if (problem === undefined && c.kind === 'run' && NOT_RUN[c.text] === undefined) {
        problem = 'not run: add it to NOT_RUN in test/docs/commands.test.ts with the reason';
      }
      checked++;
    } else if (c.kind !== 'run' || NOT_RUN[c.text] !== undefined) {
      problem = await checkParses(runner, c.argv);
      checked++;
    } else {
      const args = c.argv.slice(1).map((a, i, all) => {
        if (all[i - 1] === '--endpoint-url') return endpoint;
        if (a === 'DEPLOYMENT') return deployment ?? a;
        if (a === 'X' || a === 'NAME') return PLACEHOLDER_RECIPE;
        if (a === 'URL') return 'https://example.org/gitstrap';
        return a;
      });
      const left = args.find(isPlaceholder);
      if (left !== undefined) {
        problem = `no stand-in for ${left} (DEPLOYMENT needs a \`bootstrap launch\` shown before it)`;
      } else {
        if (args[0] === 'launch' && !args.includes('--no-wait')) args.push('--no-wait');
        const r = await runner.run(args);
        if (r.code !== 0) problem = said(r);
        else if (args[0] === 'launch') deployment = r.stdout.trim().split('\n').pop();
        ran++;
      }
    }
    if (problem !== undefined) failures.push(`${where}: ${problem}`);
  }
  return { failures, ran, checked };
}

/** Runs the built CLI in `cwd` against the recording endpoint, with fake credentials. */
function runnerAt(cwd: string, endpoint: string): Runner {
  const env: NodeJS.ProcessEnv = {
    AWS_ACCESS_KEY_ID: 'AKIDDOCSTEST',
    AWS_SECRET_ACCESS_KEY: 'docs-test-secret',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoint,
  };
  return { run: (args) => runCli(args, { cwd, env }), recipes: new Map() };
}

function requireBuild(): void {
  if (!existsSync(path.join(projectRoot, 'dist/cli.js'))) {
    throw new Error('dist/cli.js is missing: run "npm run build" before the docs-commands test');
  }
}

describe('the commands in README.md and docs/*.md', () => {
  test('finds shown commands, usage lines and prose mentions', () => {
    const md = [
      'Run `bootstrap ls` or `npm run gen`.',
      '```sh',
      '$ bootstrap validate --recipe open-qa   # a comment | not a pipe',
      'bootstrap userdata --recipe X > user-data && npm run build',
      'bootstrap launch --recipe R [--ttl 30d|none]',
      '    [--image AMI | --os debian-12|al2023] [--set KEY=VALUE ...] [--bootparams "a b"]',
      'echo bootstrap ls',
      '```',
    ].join('\n');
    const found = extractCommands('x.md', md).map((c) => [c.line, c.kind, c.text]);
    assert.deepEqual(found, [
      [1, 'prose', 'bootstrap ls'],
      [1, 'prose', 'npm run gen'],
      [3, 'run', 'bootstrap validate --recipe open-qa'],
      [4, 'run', 'bootstrap userdata --recipe X'],
      [4, 'run', 'npm run build'],
      [
        6,
        'usage',
        'bootstrap launch --recipe R --ttl 30d --image AMI --os debian-12 --set KEY=VALUE --bootparams a b',
      ],
    ]);
  });

  test('every one runs, or parses and names a recipe that exists', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    const workDir = tempDir(t, 'gitstrap-docs-');
    const runner = runnerAt(workDir, endpoint.url);
    const commands = docFiles().flatMap((f) =>
      extractCommands(f, readFileSync(path.join(projectRoot, f), 'utf8')),
    );
    const listed = new Set(commands.filter((c) => c.kind === 'run').map((c) => c.text));
    const stale = Object.keys(NOT_RUN).filter((text) => !listed.has(text));
    const { failures, ran, checked } = await checkAll(commands, runner, endpoint.url);
    assert.deepEqual(failures, [], `commands in the docs that fail:\n${failures.join('\n')}`);
    assert.deepEqual(stale, [], 'NOT_RUN lists commands the docs no longer show');
    // Not vacuous: the README's and ec2.md's commands ran, the EC2 ones against the endpoint.
    assert.ok(ran >= 8, `only ${ran} commands ran`);
    assert.ok(checked >= 20, `only ${checked} commands checked`);
    assert.ok(endpoint.of('ec2:RunInstances').length > 0, 'no launch reached the endpoint');
    assert.ok(endpoint.of('ec2:TerminateInstances').length > 0, 'no down reached the endpoint');
  });

  test('fails naming the file and line of an unknown command, option or recipe', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    const workDir = tempDir(t, 'gitstrap-docs-');
    const md = [
      '```sh',
      'bootstrap lss',
      'bootstrap validate --recipe open-qa --strict-mode',
      'bootstrap validate --recipe no-such-recipe',
      'bootstrap ls [--jsonn]',
      'npm run no-such-script',
      '```',
      'And `bootstrap userdata --recipe nope`.',
    ].join('\n');
    const { failures } = await checkAll(
      extractCommands('bad.md', md),
      runnerAt(workDir, endpoint.url),
      endpoint.url,
    );
    assert.equal(failures.length, 6, failures.join('\n'));
    assert.match(failures[0]!, /^bad\.md:2: `bootstrap lss`: exit 2: error: unknown command "lss"/);
    assert.match(failures[1]!, /^bad\.md:3: .*unknown option --strict-mode/);
    assert.match(failures[2]!, /^bad\.md:4: .*no-such-recipe/);
    assert.match(failures[3]!, /^bad\.md:5: .*unknown option --jsonn/);
    assert.match(failures[4]!, /^bad\.md:6: .*package\.json has no script "no-such-script"/);
    assert.match(failures[5]!, /^bad\.md:8: .*recipe "nope"/);
  });
});
