// ITU-T G.107 E-model: the Annex B MOS curve at known points, the delay impairment at the
// one-way delays G.114 talks about, and G.113 Appendix I loss robustness for G.711.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CODEC_IMPAIRMENTS, R_DEFAULT, callQuality, delayImpairment, effectiveEquipmentImpairment, listenerEchoImpairment, pureDelayImpairment,
  rFactor, rToMos, talkerEchoImpairment,
} from '../../../src/media/index.js';

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

test('R = 93.2, the default connection, is MOS 4.41', () => {
  near(rToMos(93.2), 4.41, 0.005, 'MOS(93.2)');
});

test('R = 50 is MOS 2.58', () => {
  near(rToMos(50), 2.58, 0.006, 'MOS(50)');
});

test('MOS is 1 at or below R = 0 and 4.5 at or above R = 100, and rises in between', () => {
  assert.equal(rToMos(-5), 1);
  assert.equal(rToMos(0), 1);
  assert.equal(rToMos(100), 4.5);
  assert.equal(rToMos(120), 4.5);
  for (let r = 7; r < 100; r++) assert.ok(rToMos(r) > rToMos(r - 1), `MOS rises at R = ${r}`);
});

test('MOS is held at 1 where the Annex B cubic dips below it (0 < R < 6.5)', () => {
  for (let r = 0.5; r < 6.5; r += 0.5) assert.equal(rToMos(r), 1, `MOS(${r})`);
  assert.ok(rToMos(6.6) > 1);
});

test('a G.711 call with no delay and no loss rates R = 93.2', () => {
  assert.equal(rFactor({ oneWayDelayMs: 0, lossPercent: 0, codec: 'PCMU', plc: true }), R_DEFAULT);
});

test('the pure-delay term Idd is zero up to 100 ms and about 24 at 400 ms (X = 2)', () => {
  assert.equal(pureDelayImpairment(100), 0);
  assert.ok(pureDelayImpairment(101) > 0);
  near(pureDelayImpairment(400), 25 * (Math.pow(65, 1 / 6) - 3 * Math.pow(1 + (2 / 3) ** 6, 1 / 6) + 2), 1e-9, 'Idd(400)');
});

test('echo terms with the default TELR and WEPL are small at zero delay and grow with it', () => {
  near(talkerEchoImpairment(0), 0, 1e-12, 'Idte(0)');
  near(listenerEchoImpairment(0), 0.15, 0.01, 'Idle(0)');
  assert.ok(talkerEchoImpairment(400) > talkerEchoImpairment(150));
  assert.equal(delayImpairment(0), 0);
});

test('150 ms one way costs under 4 points of R, 400 ms about 31: satisfied users become dissatisfied', () => {
  const at = (ms: number): number => rFactor({ oneWayDelayMs: ms, lossPercent: 0, codec: 'PCMA', plc: true });
  near(at(150), 89.5, 0.5, 'R(150 ms)');
  near(at(400), 62.2, 0.5, 'R(400 ms)');
  assert.ok(at(150) > 80, 'G.107 Table B.1: "users satisfied" above 80');
  assert.ok(at(400) < 70 && at(400) > 60, 'G.107 Table B.1: "many users dissatisfied" from 60 to 70');
  assert.ok(rToMos(at(150)) > 4.3 && rToMos(at(400)) < 3.3);
});

test('R falls steadily as delay grows', () => {
  let previous = Infinity;
  for (let ms = 0; ms <= 800; ms += 25) {
    const r = rFactor({ oneWayDelayMs: ms, lossPercent: 0, codec: 'PCMU', plc: true });
    assert.ok(r < previous || ms === 0, `R(${ms}) = ${r} after ${previous}`);
    previous = r;
  }
});

