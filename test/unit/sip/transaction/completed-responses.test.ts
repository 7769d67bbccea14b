import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletedResponses } from '../../../../src/sip/transaction/completed-responses.js';
import { mulberry32 } from '../../../helpers/seeded-random.js';

const DEST = { transport: 'UDP', address: '198.51.100.20', port: 5060 };
const bytesOf = (i: number, len = 100) => Buffer.alloc(len, i % 251);

test('completed responses are found by key with their bytes and destination until they expire', () => {
  const store = new CompletedResponses();
  store.add('k1', Buffer.from('SIP/2.0 200 OK\r\n\r\n'), DEST, 32_000);
  store.add('k2', Buffer.from('SIP/2.0 404 Not Found\r\n\r\n'), { ...DEST, port: 5070 }, 33_000);
  assert.equal(store.get('k1')?.bytes.toString(), 'SIP/2.0 200 OK\r\n\r\n');
  assert.deepEqual(store.get('k2')?.dest, { ...DEST, port: 5070 });
  store.sweep(32_000);
  assert.equal(store.get('k1'), undefined, 'Timer J fired');
  assert.equal(store.size, 1);
  store.sweep(33_000);
  assert.equal(store.size, 0);
  assert.equal(store.get('k2'), undefined);
});

test('a full ring drops the oldest entries first and keeps every newer one intact', () => {
  const store = new CompletedResponses(1000);
  for (let i = 0; i < 5000; i++) store.add(`k${i}`, bytesOf(i, 50 + (i % 300)), DEST, 1e9);
  assert.equal(store.size, 1000);
  assert.equal(store.get('k3999'), undefined);
  for (let i = 4000; i < 5000; i++) assert.deepEqual(store.get(`k${i}`)?.bytes, bytesOf(i, 50 + (i % 300)), `k${i}`);
});

test('a full arena wraps around, dropping the entries it overwrites and never corrupting live ones', () => {
  // 64 KiB arena, responses of 300..1499 bytes: many laps, with the tail gap skipped at each wrap.
  const store = new CompletedResponses(100_000, 64 * 1024);
  const live: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    store.add(`k${i}`, bytesOf(i, 300 + ((i * 7919) % 1200)), DEST, 1e9);
    live.push(i);
  }
  assert.ok(store.size > 40 && store.size < 220, `about 64 KiB of entries are live: ${store.size}`);
  let found = 0;
  for (const i of live) {
    const got = store.get(`k${i}`);
    if (!got) continue;
    found++;
    assert.deepEqual(got.bytes, bytesOf(i, 300 + ((i * 7919) % 1200)), `k${i} intact`);
  }
  assert.equal(found, store.size);
  assert.ok(store.get('k19999'), 'the newest is always kept');
});

test('a key added again points at its newest response, and dropping the old slot keeps it', () => {
  const store = new CompletedResponses(4);
  store.add('k', Buffer.from('old'), DEST, 1e9);
  store.add('k', Buffer.from('new'), DEST, 1e9);
  store.add('a', Buffer.from('a'), DEST, 1e9);
  store.add('b', Buffer.from('b'), DEST, 1e9);
  store.add('c', Buffer.from('c'), DEST, 1e9); // drops the first 'k' slot
  assert.equal(store.get('k')?.bytes.toString(), 'new');
});

