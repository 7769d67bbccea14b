// The latency the agent itself adds to a call's audio, with the file backends, on loopback:
//   capture → send:    from the capture time of a microphone frame (when its last sample was
//                      recorded) to its RTP packet: handed to the socket (this event loop) and
//                      arrived at the peer's socket. A packet counts from its newest frame.
//   receive → playout: from an RTP packet's arrival at the agent's socket to the playback device
//                      being handed its first audio. Part of that is the jitter buffer's
//                      intentional delay (its currentDelayMs when the frame played, printed
//                      apart); the rest (timer lateness, decode, concealer, device hand-over) is
//                      the agent's own. The G.711 Appendix I concealer's fixed 3.75 ms look-behind
//                      (PLC_DELAY_SAMPLES) is inside it.
// Frames are told apart by their content: microphone frame k is a WAV file's frame, every
// sample at the level of μ-law code 0x80 + k mod 127, and the peer's packet n carries code
// 0x80 + n mod 127 throughout, which G.711 carries unchanged, so each packet and each played
// frame names its frame or packet. The peer is a plain UDP socket in this process sending on an
// absolute 20 ms schedule.
// Run: npm run build && node dist/test/bench/media-latency.bench.js [seconds] [runs]
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AudioPipeline, PLC_DELAY_SAMPLES, RtpSession, encodeWav, openCapture, openPlayback, ulawToLinear, linearToUlaw, type AudioPlayback } from '../../src/media/index.js';
import { SystemClock } from '../../src/util/index.js';

const SECONDS = Number(process.argv[2] ?? 10);
const RUNS = Number(process.argv[3] ?? 3);
const HOST = '127.0.0.1';
const CODES = 127;
const WARM_UP_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const levelOf = (k: number): number => ulawToLinear(0x80 + (k % CODES));
const residueOf = (sample: number): number => (linearToUlaw(sample) - 0x80 + CODES) % CODES;

/** A WAV file of `frames` 10 ms frames at 8 kHz, frame k at the level of code 0x80 + k mod 127. */
function codedWav(frames: number): Buffer {
  const pcm = new Int16Array(frames * 80);
  for (let k = 0; k < frames; k++) pcm.fill(levelOf(k), k * 80, (k + 1) * 80);
  return encodeWav(pcm, 8000);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (n: number): string => n.toFixed(2).padStart(6);
  return `${f(percentile(s, 50))} / ${f(percentile(s, 99))} / ${f(s.at(-1) ?? Number.NaN)}`;
}

/** The most recent event with each residue: frames and packets are named mod 127, and none is in flight for 1.27 s. */
class Recent {
  private readonly byResidue = new Map<number, { index: number; atMs: number }>();
  private count = 0;
  add(atMs: number): number {
    const index = this.count++;
    this.byResidue.set(index % CODES, { index, atMs });
    return index;
  }
  find(residue: number): { index: number; atMs: number } | undefined {
    return this.byResidue.get(residue);
  }
}

/** Hands every frame to the real file playback, and notes when the first frame of each peer packet comes. */
class TimedPlayback implements AudioPlayback {
  readonly played: Array<{ packet: number; arrivalMs: number; atMs: number; bufferDelayMs: number }> = [];
  private lastPacket = -1;
  constructor(
    private readonly inner: AudioPlayback,
    private readonly arrivals: Recent,
    private readonly bufferDelayMs: () => number,
  ) {}
  get sampleRateHz() { return this.inner.sampleRateHz; }
  get samplesPerFrame() { return this.inner.samplesPerFrame; }
  get events() { return this.inner.events; }
  get bufferedMs() { return this.inner.bufferedMs; }
  start(): Promise<void> { return this.inner.start(); }
  close(): Promise<void> { return this.inner.close(); }
  stats() { return this.inner.stats(); }
  write(frame: Int16Array): void {
    const atMs = performance.now();
    // The concealer's look-behind (30 samples) puts the rest of the frame in the newest packet;
    // concealed frames (a repeated, fading pitch period) are not one level throughout, and are skipped.
    const last = frame[frame.length - 1] as number;
    const level = last !== 0 && frame.subarray(PLC_DELAY_SAMPLES).every((x) => x === last);
    const packet = level ? this.arrivals.find(residueOf(last)) : undefined;
    if (packet && packet.index > this.lastPacket && atMs - packet.atMs < 1000) {
      this.lastPacket = packet.index;
      this.played.push({ packet: packet.index, arrivalMs: packet.atMs, atMs, bufferDelayMs: this.bufferDelayMs() });
    }
    this.inner.write(frame);
  }
}

