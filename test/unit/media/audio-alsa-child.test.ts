// The helper-process supervisor with stand-in helpers (/bin/sh scripts) and a FakeClock for
// the back-off: restart timing, giving up, xrun counting and storms, bounded stderr, and close().
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { AlsaChild, DEFAULT_ALSA_RESTART_POLICY, type AlsaRestartPolicy } from '../../../src/media/audio-alsa-child.js';
import { AudioDeviceError, type AudioRestart } from '../../../src/media/index.js';
import { FakeClock } from '../../../src/util/index.js';

const open: { child: AlsaChild; clock: FakeClock; killTimeoutMs: number }[] = [];
after(async () => {
  // The kill timer runs on each helper's FakeClock: advance it so a stubborn helper gets SIGKILL.
  await Promise.all(
    open.map(({ child, clock, killTimeoutMs }) => {
      const closing = child.close();
      clock.advance(killTimeoutMs);
      return closing;
    }),
  );
});

/** Polls `cond` until it holds (stderr lines have no event); fails clearly after `timeoutMs`. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A stand-in helper: a shell script, with what the supervisor reports about it. */
function helper(script: string, policy: Partial<AlsaRestartPolicy> = {}, killTimeoutMs = 1000) {
  const clock = new FakeClock();
  const seen = { spawns: [] as (AudioRestart | undefined)[], pids: [] as number[], xruns: 0, errors: [] as AudioDeviceError[], gone: 0 };
  const child = new AlsaChild({
    command: '/bin/sh',
    args: ['-c', script],
    stdio: 'capture',
    clock,
    policy: { ...DEFAULT_ALSA_RESTART_POLICY, ...policy },
    killTimeoutMs,
    hooks: {
      onSpawn: (c: ChildProcess, restart) => {
        seen.spawns.push(restart);
        seen.pids.push(c.pid ?? -1);
        c.stdout?.resume();
      },
      onGone: () => {
        seen.gone++;
      },
      onXrun: (count) => {
        seen.xruns = count;
      },
      onError: (err) => {
        seen.errors.push(err);
      },
    },
  });
  open.push({ child, clock, killTimeoutMs });
  return { child, clock, seen, until };
}

test('a helper that exits is restarted after 100 ms, doubling per failure, capped at the maximum back-off', async () => {
  const h = helper('echo "ALSA lib: cannot find card" >&2; exit 3', { maxBackoffMs: 300 });
  await h.child.start();
  const expected = [100, 200, 300, 300];
  for (let i = 0; i < expected.length; i++) {
    await h.until(`exit ${i + 1}`, () => h.seen.errors.length === i + 1 && h.clock.pending === 1);
    const err = h.seen.errors[i];
    assert.equal(err?.code, 'child-exited');
    assert.equal(err?.message, '/bin/sh exited with status 3: ALSA lib: cannot find card', 'only this helper\'s own stderr');
    const waitMs = expected[i] as number;
    h.clock.advance(waitMs - 1);
    assert.equal(h.seen.spawns.length, i + 1, 'no restart before the back-off has passed');
    h.clock.advance(1);
    await h.until(`restart ${i + 1}`, () => h.seen.spawns.length === i + 2);
    assert.deepEqual(h.seen.spawns[i + 1], { restarts: i + 1, reason: 'exited with status 3', afterMs: waitMs });
  }
  await h.child.close();
  assert.equal(h.clock.pending, 0);
});

test('after too many quick failures in a row it gives up, with an error saying so', async () => {
  const h = helper('exit 1', { maxConsecutiveFailures: 2 });
  await h.child.start();
  await h.until('first exit', () => h.clock.pending === 1);
  h.clock.advance(100);
  await h.until('second exit', () => h.seen.errors.length === 2 && h.clock.pending === 1);
  h.clock.advance(200);
  await h.until('giving up', () => h.seen.errors.some((e) => e.code === 'gave-up'));
  assert.equal(h.clock.pending, 0, 'no further restart is scheduled');
  assert.equal(h.child.pid, undefined);
});

