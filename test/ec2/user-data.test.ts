// The user-data a launch sends schedules the deployment's own end at the instant its tags say: the
// userdata engine's expiry timer, wired with the plan's expiresAt (later for a fleet's backstop).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { TAG } from '../../src/ec2/tags.js';
import { renderLaunchUserData } from '../../src/ec2/launch-user-data.js';
import { loadRecipe } from '../../src/recipe/load.js';
import { projectRoot } from '../helpers/tools.js';
import { writtenFile } from '../helpers/user-data.js';

const NOW = new Date('2026-11-22T10:00:00.000Z');
const { recipe } = loadRecipe('fundraiser-auction', [], { cwd: projectRoot });

function render(flags: LaunchFlags) {
  const plan = planLaunch(recipe, flags, { now: NOW, random: () => 0 });
  return { plan, text: renderLaunchUserData(recipe, plan, '0.1.0').text };
}

const FIRST_BOOT = '/usr/local/lib/gitstrap/first-boot.sh';

describe('the user-data of a launch', () => {
  test('a ttl deployment powers itself off at the expiry its tags carry', () => {
    const { plan, text } = render({});
    const tag = plan.tags.find((t) => t.Key === TAG.expiresAt)!.Value;
    assert.equal(tag, '2026-12-22T10:00:00.000Z');
    const epoch = Date.parse(tag) / 1000;
    assert.ok(text.includes(`"--expires-at", "${epoch}"`), 'first boot gets the expiry');
    // The first-boot script's ttl step writes the timer and the service that powers off.
    const script = writtenFile(text, FIRST_BOOT) ?? '';
    assert.match(
      script,
      /^if \[ -n "\$expires_at" \] \|\| \[ -n "\$ttl_seconds" \]; then run_step ttl; fi$/m,
    );
    assert.match(
      script,
      />"\$R"'\/etc\/systemd\/system\/gitstrap-expire.timer'/,
      'the timer unit is written',
    );
    assert.match(script, /ExecStart=\/usr\/bin\/systemctl --no-block poweroff/);
    assert.match(text, /^ {4}ttl: 30d$/m, "the instance's recipe keeps its ttl");
  });

  test('--ttl overrides the recipe, on the instance too', () => {
    const { text } = render({ ttl: '2h' });
    assert.ok(text.includes(`"--expires-at", "${Date.parse('2026-11-22T12:00:00Z') / 1000}"`));
    assert.match(text, /^ {4}ttl: 2h$/m);
  });

  test('a fleet instance powers off 15 minutes after its group scales to zero (a backstop)', () => {
    const { plan, text } = render({ fleet: true, count: '2' });
    assert.equal(plan.expiresAt!.toISOString(), '2026-12-22T10:00:00.000Z');
    assert.ok(text.includes(`"--expires-at", "${Date.parse('2026-12-22T10:15:00Z') / 1000}"`));
  });

  test("--ttl none: no timer, no expiry, no ttl in the instance's recipe", () => {
    const { plan, text } = render({ ttl: 'none' });
    assert.equal(plan.expiresAt, undefined);
    assert.ok(!text.includes('"--expires-at"') && !text.includes('"--ttl-seconds"'));
    // The script is rendered with only what the recipe needs: no ttl step at all.
    const script = writtenFile(text, FIRST_BOOT);
    assert.match(script ?? '', /^#!\/bin\/sh/);
    assert.doesNotMatch(script ?? '', /gitstrap-expire|run_step ttl/);
    assert.doesNotMatch(text, /^ {4}ttl:/m);
  });
});
