// The cost of a G.711 call, our phone and baresip side by side in the same call. (The RTP send
// pacing, alone and while the web page is loaded, is media-pacing.bench.ts.)
// Run as root after a build: npm run build && node dist/test/bench/media-call.bench.js [callS]
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
// Numbers only: nothing is asserted. Everything started is stopped at the end, also on an error.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalPortManager } from '../../src/nat/index.js';
import { RtcClient, type Session } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { startBaresip, type Baresip } from '../lab/lib/baresip.js';
import { startProcess, stopAll, waitFor } from '../lab/lib/process.js';

const CALL_S = Number(process.argv[2] ?? 20);
const IDLE_S = 5;
const FLOOR_S = 10;
const FLOOR_CHILD = new URL('./fixtures/media-floor-child.js', import.meta.url);
const HOST = '127.0.0.1';
const base = 46000 + Math.floor(Math.random() * 150) * 10;
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

async function main(): Promise<void> {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp(join(process.env['TMPDIR'] ?? '/tmp', 'dpa-media-bench-')));
  const deadline = setTimeout(() => {
    console.error('the benchmark took too long: stopping');
    void stopAll().finally(() => process.exit(1));
  }, (IDLE_S + FLOOR_S + 2 * CALL_S + 70) * 1000);
  try {
    await cpuBenchmark(dir);
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
