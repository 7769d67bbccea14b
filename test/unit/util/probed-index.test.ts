// The linear-probing index helpers against a plain Map, with colliding hashes and wrap-around runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addToProbedIndex, probedIndexSize, removeSlotFromProbedIndex } from '../../../src/util/index.js';

/** Where `slot` sits in the index, or -1: a lookup by its hash along the probe run. */
function find(index: Int32Array, hashes: Uint32Array, slot: number): number {
  const mask = index.length - 1;
  for (let p = (hashes[slot] as number) & mask; index[p] !== 0; p = (p + 1) & mask) if (index[p] === slot + 1) return p;
  return -1;
}

test('probedIndexSize is a power of two at least twice the entries', () => {
  assert.equal(probedIndexSize(1), 16);
  assert.equal(probedIndexSize(8), 16);
  assert.equal(probedIndexSize(9), 32);
  assert.equal(probedIndexSize(1000), 2048);
});

test('adds and removes keep every present slot reachable from its hash (random, colliding, wrapping)', () => {
  const slots = 64;
  const index = new Int32Array(probedIndexSize(slots));
  const hashes = new Uint32Array(slots);
  const present = new Set<number>();
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let step = 0; step < 20_000; step++) {
    const slot = rand(slots);
    if (present.has(slot)) {
      removeSlotFromProbedIndex(index, hashes, slot);
      present.delete(slot);
    } else {
      // Few distinct hashes, many near the end of the table: long runs that wrap around.
      hashes[slot] = index.length - 1 - rand(6);
      addToProbedIndex(index, hashes, slot);
      present.add(slot);
    }
    if (step % 97 === 0) {
      for (let s = 0; s < slots; s++) assert.equal(find(index, hashes, s) >= 0, present.has(s), `slot ${s} at step ${step}`);
      assert.equal(index.filter((v) => v !== 0).length, present.size);
    }
  }
});

test('removing a slot that is not in the index changes nothing', () => {
  const index = new Int32Array(16);
  const hashes = new Uint32Array([3, 3, 3]);
  addToProbedIndex(index, hashes, 0);
  addToProbedIndex(index, hashes, 1);
  const before = Array.from(index);
  removeSlotFromProbedIndex(index, hashes, 2);
  assert.deepEqual(Array.from(index), before);
});
