// RFC 6263 keep-alive machine: nothing while media flows, one packet per idle interval (hold,
// a far end that only sends), the interval as the shorter of Tr and the SIP flow's, an unused
// dynamic payload type, and silence once stopped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RTP_KEEPALIVE_DEFAULT_S, RtpKeepalive, rtpKeepaliveIntervalMs, unusedPayloadType, type RtpKeepaliveAction } from '../../../src/media/index.js';

const sends = (actions: RtpKeepaliveAction[]): number => actions.filter((a) => a.kind === 'send').length;
const wakeAt = (actions: RtpKeepaliveAction[]): number => {
  const w = actions.find((a) => a.kind === 'wakeAt');
  assert.ok(w && w.kind === 'wakeAt', `no wakeAt in ${JSON.stringify(actions)}`);
  return w.atMs;
};

test('sends nothing while media flows: every wake finds a packet sent less than an interval ago', () => {
  const ka = new RtpKeepalive(15_000);
  let at = wakeAt(ka.start(0));
  let lastSent = 0;
  for (let now = 20; now <= 120_000; now += 20) {
    lastSent = now; // a 20 ms packet
    if (now >= at) {
      const actions = ka.wake(now, lastSent);
      assert.equal(sends(actions), 0);
      at = wakeAt(actions);
      assert.equal(at, lastSent + 15_000);
    }
  }
});

test('on hold sends one keep-alive per interval, counted from the last packet sent', () => {
  const ka = new RtpKeepalive(15_000);
  assert.equal(wakeAt(ka.start(0)), 15_000);
  // Media flowed until 4 s, then the call was held: the first keep-alive is due 15 s after that.
  let actions = ka.wake(15_000, 4_000);
  assert.equal(sends(actions), 0);
  assert.equal(wakeAt(actions), 19_000);
  const sentAt: number[] = [];
  let now = 19_000;
  for (let i = 0; i < 5; i++) {
    actions = ka.wake(now, sentAt.at(-1) ?? 4_000);
    assert.equal(sends(actions), 1, `wake at ${now}`);
    sentAt.push(now);
    now = wakeAt(actions);
  }
  assert.deepEqual(sentAt, [19_000, 34_000, 49_000, 64_000, 79_000]);
});

test('a session that never sent (early media, a far end that only sends) keeps its binding from the start', () => {
  const ka = new RtpKeepalive(5_000);
  const actions = ka.wake(wakeAt(ka.start(1_000)), undefined);
  assert.equal(sends(actions), 1);
  assert.equal(wakeAt(actions), 11_000);
});

test('a machine started mid-call counts the idle time from the last packet sent: an interval already passed sends at once', () => {
  const ka = new RtpKeepalive(4_500);
  const at = wakeAt(ka.start(10_000, 1_000));
  assert.equal(at, 5_500);
  const actions = ka.wake(10_000, 1_000);
  assert.equal(sends(actions), 1);
  assert.equal(wakeAt(actions), 14_500);
  assert.equal(wakeAt(new RtpKeepalive(4_500).start(10_000, 8_000)), 12_500);
});

test('an early timer wake does not send', () => {
  const ka = new RtpKeepalive(5_000);
  ka.start(0);
  assert.deepEqual(ka.wake(2_000, undefined), [{ kind: 'wakeAt', atMs: 5_000 }]);
});

test('stops: no keep-alive and no timer after stop()', () => {
  const ka = new RtpKeepalive(5_000);
  ka.start(0);
  ka.stop();
  assert.equal(ka.isRunning, false);
  assert.deepEqual(ka.wake(60_000, undefined), []);
});

test('the interval is the shorter of Tr (15 s) and the SIP flow keep-alive interval', () => {
  assert.equal(RTP_KEEPALIVE_DEFAULT_S, 15);
  assert.equal(rtpKeepaliveIntervalMs(undefined), 15_000);
  assert.equal(rtpKeepaliveIntervalMs(0), 15_000);
  assert.equal(rtpKeepaliveIntervalMs(25), 15_000); // the SIP fallback while nothing is measured
  assert.equal(rtpKeepaliveIntervalMs(4.5), 4_500); // 45 % of a measured 10 s lifetime
  assert.throws(() => new RtpKeepalive(0), RangeError);
});

test('the keep-alive payload type is a dynamic one that no side listed', () => {
  assert.equal(unusedPayloadType([0, 8, 101]), 127);
  assert.equal(unusedPayloadType([0, 127, 126, 111]), 125);
  const all = Array.from({ length: 32 }, (_, i) => 96 + i);
  assert.equal(unusedPayloadType(all.slice(1)), 96);
  assert.throws(() => unusedPayloadType(all), RangeError);
});