test('a helper that ran long enough to be healthy starts the back-off afresh', async () => {
  const h = helper('exec sleep 30', { healthyAfterMs: 1000 });
  await h.child.start();
  const killAndRestart = async (n: number, backoffMs: number): Promise<void> => {
    process.kill(h.child.pid ?? 0, 'SIGKILL');
    await h.until(`exit ${n}`, () => h.seen.errors.length === n && h.clock.pending === 1);
    assert.match(h.seen.errors[n - 1]?.message ?? '', /killed by SIGKILL/);
    h.clock.advance(backoffMs);
    await h.until(`restart ${n}`, () => h.seen.spawns.length === n + 1);
    assert.equal(h.seen.spawns[n]?.afterMs, backoffMs);
  };
  await killAndRestart(1, 100);
  await killAndRestart(2, 200);
  h.clock.advance(5000);
  await killAndRestart(3, 100);
});

test('xrun reports are counted, kept out of the stderr tail, and a storm restarts the helper', async () => {
  const h = helper('for i in 1 2 3; do echo "underrun!!! (at least 1.234 ms long)" >&2; done; echo "a real problem" >&2; exec sleep 30', {
    xrunStormCount: 5,
  });
  await h.child.start();
  await h.until('three xruns', () => h.seen.xruns === 3 && h.child.stderr().length === 1);
  assert.deepEqual(h.child.stderr(), ['a real problem']);
  assert.equal(h.seen.spawns.length, 1, 'three xruns are no storm');
  await h.child.close();

  const storm = helper('for i in 1 2 3 4 5 6; do echo "overrun!!! (at least 0.5 ms long)" >&2; done; exec sleep 30', { xrunStormCount: 5 });
  await storm.child.start();
  await storm.until('the storm kill', () => storm.clock.pending === 1);
  assert.match(storm.seen.errors[0]?.message ?? '', /had 5 xruns within 1000 ms/);
  storm.clock.advance(100);
  await storm.until('the restart', () => storm.seen.spawns.length === 2);
  assert.equal(storm.seen.spawns[1]?.reason, 'had 5 xruns within 1000 ms');
  assert.equal(storm.child.xrunCount >= 6, true);
});

test('stderr is kept as a bounded tail of bounded lines', async () => {
  const h = helper(`i=0; while [ $i -lt 100 ]; do echo "line $i $(printf '%0500d' 0)" >&2; i=$((i+1)); done; exec sleep 30`);
  await h.child.start();
  await h.until('the last line', () => h.child.stderr().some((l) => l.startsWith('line 99 ')));
  const tail = h.child.stderr();
  assert.equal(tail.length, 20);
  assert.ok(tail[0]?.startsWith('line 80 '));
  assert.ok(tail.every((l) => l.length <= 300));
});

test('close() sends SIGTERM, and SIGKILL after the timeout to a helper that ignores it', async () => {
  const polite = helper('exec sleep 30');
  await polite.child.start();
  await polite.child.close();
  assert.equal(polite.seen.errors.length, 0, 'a requested stop is no error');
  assert.equal(polite.clock.pending, 0);

  const stubborn = helper(`trap '' TERM; echo ready >&2; while :; do sleep 0.05; done`, {}, 1000);
  await stubborn.child.start();
  await stubborn.until('the trap to be set', () => stubborn.child.stderr().includes('ready'));
  const pid = stubborn.child.pid;
  let closed = false;
  const closing = stubborn.child.close().then(() => (closed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, false);
  stubborn.clock.advance(1000);
  await closing;
  assert.equal(stubborn.seen.errors.length, 0);
  assert.throws(() => process.kill(pid ?? 0, 0), /ESRCH/);
});

test('start() rejects with spawn-failed when the program does not exist, and does not retry', async () => {
  const clock = new FakeClock();
  const child = new AlsaChild({
    command: '/nonexistent/arecord',
    args: [],
    stdio: 'capture',
    clock,
    policy: DEFAULT_ALSA_RESTART_POLICY,
    killTimeoutMs: 100,
    hooks: { onSpawn: () => {}, onGone: () => {}, onXrun: () => {}, onError: () => {} },
  });
  await assert.rejects(child.start(), (err) => err instanceof AudioDeviceError && err.code === 'spawn-failed' && /ENOENT/.test(err.message));
  assert.equal(clock.pending, 0);
  await child.close();
});
