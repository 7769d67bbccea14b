// The cost of a G.711 call, our phone and baresip side by side in the same call, and the RTP
// send pacing of our audio pipeline alone and while the web server is busy.
// Run as root after a build: npm run build && node dist/test/bench/media-call.bench.js [callS] [pacingS]
//
// (c) CPU and memory. Our RtcClient calls baresip (direct IP; answermode=auto, regint=0,
//     rtcp_mux) and both run the same call for callS seconds (default 20), twice: our microphone
//     is tone:1000 and our speaker a WAV file, then the null device; baresip's microphone is
//     ausine at 600 Hz (which runs at 48 kHz stereo, so it resamples) and sndfile records both
//     directions to WAV. CPU is
//     process.cpuUsage() for us (this process: the phone, with the harness only waiting) and
//     utime+stime from /proc/<pid>/stat for baresip, over the same interval, scaled to a minute;
//     the idle rate of each, measured before the call (the same process with the RtcClient up and
//     no call), is printed beside it, and ours is split into the main thread's user and system
//     time and the other threads' (V8's GC and compiler helpers, libuv's pool; /proc/self/task).
//     Beside them the Node floor: a bare Node child with only the call's event rate (a 20 ms
//     pacer sending, 50 datagrams a second in; fixtures/media-floor-child.ts), no media work.
//     RSS at the end of the call: process.memoryUsage() and VmRSS. What differs: baresip 1.0 has
//     no null audio player module, so `audio_player null,null` leaves it without a player (it
//     decodes and sndfile records, but nothing plays out on a clock), while our call runs the
//     jitter buffer, concealment and playout every 20 ms.
// (p) Pacing. One AudioPipeline (tone:1000 → PCMU, null speaker, RTCP on) on an RtpSession sends
//     to a socket in a worker thread, which timestamps arrivals on its own event loop. Packet k
//     should arrive (RTP timestamp − first)/8 ms after the first; the deviation from that
//     schedule (less its median, as the first packet may itself be late) is printed as p50, p99
//     and max, both as the pacer sent (timestamped in this loop) and as the worker received,
//     with the event loop delay of this process, and beside them a control: a bare timer on the
//     same schedule in the recorder's worker thread (its own event loop), whose lateness is the
//     machine's scheduling noise — what a sender off the main loop would get. Then again while a worker loads a
//     Fastify server in this process with the requests of a web page (an 85 KB page, a 160 KB
//     script, two JSON API calls): all four at once every second (a browser loading the page),
//     and then 8 request loops back to back (as much as the server takes).
// Numbers only: nothing is asserted. Everything started is stopped at the end, also on an error.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import { AudioPipeline, RtpSession, openCapture, openPlayback } from '../../src/media/index.js';
import { LocalPortManager } from '../../src/nat/index.js';
import { RtcClient, type Session } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { startBaresip, type Baresip } from '../lab/lib/baresip.js';
import { startProcess, stopAll, waitFor } from '../lab/lib/process.js';
import type { BenchWorkerData, BenchWorkerMessage } from './fixtures/media-bench-worker.js';

const CALL_S = Number(process.argv[2] ?? 20);
const PACING_S = Number(process.argv[3] ?? 10);
const IDLE_S = 5;
const FLOOR_S = 10;
const FLOOR_CHILD = new URL('./fixtures/media-floor-child.js', import.meta.url);
const HOST = '127.0.0.1';
const base = 46000 + Math.floor(Math.random() * 150) * 10;
const WORKER = new URL('./fixtures/media-bench-worker.js', import.meta.url);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of a process from /proc/<pid>/stat. */
function procCpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) of proc(5), counted from 3 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function procRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const ourCpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Our CPU seconds split: the main thread's user and system time, and all other threads (V8's GC and compiler helpers, libuv's pool). */
interface CpuSplit {
  readonly mainUser: number;
  readonly mainSystem: number;
  readonly helpers: number;
}

function ourCpuSplit(): CpuSplit {
  const all = process.cpuUsage();
  // Node 20 has no per-thread CPU usage: the main thread's task has the process's id.
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const [user, system] = [Number(fields[11]) / CLK_TCK, Number(fields[12]) / CLK_TCK];
  return { mainUser: user, mainSystem: system, helpers: (all.user + all.system) / 1e6 - user - system };
}

interface CpuOver {
  readonly ours: number;
  readonly baresip: number;
  readonly split: CpuSplit;
}

