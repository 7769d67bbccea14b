// The seeded impairment model and the UDP relay built on it (LAB-NOTES.md "Impairment": no
// sch_netem here). The model is checked by its statistics over many draws; the relay on loopback
// by comparing what a receiver gets with a replay of the model from the same seed: the very
// datagrams the replay drops are missing, every other one arrives, and the reordering the
// receiver sees is the reordering the relay counted. Bounded: at most 1000 datagrams per test.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, test } from 'node:test';
import { ImpairmentModel, JITTER_30MS_LOSS_2PCT, type ImpairmentSpec } from './lib/impairment-model.js';
import { waitFor } from './lib/process.js';
import { UdpImpairmentRelay, isRtp } from './lib/udp-impairment-relay.js';

const HOST = '127.0.0.1';
const sockets: Socket[] = [];
const relays: UdpImpairmentRelay[] = [];

after(async () => {
  for (const r of relays) await r.close();
  for (const s of sockets) s.close();
});

async function udpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => s.bind(0, HOST, resolve));
  return s;
}

async function relayTo(target: Socket, impairment: ImpairmentSpec, maxQueued?: number): Promise<UdpImpairmentRelay> {
  const r = await UdpImpairmentRelay.start({
    listen: { address: HOST, port: 0 }, target: { address: HOST, port: target.address().port }, impairment,
    ...(maxQueued !== undefined ? { maxQueued } : {}),
  });
  relays.push(r);
  return r;
}

/** Datagram i carries i as its first 4 bytes. */
const numbered = (i: number): Buffer => {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(i, 0);
  return b;
};

/** Sends `count` numbered datagrams to the relay, `spacingMs` apart, and collects their numbers in arrival order. */
async function sendThrough(relay: UdpImpairmentRelay, from: Socket, to: Socket, count: number, spacingMs: number): Promise<number[]> {
  const got: number[] = [];
  to.on('message', (m) => got.push(m.readUInt32BE(0)));
  for (let i = 0; i < count; i++) {
    from.send(numbered(i), relay.address.port, HOST);
    if (spacingMs > 0 && i % 10 === 9) await new Promise((r) => setTimeout(r, spacingMs * 10));
  }
  await waitFor(`the relay's queue to empty (${relay.queued} left)`, () => relay.queued === 0 && relay.stats.fromClient === count, 10_000);
  // Loopback delivers in order; what the relay sent has arrived once the receiver caught up with it.
  await waitFor('the receiver to read everything sent', () => got.length === relay.stats.delayed + relay.stats.passed, 2000);
  return got;
}

test('the model: 2 % loss and 80 ms + N(0, 30 ms) over 20 000 draws, the same decisions from the same seed', () => {
  const n = 20_000;
  const model = new ImpairmentModel({ ...JITTER_30MS_LOSS_2PCT, seed: 0x5eed });
  const again = new ImpairmentModel({ ...JITTER_30MS_LOSS_2PCT, seed: 0x5eed });
  const other = new ImpairmentModel({ ...JITTER_30MS_LOSS_2PCT, seed: 0x5eee });
  let drops = 0;
  let differs = 0;
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = model.next();
    assert.deepEqual(again.next(), d);
    if (JSON.stringify(other.next()) !== JSON.stringify(d)) differs++;
    if (d.kind === 'drop') drops++;
    else {
      assert.equal(d.delaysMs.length, 1, 'no duplicates unless asked for');
      delays.push(d.delaysMs[0] as number);
    }
  }
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
  const sd = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / delays.length);
  console.log(`# model: loss ${((100 * drops) / n).toFixed(2)} %, delay mean ${mean.toFixed(1)} ms, sd ${sd.toFixed(1)} ms, min ${Math.min(...delays).toFixed(1)} ms`);
  // Binomial sd of 20 000 draws at 2 % is 0.1 %: ±0.4 % is four of them.
  assert.ok(Math.abs(drops / n - 0.02) < 0.004, `loss ${drops} of ${n}`);
  // Mean 80 ms, plus 1 % held back 50 ms (+0.5 ms) and the cut at 10 ms (+0.03 ms).
  assert.ok(Math.abs(mean - 80.5) < 1.5, `mean delay ${mean}`);
  assert.ok(Math.abs(sd - 30) < 2, `delay sd ${sd}`);
  assert.ok(Math.min(...delays) >= 10, 'nothing faster than minDelayMs');
  assert.ok(differs > n / 2, 'another seed gives other decisions');
});

test('the model: duplication with its own delay, and nothing but drops at 100 % loss', () => {
  const dup = new ImpairmentModel({ seed: 7, lossProbability: 0, baseDelayMs: 20, jitterMs: 5, minDelayMs: 0, duplicateProbability: 0.1 });
  let copies = 0;
  for (let i = 0; i < 5000; i++) {
    const d = dup.next();
    assert.equal(d.kind, 'deliver');
    if (d.kind === 'deliver') copies += d.delaysMs.length - 1;
  }
  assert.ok(Math.abs(copies / 5000 - 0.1) < 0.015, `duplicated ${copies} of 5000`);
  const all = new ImpairmentModel({ seed: 7, lossProbability: 1, baseDelayMs: 0, jitterMs: 0, minDelayMs: 0 });
  for (let i = 0; i < 100; i++) assert.deepEqual(all.next(), { kind: 'drop' });
  assert.throws(() => new ImpairmentModel({ seed: 1, lossProbability: 1.5, baseDelayMs: 0, jitterMs: 0, minDelayMs: 0 }), RangeError);
});

