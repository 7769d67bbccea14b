// 60 s of a 20 ms G.711 stream through the jitter buffer: one-way delay 80 ms with 30 ms of
// jitter, 2 % random loss, and 1 % of packets held back 50 ms more so they arrive behind their
// successors. Seeded, so every run prints the same numbers. The network is the impairment model
// the lab's UDP relay uses (test/lab/lib/impairment-model.ts, JITTER_30MS_LOSS_2PCT), so this
// bench and test/lab/media-impairment.test.ts mean the same path. The playout clock ticks every
// 20 ms, 7 ms out of phase with the sender.
// "30 ms jitter" is read two ways, both printed:
//   netem:  what `tc qdisc … netem delay 80ms 30ms` does (no distribution table): uniform in
//           80 ± 30 ms — the usual reading of a delay spread;
//   normal: 80 ms + N(0, σ = 30 ms), at least 10 ms — a harsher tail (the buffer must sit near
//           2.3 σ = 70 ms above the mean to lose under 1 %, whatever its algorithm); the lab's.
// Added delay is what the buffer adds to each played packet beyond its own network delay:
// playout time − arrival time, which includes waiting for the 20 ms playout tick.
// Run: npm run build && node dist/test/bench/jitter-buffer.bench.js [seed]
// (the seed defaults to 0x5eed; give the lab test's to replay the path it used)
import { JitterBuffer } from '../../src/media/index.js';
import { ImpairmentModel, JITTER_30MS_LOSS_2PCT } from '../lab/lib/impairment-model.js';

const FRAME_MS = 20;
const DURATION_MS = 60_000;
const FRAMES = DURATION_MS / FRAME_MS;

interface Arrival {
  readonly index: number;
  readonly arrivalMs: number;
}

type Jitter = 'netem' | 'normal';

function network(seed: number, jitter: Jitter): { arrivals: Arrival[]; sent: number; networkLost: number } {
  const path = new ImpairmentModel({ ...JITTER_30MS_LOSS_2PCT, seed, jitterDistribution: jitter === 'netem' ? 'uniform' : 'normal' });
  const arrivals: Arrival[] = [];
  let networkLost = 0;
  for (let i = 0; i < FRAMES; i++) {
    const fate = path.next();
    if (fate.kind === 'drop') networkLost++;
    else for (const delayMs of fate.delaysMs) arrivals.push({ index: i, arrivalMs: i * FRAME_MS + delayMs });
  }
  arrivals.sort((a, b) => a.arrivalMs - b.arrivalMs);
  return { arrivals, sent: FRAMES, networkLost };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function run(jitterMultiplier: number, seed: number, jitter: Jitter): string {
  const { arrivals, sent, networkLost } = network(seed, jitter);
  const jb = new JitterBuffer({ frameMs: FRAME_MS, clockRateHz: 8000, jitterMultiplier });
  const arrivalOf = new Map<number, number>();
  const addedDelays: number[] = [];
  const seq0 = 65_000;
  const ts0 = 0xffff_0000;
  let next = 0;
  let outputs = 0;
  let started = false;
  // Until the last packet has arrived and been played out, so the tail adds no concealment.
  for (let now = 7; next < arrivals.length || jb.stats.bufferedFrames > 0; now += FRAME_MS) {
    for (; next < arrivals.length && (arrivals[next] as Arrival).arrivalMs <= now; next++) {
      const a = arrivals[next] as Arrival;
      const payload = new Uint8Array(4);
      new DataView(payload.buffer).setUint32(0, a.index);
      arrivalOf.set(a.index, a.arrivalMs);
      jb.put({ sequenceNumber: (seq0 + a.index) & 0xffff, timestamp: (ts0 + a.index * 160) >>> 0, payload, arrivalMs: a.arrivalMs });
    }
    const out = jb.get(now);
    if (out.kind !== 'silence') started = true;
    if (started) outputs++;
    if (out.kind === 'frame') {
      const index = new DataView(out.payload.buffer, out.payload.byteOffset).getUint32(0);
      addedDelays.push(now - (arrivalOf.get(index) as number));
    }
  }
  const s = jb.stats;
  addedDelays.sort((a, b) => a - b);
  const mean = addedDelays.reduce((sum, d) => sum + d, 0) / addedDelays.length;
  const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(2)} %`.padStart(8);
  return [
    jitter.padEnd(6),
    `k=${jitterMultiplier}`.padEnd(5),
    `late-loss ${pct(s.late, sent)}`,
    `concealed ${pct(s.concealed, outputs)}`,
    `lost ${pct(s.lost, sent)} (network ${pct(networkLost, sent).trim()})`,
    `added delay mean ${mean.toFixed(1).padStart(5)} ms  p95 ${percentile(addedDelays, 0.95).toFixed(1).padStart(5)} ms`,
    `target ${s.targetDelayMs.toFixed(1)} ms  jitter ${s.jitterMs.toFixed(1)} ms`,
    `dropped ${s.dropped}  inserted ${s.inserted}  dup ${s.duplicates}  discarded ${s.discarded}`,
  ].join('  ');
}

const seed = process.argv[2] === undefined ? 0x5eed : Number(process.argv[2]);
if (!Number.isInteger(seed)) throw new Error(`the seed must be an integer, got ${process.argv[2]}`);
const p = JITTER_30MS_LOSS_2PCT;
console.log(
  `jitter buffer: ${DURATION_MS / 1000} s of ${FRAME_MS} ms frames, delay ${p.baseDelayMs} ms with ${p.jitterMs} ms jitter (netem: uniform ±; normal: σ), ` +
    `${100 * p.lossProbability} % loss, ${100 * (p.holdBackProbability ?? 0)} % held back ${p.holdBackMs ?? 0} ms (seeded)`,
);
for (const jitter of ['netem', 'normal'] as const) for (const k of [2, 3, 4]) console.log(run(k, seed, jitter));