/** CPU seconds both processes use over `ms`. */
async function cpuOver(ms: number, baresipPid: number): Promise<CpuOver> {
  const [o0, s0, b0] = [ourCpuS(), ourCpuSplit(), procCpuS(baresipPid)];
  await sleep(ms);
  const [o1, s1] = [ourCpuS(), ourCpuSplit()];
  return {
    ours: o1 - o0,
    baresip: procCpuS(baresipPid) - b0,
    split: { mainUser: s1.mainUser - s0.mainUser, mainSystem: s1.mainSystem - s0.mainSystem, helpers: s1.helpers - s0.helpers },
  };
}

/**
 * What Node costs for a call's event rate alone: a child process with a 20 ms pacer sending
 * 172-byte datagrams and a socket receiving 50 a second (sent from here, 10 ms out of phase
 * with its ticks, as a peer's packets are), doing nothing else. CPU-s per minute of the child.
 */
async function nodeFloor(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, HOST, () => resolve()));
  const child = startProcess('node-floor', process.execPath, [fileURLToPath(FLOOR_CHILD), String(sock.address().port)]);
  let timer: NodeJS.Timeout | undefined;
  try {
    await waitFor('the floor child to bind', () => /^\d+\n/.test(child.output()), 10_000);
    const port = Number.parseInt(child.output(), 10);
    const datagram = Buffer.alloc(172);
    const t0 = performance.now() + 10;
    let k = 0;
    const tick = (): void => {
      sock.send(datagram, port, HOST);
      k++;
      timer = setTimeout(tick, t0 + k * 20 - performance.now());
    };
    timer = setTimeout(tick, 10);
    await sleep(2000);
    const c0 = procCpuS(child.pid);
    await sleep(FLOOR_S * 1000);
    return ((procCpuS(child.pid) - c0) / FLOOR_S) * 60;
  } finally {
    clearTimeout(timer);
    await child.stop();
    sock.close();
  }
}

async function cpuBenchmark(dir: string): Promise<void> {
  const bob: Baresip = await startBaresip({
    address: HOST, sipPort: base + 1, consPort: base + 50, rtpPorts: [base + 100, base + 149], toneHz: 600, extraConfig: ['rtcp_mux yes'],
    account: `<sip:bob@${HOST}>;regint=0;answermode=auto;audio_codecs=PCMU`,
  });
  let speaker = 'null';
  const client = await RtcClient.start({
    clock: new SystemClock(), addresses: [HOST], sipPort: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-bench',
    portManager: new LocalPortManager(() => HOST), localAddress: HOST,
    media: () => ({ localAddress: HOST, portMin: base + 150, portMax: base + 199, codecs: ['PCMU'], ptimeMs: 20, capture: 'tone:1000', playback: speaker }),
    calls: () => ({ acceptOnlyFromProxy: false, allowDirectIpCalls: true, callWaiting: true, doNotDisturb: false, sessionExpiresS: 0 }),
  });
  const perMin = (cpuS: number, overS: number): string => `${((cpuS / overS) * 60).toFixed(2)} s/min`;
  try {
    const idle = await cpuOver(IDLE_S * 1000, bob.process.pid);
    const floor = await nodeFloor();
    console.log(`\n(c) one G.711 call of ${CALL_S} s, our phone ↔ baresip 1.0.0 on loopback (CLK_TCK ${CLK_TCK})`);
    console.log(`  Node floor: a bare Node process with only the call's events (20 ms timer sending 172 B, 50 datagrams/s in): ${floor.toFixed(2)} s/min`);
    console.log('                                 CPU in the call    idle before     RSS at the end');
    // First as baresip runs (its sndfile records to WAV), then with our speaker on the null device.
    for (const [label, spec] of [['speaker file:', `file:${join(dir, 'heard.wav')}`], ['speaker null', 'null']] as const) {
      speaker = spec;
      const s: Session = client.call(`sip:bob@${HOST}:${base + 1}`);
      await waitFor('the call to connect', () => s.state === 'connected', 10_000);
      await waitFor('audio both ways', () => (s.media?.counters.received ?? 0) >= 50, 5000);
      const call = await cpuOver(CALL_S * 1000, bob.process.pid);
      const rss = { ours: process.memoryUsage().rss / 2 ** 20, baresip: procRssMiB(bob.process.pid) };
      const stats = s.media?.audioStats;
      const quality = s.media?.callQuality();
      s.hangup();
      await waitFor('the call to end', () => s.state === 'ended', 10_000);
      console.log(`  our phone, ${label.padEnd(19)} ${perMin(call.ours, CALL_S).padEnd(18)} ${perMin(idle.ours, IDLE_S).padEnd(15)} ${rss.ours.toFixed(1)} MiB`);
      const split = (c: CpuSplit, overS: number): string => `main thread user ${perMin(c.mainUser, overS)}, system ${perMin(c.mainSystem, overS)}; other threads ${perMin(c.helpers, overS)}`;
      console.log(`    ours in the call: ${split(call.split, CALL_S)}`);
      console.log(`    ours idle before: ${split(idle.split, IDLE_S)}`);
      console.log(`  baresip (ausine, sndfile)     ${perMin(call.baresip, CALL_S).padEnd(18)} ${perMin(idle.baresip, IDLE_S).padEnd(15)} ${rss.baresip.toFixed(1)} MiB`);
      if (stats && quality) {
        console.log(`    our side: sent ${stats.sent}, received ${stats.received}, lost ${stats.lost}, late ${stats.late}, concealed ${stats.concealed}, ` +
          `jitter ${stats.jitterMs.toFixed(2)} ms, delay ${stats.currentDelayMs.toFixed(1)} ms, RTT ${stats.rttMs?.toFixed(2) ?? '-'} ms ` +
          `(RTCP ${stats.rtcpSent} sent, ${stats.rtcpReceived} received), R ${quality.r.toFixed(1)}, MOS ${quality.mos.toFixed(2)}`);
      }
    }
    console.log(`  (our RSS is this whole Node process: the RtcClient, its call and the harness; JS heap in use ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB)`);
  } finally {
    await client.close();
    await bob.stop();
    rmSync(bob.dir, { recursive: true, force: true });
  }
}