test('the relay on loopback: exactly the datagrams the seeded replay drops are lost, the rest arrive, reordered as counted', async () => {
  const spec: ImpairmentSpec = { ...JITTER_30MS_LOSS_2PCT, seed: 0xc0ffee };
  const count = 1000;
  const [sender, receiver] = [await udpSocket(), await udpSocket()];
  const relay = await relayTo(receiver, spec);
  const got = await sendThrough(relay, sender, receiver, count, 2);

  const replay = new ImpairmentModel(spec);
  const expectedLost = new Set<number>();
  for (let i = 0; i < count; i++) if (replay.next().kind === 'drop') expectedLost.add(i);
  const arrived = new Set(got);
  const lost = [...Array(count).keys()].filter((i) => !arrived.has(i));
  assert.deepEqual(lost, [...expectedLost], 'the lost datagrams are the ones the replay drops');
  assert.equal(got.length, count - expectedLost.size, 'no datagram arrives twice');

  let highest = -1;
  let reorderedSeen = 0;
  for (const i of got) {
    if (i < highest) reorderedSeen++;
    highest = Math.max(highest, i);
  }
  const s = await relay.close();
  console.log(`# relay: ${JSON.stringify(s)}`);
  assert.equal(s.dropped, expectedLost.size);
  assert.ok(s.dropped >= 10 && s.dropped <= 30, `about 2 % of ${count} lost: ${s.dropped}`);
  assert.equal(s.delayed, got.length);
  assert.equal(s.reordered, reorderedSeen, 'the receiver sees the reordering the relay counted');
  // 2 ms apart with a 30 ms spread of delay: most datagrams overtake or are overtaken.
  assert.ok(s.reordered > count / 4, `reordering observed: ${s.reordered}`);
  assert.ok(s.meanDelayMs > 70 && s.meanDelayMs < 95, `mean delay ${s.meanDelayMs}`);
  assert.equal(s.overflow, 0);
  assert.equal(s.cancelled, 0);
});

test('the relay: replies go back to the client at once, RTCP can pass unimpaired, duplicates arrive twice', async () => {
  const [client, target] = [await udpSocket(), await udpSocket()];
  const relay = await UdpImpairmentRelay.start({
    listen: { address: HOST, port: 0 }, target: { address: HOST, port: target.address().port },
    impairment: { seed: 3, lossProbability: 0, baseDelayMs: 5, jitterMs: 2, minDelayMs: 1, duplicateProbability: 0.5 },
    impairs: isRtp,
  });
  relays.push(relay);
  const rtp = Buffer.from([0x80, 0x00, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xff]);
  const rtcp = Buffer.from([0x80, 201, 0, 1, 1, 2, 3, 4]);
  const atTarget: Buffer[] = [];
  const atClient: Buffer[] = [];
  target.on('message', (m, rinfo) => {
    atTarget.push(m);
    assert.equal(rinfo.port, relay.address.port, 'the target sees the relay as the source');
    target.send(Buffer.from('reply'), rinfo.port, rinfo.address);
  });
  client.on('message', (m) => atClient.push(m));
  for (let i = 0; i < 20; i++) client.send(rtp, relay.address.port, HOST);
  client.send(rtcp, relay.address.port, HOST);
  await waitFor('everything relayed and answered', () => relay.queued === 0 && relay.stats.fromClient === 21 && atClient.length === atTarget.length && atTarget.length === 21 + relay.stats.duplicated, 5000);
  const s = await relay.close();
  assert.equal(s.impaired, 20);
  assert.equal(s.passed, 1);
  assert.ok(s.duplicated > 0 && s.duplicated < 20, `duplicated ${s.duplicated} of 20`);
  assert.equal(atTarget.filter((m) => m[1] === 201).length, 1, 'RTCP arrives once');
  assert.equal(s.returned, atClient.length);
  assert.equal(s.unroutable, 0);
});

test('the relay: the queue is bounded (a burst overflows it) and close() cancels what waits', async () => {
  const [sender, receiver] = [await udpSocket(), await udpSocket()];
  const relay = await relayTo(receiver, { seed: 11, lossProbability: 0, baseDelayMs: 60_000, jitterMs: 0, minDelayMs: 0 }, 8);
  let arrived = 0;
  receiver.on('message', () => arrived++);
  for (let i = 0; i < 50; i++) sender.send(numbered(i), relay.address.port, HOST);
  await waitFor('the burst to reach the relay', () => relay.stats.fromClient === 50, 5000);
  assert.equal(relay.queued, 8);
  const s = await relay.close();
  assert.equal(s.overflow, 42);
  assert.equal(s.maxQueued, 8);
  assert.equal(s.cancelled, 8);
  assert.equal(s.delayed, 0);
  assert.equal(arrived, 0);
  assert.equal(relay.queued, 0);
});
