// --set values are taken exactly as written, or refused with the reason: never folded, trimmed or
// cut short silently. And the values that reach a shell on the instance are what they claim to be:
// serve.host an address or a host name, agent.source a package spec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProblemLines, parseRecipe } from '../../src/recipe/load.js';

const minimal = `name: demo-app
service:
  repo: https://example.org/app.git
  runtime: static
`;

function messages(text: string, sets: string[] = []): string[] {
  return parseRecipe(text, 'r.yaml', sets).problems.flatMap(formatProblemLines);
}

describe('--set values are never folded or cut short', () => {
  test('a line break in agent.source is refused, not folded into a space', () => {
    const { recipe, problems } = parseRecipe(minimal, 'r.yaml', ['agent.source=npm:x\ntouch y']);
    assert.equal(recipe, undefined);
    assert.deepEqual(problems.flatMap(formatProblemLines), [
      '--set agent.source=npm:x\\ntouch y: agent.source: expected "npm:<package spec>" (no spaces or control characters) or "image", got "npm:x\\ntouch y"',
    ]);
  });

  test('a single value keeps its spaces and its " #"', () => {
    assert.match(
      messages(minimal, ['agent.source= npm:x'])[0]!,
      /agent\.source: expected "npm:<package spec>".*, got " npm:x"$/,
    );
    assert.match(
      messages(minimal, ['agent.source=npm:x #y'])[0]!,
      /agent\.source: expected "npm:<package spec>".*, got "npm:x #y"$/,
    );
    assert.equal(
      parseRecipe(minimal, 'r.yaml', ['agent.source=npm:x@1']).recipe?.agent.source,
      'npm:x@1',
    );
  });

  test('a line break inside a value of a list is refused; between values it is fine', () => {
    assert.deepEqual(messages(minimal, ['service.start=[php, "a\nb"]']), [
      '--set service.start=[php, "a\\nb"]: service.start: YAML would fold the line break inside a value into a space',
      '  hint: write a line break as \\n inside double quotes ("a\\nb"), or keep the value on one line',
    ]);
    assert.equal(messages(minimal, ['service.start=[php,\n  plain\n  text]']).length, 2);
    const { recipe } = parseRecipe(minimal.replace('static', 'process'), 'r.yaml', [
      'service.start=[\n  php,\n  "-S",\n  "a\\nb"\n]',
    ]);
    assert.deepEqual(recipe?.service.start, ['php', '-S', 'a\nb']);
  });

  test('a comment YAML would drop is refused', () => {
    assert.deepEqual(messages(minimal, ['service.start=[php, -S] # x']), [
      '--set service.start=[php, -S] # x: service.start: YAML would drop the comment (# ...) in this value',
      '  hint: quote a value that holds " #": "a #b"',
    ]);
  });

  test('aliases in a --set value are bounded too', () => {
    const bomb = `[${Array.from({ length: 200 }, () => '*a').join(', ')}]`;
    const lines = messages(minimal.replace('static', 'process'), [`service.start=[&a x, ${bomb}]`]);
    assert.match(
      lines[0]!,
      /^--set service\.start=.*: service\.start: YAML aliases: more than 100 aliases$/,
    );
  });
});

describe('serve.host is an address or a host name', () => {
  for (const host of [
    '0.0.0.0',
    '127.0.0.1',
    '::',
    '::1',
    'fe80::1',
    'localhost',
    'api.example.org',
    'yes',
  ]) {
    test(`accepts ${host}`, () => {
      const { recipe, problems } = parseRecipe(minimal, 'r.yaml', [`serve.host=${host}`]);
      assert.deepEqual(problems, []);
      assert.equal(recipe?.serve.host, host);
    });
  }

  for (const host of [
    'x $(touch /tmp/p)',
    '',
    '[::1]',
    '1.2.3.4.5',
    '999.1.1.1',
    'a..b',
    '-a.example.org',
    'hôte',
    'a\nb',
    'x'.repeat(64) + '.org',
  ]) {
    test(`refuses ${JSON.stringify(host)}`, () => {
      const [first] = messages(minimal, [`serve.host=${host}`]);
      assert.ok(
        first!.startsWith(
          `--set serve.host=${host.replace(/\n/g, '\\n')}: serve.host: expected an IP address (v4 or v6) or a host name, e.g. 0.0.0.0, ::, 127.0.0.1 or localhost, got "`,
        ),
        first,
      );
    });
  }

  test('in a file too, with its line', () => {
    assert.deepEqual(messages(`${minimal}serve:\n  host: x $(touch /tmp/p)\n`), [
      'r.yaml:6:9: serve.host: expected an IP address (v4 or v6) or a host name, e.g. 0.0.0.0, ::, 127.0.0.1 or localhost, got "x $(touch /tmp/p)"',
    ]);
  });
});

describe('agent.source npm: is a package spec', () => {
  for (const spec of [
    'gitstrap',
    'gitstrap@1.2.3',
    '@acme/gitstrap@^2',
    'gitstrap@latest',
    '0755',
  ]) {
    test(`accepts npm:${spec}`, () => {
      assert.deepEqual(messages(minimal, [`agent.source=npm:${spec}`]), []);
    });
  }
  for (const spec of ['x touch y', 'x\ty', '-g', 'x\u0000y', '', 'x\u200by']) {
    test(`refuses npm:${JSON.stringify(spec)}`, () => {
      const text = `${minimal}agent:\n  source: ${JSON.stringify(`npm:${spec}`)}\n`;
      assert.match(
        messages(text)[0]!,
        /agent\.source: expected "npm:<package spec>" \(no spaces or control characters\) or "image"/,
      );
    });
  }
});