function startWorker(data: BenchWorkerData): { worker: Worker; next: () => Promise<BenchWorkerMessage> } {
  const worker = new Worker(WORKER, { workerData: data });
  const queue: BenchWorkerMessage[] = [];
  const waiters: Array<(m: BenchWorkerMessage) => void> = [];
  worker.on('message', (m: BenchWorkerMessage) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const next = (): Promise<BenchWorkerMessage> => {
    const m = queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message from the ${data.role} worker`)), 10_000);
      waiters.push((msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
  };
  return { worker, next };
}

/** A stand-in for the phone's web server: a page, its script, and two API calls built per request. */
async function webServer(): Promise<FastifyInstance> {
  // Loaded only here, so the RSS measured in the call is the phone's, not the web server's.
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  const page = `<!doctype html><html><body>${'<div class="row"><span>setting</span><input value="x"></div>'.repeat(1200)}</body></html>`;
  const script = `(() => {${'const a = [1, 2, 3].map((x) => x * 2);'.repeat(4000)}})();`;
  app.get('/', async (_req, reply) => reply.type('text/html').send(page));
  app.get('/app.js', async (_req, reply) => reply.type('text/javascript').send(script));
  app.get('/api/status', async () => ({ uptimeS: process.uptime(), calls: [], registrations: Array.from({ length: 4 }, (_, i) => ({ id: `a${i}`, state: 'registered', expiresS: 600 })) }));
  app.get('/api/settings', async () => Array.from({ length: 180 }, (_, i) => ({ key: `group.setting${i}`, value: `value ${i}`, default: '', type: 'string', description: 'A setting of the phone, described for the web page.'.repeat(2) })));
  await app.listen({ host: HOST, port: 0 });
  return app;
}

interface Deviation {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * How far packets left or arrived off the 20 ms schedule: packet k is due (its RTP timestamp −
 * the first's)/8 ms after the first, and the deviation is taken from the median one (the first
 * packet may itself be late).
 */
function scheduleDeviation(timestamps: readonly number[], atMs: readonly number[]): Deviation {
  const t0 = timestamps[0] as number;
  const a0 = atMs[0] as number;
  const deviation = atMs.map((a, i) => a - a0 - (((timestamps[i] as number) - t0) >>> 0) / 8);
  const median = percentile([...deviation].sort((x, y) => x - y), 50);
  const off = deviation.map((d) => Math.abs(d - median)).sort((x, y) => x - y);
  return { p50: percentile(off, 50), p99: percentile(off, 99), max: off.at(-1) ?? 0 };
}

/** A timer's lateness taken from its median, like scheduleDeviation. */
function lateness(lateMs: readonly number[]): Deviation {
  const median = percentile([...lateMs].sort((x, y) => x - y), 50);
  const off = lateMs.map((d) => Math.abs(d - median)).sort((x, y) => x - y);
  return { p50: percentile(off, 50), p99: percentile(off, 99), max: off.at(-1) ?? 0 };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** No web load, a page load (all its requests at once) every second, or as much as the server takes. */
type WebLoad = 'none' | 'page-per-s' | 'flood';

async function pacingRun(label: string, webLoad: WebLoad): Promise<void> {
  const recorder = startWorker({ role: 'rtp-recorder', address: HOST });
  const ready = await recorder.next();
  const port = ready.kind === 'ready' ? ready.port ?? 0 : 0;
  const clock = new SystemClock();
  const rtp = await RtpSession.open({ localAddress: HOST, localPort: 0, remote: { address: HOST, port }, payloadTypes: [0], clock });
  // When the pacer sends, seen from this event loop (before the kernel and the worker).
  const sent = { timestamps: [] as number[], atMs: [] as number[] };
  const send = rtp.send.bind(rtp);
  rtp.send = (payload, samples, marker, payloadType) => {
    sent.timestamps.push(rtp.sending.nextTimestamp);
    sent.atMs.push(performance.now());
    send(payload, samples, marker, payloadType);
  };
  const pipeline = new AudioPipeline({
    clock, rtp, codec: { name: 'PCMU', payloadType: 0 }, ptimeMs: 20,
    capture: openCapture('tone:1000', { sampleRateHz: 8000, clock }), playback: openPlayback('null', { sampleRateHz: 8000, clock }),
  });
  let server: FastifyInstance | undefined;
  let load: ReturnType<typeof startWorker> | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  try {
    if (webLoad !== 'none') {
      server = await webServer();
      const address = server.server.address();
      const baseUrl = `http://${HOST}:${typeof address === 'object' && address ? address.port : 0}`;
      const paths = ['/', '/app.js', '/api/status', '/api/settings'];
      load = startWorker({ role: 'http-load', baseUrl, paths, concurrency: 8, ...(webLoad === 'page-per-s' ? { burstEveryMs: 1000 } : {}) });
      await load.next();
    }
    loopDelay.enable();
    await pipeline.start();
    await sleep(PACING_S * 1000);
    loopDelay.disable();
    await pipeline.close();
    let served = '';
    if (load) {
      load.worker.postMessage('stop');
      const r = await load.next();
      if (r.kind === 'load') served = `, web: ${(r.requests / PACING_S).toFixed(0)} requests/s (${((r.bytes / PACING_S) / 2 ** 20).toFixed(1)} MiB/s), ${r.failures} failed`;
    }
    recorder.worker.postMessage('stop');
    const result = await recorder.next();
    if (result.kind !== 'arrivals' || result.arrivalsMs.length < 2) throw new Error(`the recorder got no packets (${result.kind})`);
    const atSend = scheduleDeviation(sent.timestamps, sent.atMs);
    const atArrival = scheduleDeviation(result.timestamps, result.arrivalsMs);
    const control = lateness(result.controlLateMs);
    const ms = (n: number): string => n.toFixed(2);
    const triple = (d: Deviation): string => `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}`.padEnd(24);
    console.log(`  ${label.padEnd(24)} ${String(result.arrivalsMs.length).padEnd(8)} ${triple(atSend)} ${triple(atArrival)} ` +
      `${ms(loopDelay.percentile(99) / 1e6)} / ${ms(loopDelay.max / 1e6)}`.padEnd(16) + `${triple(control)}${served}`);
  } finally {
    await pipeline.close();
    await rtp.close();
    await server?.close();
    await load?.worker.terminate();
    await recorder.worker.terminate();
  }
}

async function main(): Promise<void> {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp(join(process.env['TMPDIR'] ?? '/tmp', 'dpa-media-bench-')));
  const deadline = setTimeout(() => {
    console.error('the benchmark took too long: stopping');
    void stopAll().finally(() => process.exit(1));
  }, (IDLE_S + FLOOR_S + 2 * CALL_S + 4 * PACING_S + 70) * 1000);
  try {
    await cpuBenchmark(dir);
    console.log(`\n(p) RTP send pacing of one call's pipeline, ${PACING_S} s each, arrivals timestamped in a worker thread`);
    console.log('  deviation from the 20 ms schedule in ms, p50 / p99 / max; the event loop delay of this process, p99 / max;');
    console.log('  control: a bare 20 ms timer in the worker thread, deviation p50 / p99 / max');
    console.log('  run                      packets  at send (pacer)          at arrival (worker)      loop delay      control (worker timer)');
    await pacingRun('one call', 'none');
    await pacingRun('+ a page load per s', 'page-per-s');
    await pacingRun('+ web flood (8 loops)', 'flood');
  } finally {
    clearTimeout(deadline);
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