interface RunResult {
  captureToSend: number[];
  captureToArrival: number[];
  receiveToPlayout: number[];
  bufferDelay: number[];
  agentOwn: number[];
  late: number;
  concealed: number;
}

async function run(dir: string): Promise<RunResult> {
  const clock = new SystemClock();
  const micPath = join(dir, 'mic.wav');
  await writeFile(micPath, codedWav(CODES * 10));
  const peer = createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, HOST, () => r()));
  const rtp = await RtpSession.open({ localAddress: HOST, localPort: 0, remote: { address: HOST, port: peer.address().port }, payloadTypes: [0], clock });
  const captured = new Recent();
  const arrivals = new Recent();
  const sendAt = new Map<number, number>(); // RTP timestamp → handed to the socket
  const result: RunResult = { captureToSend: [], captureToArrival: [], receiveToPlayout: [], bufferDelay: [], agentOwn: [], late: 0, concealed: 0 };
  const capture = openCapture(`file:${micPath}`, { sampleRateHz: 8000, clock, loop: true });
  let pipeline: AudioPipeline | undefined;
  const playback = new TimedPlayback(openPlayback(`file:${join(dir, 'heard.wav')}`, { sampleRateHz: 8000, clock }), arrivals,
    () => pipeline?.stats().receive.jitterBuffer.currentDelayMs ?? Number.NaN);
  capture.events.on('frame', (f) => captured.add(f.capturedAtMs));
  const send = rtp.send.bind(rtp);
  rtp.send = (payload, samples, marker, payloadType) => {
    sendAt.set(rtp.sending.nextTimestamp, performance.now());
    send(payload, samples, marker, payloadType);
  };
  const startMs = performance.now();
  const measuring = (): boolean => performance.now() - startMs > WARM_UP_MS;
  peer.on('message', (msg) => {
    const at = performance.now();
    if (msg.length !== 12 + 160 || !measuring()) return;
    const newest = captured.find(residueOf(ulawToLinear(msg[12 + 159] as number)));
    const sentAt = sendAt.get(msg.readUInt32BE(4));
    if (!newest || sentAt === undefined) return;
    result.captureToSend.push(sentAt - newest.atMs);
    result.captureToArrival.push(at - newest.atMs);
  });
  // Arrival as the agent's RtpSession stamps it (the same instant its pipeline sees the packet).
  rtp.events.on('packet', (p) => arrivals.add(p.arrivalMs));
  pipeline = new AudioPipeline({ clock, rtp, codec: { name: 'PCMU', payloadType: 0 }, ptimeMs: 20, capture, playback, rtcpIntervalMs: 0 });
  // The peer: packet n at t0 + 20 n ms, RTP timestamp 160 n, every byte code 0x80 + n mod 127.
  let n = 0;
  let peerTimer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header.writeUInt32BE(0x1234_5678, 8);
  const peerTick = (): void => {
    while (t0 + n * 20 <= performance.now()) {
      header.writeUInt16BE(n & 0xffff, 2);
      header.writeUInt32BE((n * 160) >>> 0, 4);
      peer.send(Buffer.concat([header, Buffer.alloc(160, 0x80 + (n % CODES))]), rtp.local.port, HOST);
      n++;
    }
    peerTimer = setTimeout(peerTick, t0 + n * 20 - performance.now());
  };
  try {
    await pipeline.start();
    peerTick();
    await sleep(SECONDS * 1000);
    const stats = pipeline.stats();
    result.late = stats.late;
    result.concealed = stats.concealed;
  } finally {
    clearTimeout(peerTimer);
    await pipeline.close();
    await rtp.close();
    peer.close();
  }
  for (const p of playback.played) {
    if (p.atMs - startMs < WARM_UP_MS) continue;
    result.receiveToPlayout.push(p.atMs - p.arrivalMs);
    result.bufferDelay.push(p.bufferDelayMs);
    result.agentOwn.push(p.atMs - p.arrivalMs - p.bufferDelayMs);
  }
  return result;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(process.env['TMPDIR'] ?? '/tmp', 'dpa-latency-bench-'));
  console.log(`agent latency, file backends, G.711 20 ms, ${SECONDS} s per run (first ${WARM_UP_MS / 1000} s not counted); ms as p50 / p99 / max`);
  console.log('  run  capture→socket        capture→peer arrival  receive→playout       of which jitter buffer  agent\'s own');
  try {
    for (let i = 1; i <= RUNS; i++) {
      const r = await run(dir);
      console.log(`  ${String(i).padEnd(4)} ${summary(r.captureToSend)}  ${summary(r.captureToArrival)}  ${summary(r.receiveToPlayout)}  ` +
        `${summary(r.bufferDelay)}   ${summary(r.agentOwn)}   late ${r.late}, concealed ${r.concealed}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
