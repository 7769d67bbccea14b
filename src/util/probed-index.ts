// An open-addressing hash index with linear probing over typed arrays, for tables that must not
// allocate per entry (the SIP layer's completed-response store and merged-request detector).
// The index holds slot + 1 per position, 0 when free; each table keeps the entries' 32-bit hashes
// in its own array, indexed by slot.

/** An index size for `entries`: at least twice as many positions (at most half full), a power of two. */
export function probedIndexSize(entries: number): number {
  let n = 16;
  while (n < entries * 2) n *= 2;
  return n;
}

/** Puts `slot` (whose hash is `hashes[slot]`) at the first free position of its probe run. */
export function addToProbedIndex(index: Int32Array, hashes: Uint32Array, slot: number): void {
  const mask = index.length - 1;
  let p = (hashes[slot] as number) & mask;
  while (index[p] !== 0) p = (p + 1) & mask;
  index[p] = slot + 1;
}

/**
 * Takes `slot` out of the index, if it is there. Only the position that names this slot is freed:
 * an equal key added again later names a newer slot and stays.
 */
export function removeSlotFromProbedIndex(index: Int32Array, hashes: Uint32Array, slot: number): void {
  const mask = index.length - 1;
  for (let p = (hashes[slot] as number) & mask; index[p] !== 0; p = (p + 1) & mask) {
    if (index[p] === slot + 1) {
      removeFromProbedIndex(index, hashes, p);
      return;
    }
  }
}

/**
 * Frees position `hole` of `index` without tombstones (Knuth's Algorithm R): later entries of the
 * probe run move back into the hole when their home position allows it.
 */
function removeFromProbedIndex(index: Int32Array, hashes: Uint32Array, hole: number): void {
  const mask = index.length - 1;
  let i = hole;
  for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
    const home = (hashes[(index[j] as number) - 1] as number) & mask;
    // The entry at j may fill i unless its home lies cyclically in (i, j].
    const stays = i <= j ? home > i && home <= j : home > i || home <= j;
    if (stays) continue;
    index[i] = index[j] as number;
    i = j;
  }
  index[i] = 0;
}