test('2 % random loss on G.711 with PLC costs 7 points (Bpl 25.1); without PLC 30 points (Bpl 4.3)', () => {
  near(effectiveEquipmentImpairment(0, 25.1, 2), (95 * 2) / 27.1, 1e-9, 'Ie,eff with PLC');
  const withPlc = rFactor({ oneWayDelayMs: 0, lossPercent: 2, codec: 'PCMU', plc: true });
  const withoutPlc = rFactor({ oneWayDelayMs: 0, lossPercent: 2, codec: 'PCMU', plc: false });
  near(withPlc, 86.19, 0.01, 'R with PLC');
  near(withoutPlc, 63.04, 0.01, 'R without PLC');
  near(rToMos(withPlc), 4.23, 0.01, 'MOS with PLC');
});

test('bursty loss (BurstR > 1) hurts more than the same random loss', () => {
  const random = effectiveEquipmentImpairment(0, 25.1, 5);
  const bursty = effectiveEquipmentImpairment(0, 25.1, 5, 2);
  assert.ok(bursty > random);
  near(effectiveEquipmentImpairment(0, 25.1, 100), 95 * 100 / 125.1, 1e-9, 'total loss');
});

test('Opus is rated conservatively below G.711 and its PLC flag changes nothing; G.722 counts as G.711 on the narrowband scale', () => {
  const base = { oneWayDelayMs: 100, lossPercent: 1 };
  const opus = rFactor({ ...base, codec: 'opus', plc: true });
  assert.ok(opus < rFactor({ ...base, codec: 'PCMU', plc: true }));
  assert.equal(opus, rFactor({ ...base, codec: 'opus', plc: false }));
  assert.equal(rFactor({ ...base, codec: 'G722', plc: true }), rFactor({ ...base, codec: 'PCMU', plc: true }));
  assert.deepEqual(CODEC_IMPAIRMENTS.PCMA, CODEC_IMPAIRMENTS.PCMU);
});

test('callQuality adds half the RTT, the jitter buffer, one frame and the look-ahead to the one-way delay', () => {
  const q = callQuality({ rttMs: 100, jitterMs: 10, lossPercent: 0, codec: 'PCMU', plc: true, jitterBufferDelayMs: 60 });
  assert.equal(q.oneWayDelayMs, 50 + 60 + 20);
  assert.equal(q.r, rFactor({ oneWayDelayMs: 130, lossPercent: 0, codec: 'PCMU', plc: true }));
  assert.equal(q.mos, rToMos(q.r));
  const opus = callQuality({ rttMs: 100, jitterMs: 10, lossPercent: 0, codec: 'opus', plc: true, jitterBufferDelayMs: 60, ptimeMs: 40 });
  assert.equal(opus.oneWayDelayMs, 50 + 60 + 40 + 6.5);
});

test('callQuality estimates the jitter buffer as twice the jitter when its delay is not given', () => {
  const q = callQuality({ rttMs: 40, jitterMs: 15, lossPercent: 1, codec: 'PCMA', plc: true });
  assert.equal(q.oneWayDelayMs, 20 + 30 + 20);
});

test('a good LAN call rates above MOS 4.3 and a poor long-haul call below 3', () => {
  const lan = callQuality({ rttMs: 2, jitterMs: 1, lossPercent: 0, codec: 'PCMU', plc: true });
  const poor = callQuality({ rttMs: 500, jitterMs: 40, lossPercent: 5, codec: 'PCMU', plc: true });
  assert.ok(lan.mos > 4.3, `LAN MOS ${lan.mos}`);
  assert.ok(poor.mos < 3, `poor MOS ${poor.mos}`);
});

test('rejects negative delays and loss outside 0..100 %', () => {
  assert.throws(() => delayImpairment(-1), RangeError);
  assert.throws(() => effectiveEquipmentImpairment(0, 25.1, 101), RangeError);
  assert.throws(() => effectiveEquipmentImpairment(0, 25.1, 1, 0), RangeError);
  assert.throws(() => callQuality({ rttMs: Number.NaN, jitterMs: 0, lossPercent: 0, codec: 'PCMU', plc: true }), RangeError);
  assert.throws(() => callQuality({ rttMs: 10, jitterMs: 0, lossPercent: -1, codec: 'PCMU', plc: true }), RangeError);
});