test('lookups agree with a plain map through growth, wrap-around, expiry and keys added again', () => {
  const random = mulberry32(4475);
  // Small limits so the ring and the arena wrap and the index shifts entries back often.
  const store = new CompletedResponses(300, 16 * 1024);
  const model = new Map<string, { bytes: Buffer; expiresMs: number }>();
  const order: string[] = [];
  let now = 0;
  for (let i = 0; i < 20_000; i++) {
    now += 1;
    // Keys of every length (the scratch buffer grows), non-ASCII ones, and some added again.
    const n = Math.floor(random() * 400);
    const key = random() < 0.1 ? order[Math.floor(random() * order.length)] ?? 'z' : `z9hG4bK${n}-é-${'x'.repeat(Math.floor(random() * 900))}\u0000${i}`;
    const bytes = bytesOf(i, 20 + Math.floor(random() * 200));
    store.add(key, bytes, DEST, now + 500);
    model.set(key, { bytes, expiresMs: now + 500 });
    order.push(key);
    if (i % 97 === 0) store.sweep(now);
    if (i % 10 === 0) {
      const probe = order[Math.floor(random() * order.length)] ?? 'z';
      const got = store.get(probe);
      const want = model.get(probe);
      // The store may have dropped an entry early (ring or arena full), never kept a wrong one.
      if (got) assert.deepEqual(got.bytes, want?.bytes, `key ${probe.slice(0, 20)}`);
      // Entries go oldest first: the newest `size` additions are all there.
      const recent = order[order.length - 1 - Math.floor(random() * store.size)] ?? 'z';
      assert.deepEqual(store.get(recent)?.bytes, model.get(recent)?.bytes, `recent key ${recent.slice(0, 20)}`);
    }
  }
  const newest = order[order.length - 1] ?? '';
  assert.deepEqual(store.get(newest)?.bytes, model.get(newest)?.bytes, 'the newest is always kept');
  assert.equal(store.get('never added'), undefined);
});

test('with several arena chunks, entries never span two, and lookups agree with a plain map through growth and laps', () => {
  const random = mulberry32(3261);
  // 8 chunks of 4 KiB, responses up to 1.5 KiB: many chunk tails skipped, many laps.
  const store = new CompletedResponses(500, 32 * 1024, 4 * 1024);
  const model = new Map<string, Buffer>();
  const order: string[] = [];
  for (let i = 0; i < 30_000; i++) {
    const key = random() < 0.05 ? order[Math.floor(random() * order.length)] ?? 'z' : `z9hG4bK-${i}\u0000${'y'.repeat(Math.floor(random() * 40))}`;
    const bytes = bytesOf(i, 1 + Math.floor(random() * 1500));
    store.add(key, bytes, { ...DEST, port: 1 + (i % 60_000) }, 1e9);
    model.set(key, bytes);
    order.push(key);
    if (i % 7 === 0) {
      const recent = order[order.length - 1 - Math.floor(random() * store.size)] ?? 'z';
      assert.deepEqual(store.get(recent)?.bytes, model.get(recent), `recent key ${recent.slice(0, 20)} at ${i}`);
      const any = order[Math.floor(random() * order.length)] ?? 'z';
      const got = store.get(any);
      if (got) assert.deepEqual(got.bytes, model.get(any), `key ${any.slice(0, 20)} at ${i}`);
    }
  }
  assert.ok(store.size > 20, `about 32 KiB of entries are live: ${store.size}`);
});

test('a ring that has wrapped keeps every entry and its destination up to the capacity, then drops the oldest', () => {
  // Entries dropped by expiry first make the ring wrap before it is full.
  const store = new CompletedResponses(300);
  for (let i = 0; i < 100; i++) store.add(`old${i}`, bytesOf(i), DEST, 10);
  store.sweep(10);
  assert.equal(store.size, 0);
  for (let i = 0; i < 300; i++) store.add(`k${i}`, bytesOf(i, 10 + (i % 90)), { ...DEST, port: 1000 + i }, 1e9);
  assert.equal(store.size, 300);
  for (let i = 0; i < 300; i++) {
    const got = store.get(`k${i}`);
    assert.deepEqual(got?.bytes, bytesOf(i, 10 + (i % 90)), `k${i}`);
    assert.equal(got?.dest.port, 1000 + i);
  }
  store.add('k300', bytesOf(300), DEST, 1e9);
  assert.equal(store.get('k0'), undefined, 'full at capacity: the oldest went');
  assert.ok(store.get('k1') && store.get('k300'));
});
