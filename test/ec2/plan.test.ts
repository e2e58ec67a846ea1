// Planning a launch from the recipe and the flags: defaults, overrides, ids, and bad flags refused
// with a message that says what was expected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planLaunch, recipeForPlan, type LaunchFlags } from '../../src/ec2/plan.js';
import { isDeploymentId, newDeploymentId, readDeploymentTags } from '../../src/ec2/tags.js';
import { UsageError } from '../../src/lib/errors.js';
import { recipeFrom } from './harness.js';

const NOW = new Date('2026-11-22T10:00:00.000Z');
const RECIPE = recipeFrom(`name: open-qa
service: { repo: https://example.org/qa.git, runtime: static }
ttl: 30d
launch: { os: ubuntu-24.04, open_port: true, region: eu-west-1 }
`);

function plan(flags: LaunchFlags) {
  return planLaunch(RECIPE, flags, { now: NOW, random: () => 0 });
}

describe('planLaunch', () => {
  test("the recipe's launch section gives the defaults; flags override them", () => {
    const p = plan({});
    assert.equal(p.deployment, 'open-qa-20261122-0000');
    assert.deepEqual(p.image, { os: 'ubuntu-24.04' });
    assert.equal(p.openPort, true);
    assert.equal(p.region, 'eu-west-1');
    assert.equal(p.instanceType, 't3.micro');
    assert.equal(p.expiresAt?.toISOString(), '2026-12-22T10:00:00.000Z');
    const q = plan({
      image: 'ami-0123456789abcdef0',
      region: 'us-east-2',
      ttl: '2h',
      instanceType: 't3.large',
    });
    assert.deepEqual(q.image, { ami: 'ami-0123456789abcdef0' });
    assert.equal(q.region, 'us-east-2');
    assert.equal(q.expiresAt?.toISOString(), '2026-11-22T12:00:00.000Z');
    assert.equal(q.instanceType, 't3.large');
    // An EC2-compatible cloud's image ids: Eucalyptus names its machine images emi-.
    assert.deepEqual(plan({ image: 'emi-1a2b3c4d' }).image, { ami: 'emi-1a2b3c4d' });
    assert.deepEqual(plan({ image: 'emi-DFA537C5' }).image, { ami: 'emi-DFA537C5' });
  });

  test("a fleet's instances power off a grace period after the group scales to zero", () => {
    const p = plan({ fleet: true, count: '3' });
    assert.equal(p.count, 3);
    assert.equal(p.userDataExpiresAt?.toISOString(), '2026-12-22T10:15:00.000Z');
  });

  test("--ttl none: no expiry, and the instance's recipe loses its ttl too", () => {
    const p = plan({ ttl: 'none' });
    assert.equal(p.expiresAt, undefined);
    assert.equal(recipeForPlan(RECIPE, p).ttl, undefined);
    assert.equal(recipeForPlan(RECIPE, plan({ ttl: '2h' })).ttl, '2h');
    assert.equal(recipeForPlan(RECIPE, plan({})).ttl, '30d');
  });

  test('bad flags: usage errors saying what was expected', () => {
    const cases: Array<[LaunchFlags, RegExp, RegExp?]> = [
      [
        { os: 'debian-13' },
        /--os debian-13: expected one of debian-12, ubuntu-24.04, al2023/,
        /did you mean --os debian-12\?/,
      ],
      [
        { image: 'debian' },
        /--image debian: expected an image id such as ami-0123456789abcdef0 \(emi-\.\.\. on Eucalyptus\)/,
      ],
      [{ image: 'eki-1a2b3c4d' }, /--image eki-1a2b3c4d: expected an image id/],
      [{ image: 'ami-0123456789abcdef0', os: 'al2023' }, /--image and --os both given/],
      [{ count: '0' }, /--count 0: expected a whole number from 1 to 50/],
      [{ count: 'three' }, /--count three: expected a whole number/],
      [{ ttl: '30 days' }, /--ttl 30 days: expected a duration of at least 1m/],
      [{ ttl: '10s' }, /--ttl 10s: expected a duration of at least 1m/],
    ];
    for (const [flags, message, hint] of cases) {
      assert.throws(
        () => plan(flags),
        (error: UsageError) => {
          assert.ok(error instanceof UsageError);
          assert.match(error.message, message);
          if (hint) assert.match(error.hint ?? '', hint);
          return true;
        },
      );
    }
  });
});

describe('deployment ids and tags', () => {
  test('ids: recipe, UTC date, four hex digits; recognised by shape', () => {
    assert.equal(
      newDeploymentId('open-qa', NOW, () => 0.6667),
      'open-qa-20261122-aaac',
    );
    assert.equal(
      newDeploymentId('a1', new Date('2027-01-02T23:59:59Z'), () => 0.99999),
      'a1-20270102-ffff',
    );
    assert.equal(isDeploymentId('open-qa-20261122-aaac'), true);
    for (const bad of [
      'open-qa',
      'open-qa-2026112-aaac',
      'Open-qa-20261122-aaac',
      '-x-20261122-aaac',
      'x-20261122-aaac;rm',
    ]) {
      assert.equal(isDeploymentId(bad), false, bad);
    }
  });

  test('tags read back: expiry parsed, foreign resources ignored', () => {
    assert.deepEqual(
      readDeploymentTags([
        { Key: 'gitstrap:deployment', Value: 'x-20261122-0000' },
        { Key: 'gitstrap:recipe', Value: 'x' },
        { Key: 'gitstrap:expires-at', Value: '2026-12-01T00:00:00.000Z' },
        { Key: 'Owner', Value: 'someone' },
      ]),
      {
        deployment: 'x-20261122-0000',
        recipe: 'x',
        expiresAt: new Date('2026-12-01T00:00:00.000Z'),
      },
    );
    assert.equal(readDeploymentTags([{ Key: 'Name', Value: 'web' }]), undefined);
    assert.equal(readDeploymentTags(undefined), undefined);
    assert.equal(
      readDeploymentTags([
        { Key: 'gitstrap:deployment', Value: 'x-20261122-0000' },
        { Key: 'gitstrap:expires-at', Value: 'soon' },
      ])?.expiresAt,
      undefined,
    );
  });
});
