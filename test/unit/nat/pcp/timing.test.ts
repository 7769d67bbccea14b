// Retransmission schedules (RFC 6887 §8.1.1, RFC 6886 §3.1), the epoch check (RFC 6887 §8.5) and
// the default gateway from /proc/net/route: pure functions driven with the times the RFCs name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NATPMP_RETRANSMISSION, PCP_RETRANSMISSION, Retransmission, epochLostState, parseProcNetRoute, type RetransmissionOptions,
} from '../../../../src/nat/pcp/index.js';

/** Sends and give-up time of a request nobody answers, waking exactly when asked. */
function run(o: RetransmissionOptions, random: () => number, maxSteps = 30): { sendsAtMs: number[]; gaveUpAtMs: number | undefined } {
  const rt = new Retransmission(o, random);
  const sendsAtMs = [0];
  let step = rt.start(0);
  for (let i = 0; i < maxSteps && step.kind === 'send'; i++) {
    const at = step.wakeAtMs;
    step = rt.wake(at);
    if (step.kind === 'send') sendsAtMs.push(at);
    else return { sendsAtMs, gaveUpAtMs: at };
  }
  return { sendsAtMs, gaveUpAtMs: undefined };
}

const NO_JITTER = (): number => 0.5; // RAND = 0

test('PCP: 3 s, then doubling (RT = 2 × RTprev), capped at MRT 1024 s; MRC = MRD = 0 never gives up', () => {
  const { sendsAtMs, gaveUpAtMs } = run(PCP_RETRANSMISSION, NO_JITTER, 11);
  const gaps = sendsAtMs.slice(1).map((t, i) => t - (sendsAtMs[i] ?? 0));
  assert.deepEqual(gaps, [3000, 6000, 12000, 24000, 48000, 96000, 192000, 384000, 768000, 1024000, 1024000]);
  assert.equal(gaveUpAtMs, undefined);
});

test('PCP jitter: every timeout within ±10 % of its nominal value', () => {
  for (const r of [0, 0.999999]) {
    const { sendsAtMs } = run(PCP_RETRANSMISSION, () => r, 3);
    const first = sendsAtMs[1] ?? 0;
    assert.ok(first >= 2700 && first <= 3300, `first RT ${first}`);
  }
  const low = run(PCP_RETRANSMISSION, () => 0, 3).sendsAtMs;
  assert.deepEqual(low.map(Math.round), [0, 2700, 2700 + 4860, 2700 + 4860 + 8748]);
});

test('NAT-PMP: 250 ms doubling, 9 sends, giving up 127.75 s after the first', () => {
  const { sendsAtMs, gaveUpAtMs } = run(NATPMP_RETRANSMISSION, NO_JITTER);
  assert.deepEqual(sendsAtMs, [0, 250, 750, 1750, 3750, 7750, 15750, 31750, 63750]);
  assert.equal(gaveUpAtMs, 127_750);
});

test('MRD bounds the whole request, the last wait included', () => {
  const { sendsAtMs, gaveUpAtMs } = run({ ...PCP_RETRANSMISSION, maxDurationMs: 20_000 }, NO_JITTER);
  assert.deepEqual(sendsAtMs, [0, 3000, 9000]);
  assert.equal(gaveUpAtMs, 20_000);
});

test('epoch: a server epoch that moves with our clock is fine; one that goes back or stalls means lost state', () => {
  const prev = { epochS: 1000, clientMs: 50_000 };
  assert.equal(epochLostState(undefined, prev), false);
  assert.equal(epochLostState(prev, { epochS: 1060, clientMs: 110_000 }), false);
  assert.equal(epochLostState(prev, { epochS: 999, clientMs: 51_000 }), false, 'one second back is rounding');
  assert.equal(epochLostState(prev, { epochS: 998, clientMs: 51_000 }), true, 'more than a second back: the server restarted');
  assert.equal(epochLostState(prev, { epochS: 5, clientMs: 60_000 }), true);
  assert.equal(epochLostState(prev, { epochS: 1010, clientMs: 3_650_000 }), true, 'our clock moved an hour, the server ten seconds');
  assert.equal(epochLostState(prev, { epochS: 4600, clientMs: 60_000 }), true, 'the server moved an hour in ten of our seconds');
  assert.equal(epochLostState(prev, { epochS: 1063, clientMs: 110_000 }), false, 'drift within 1/16 plus 2 s');
});

test('default gateway: the default route with the gateway flag and the lowest metric, from little-endian hex', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t014DA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth0\t004DA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  assert.equal(parseProcNetRoute(table), '192.168.77.1');
  assert.equal(parseProcNetRoute(table.split('\n').slice(0, 1).concat(table.split('\n').slice(3)).join('\n')), undefined);
  assert.equal(parseProcNetRoute('garbage'), undefined);
});
