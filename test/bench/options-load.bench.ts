// OPTIONS answered per second over UDP on loopback under a SIPp load ramp, with p99 response
// time, then a 60 s flood at a fixed rate watching the UA's memory. Bounded: SIPp stops itself.
// Run as root after the test dependencies: npm run build && node dist/test/bench/options-load.bench.js
// [rate] [seconds] [noramp]; or `... options-load.bench.js inproc [requests]` (no SIPp, see below).
// PIN=1 runs the UA on CPU 1 and SIPp (and WIRE=1's tcpdump) on CPU 0 (taskset), so they do not
// take turns on one core with the UA.
// The UA reports what it saw itself each second: its service time per datagram (from the socket's
// event to the answer handed to the kernel) and GC counts (LOOP_DELAY=1 adds event-loop delay, from
// a 1 ms timer in the UA: off by default, as it wakes the UA more than a phone is woken; SLOW_US=n
// lists datagrams slower than n µs, to line up with TRACE_GC=1's output); SIPp's response times
// have 1 ms resolution and include SIPp's own scheduling. WIRE=1 also captures the flood on the
// loopback with tcpdump and prints the response times on the wire (request packet → response
// packet, fixtures/pcap-sip-latency.ts): the UA's whole share, without SIPp's scheduling.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sippScenario } from '../lab/lib/sipp.js';
import { sipLatencyFromPcap } from './fixtures/pcap-sip-latency.js';

const RAMP = { startPerS: 1000, stepPerS: 1000, stepS: 4, maxPerS: 10_000 };
const FLOOD = { ratePerS: Number(process.argv[2] ?? 5000), seconds: Number(process.argv[3] ?? 60) };

// "inproc [requests]": the UA's OPTIONS path alone, in one process without sockets or SIPp,
// counting CPU and what it allocates per request (fixtures/options-inproc.ts); nothing else runs.
if (process.argv[2] === 'inproc') {
  const requests = Number(process.argv[3] ?? 100_000);
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'options-inproc.js'), String(requests)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.on('exit', r));
  const [, n, cpuUs, bytes, scavenges, survived, promoted, old, gcMs] = (out.split('\n').find((l) => l.startsWith('inproc ')) ?? '').split(' ');
  console.log(`in-process OPTIONS path, ${n} requests: ${cpuUs} µs CPU each, ${bytes} B allocated each, ${(Number(scavenges) / Number(n) * 1000).toFixed(2)} scavenges per 1000 (${survived} B/request surviving one, ${promoted} B/request promoted), ${old} old-generation GCs, ${gcMs} ms in GC`);
  process.exit(0);
}

const pin = process.env['PIN'] === '1';
const pinned = (cpu: number, cmd: string, args: string[]): [string, string[]] => (pin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]);
if (pin) console.log('pinned: the UA on CPU 1, SIPp on CPU 0 (taskset)');
const server = spawn(...pinned(1, process.execPath, [...(process.env["GC_EACH_S"] ? ["--expose-gc"] : []), ...(process.env["TRACE_GC"] ? ["--trace-gc"] : []), ...(process.env["UA_NODE_FLAGS"] ?? "").split(" ").filter(Boolean), join(import.meta.dirname, 'fixtures', 'options-server.js')]), { stdio: ['ignore', 'pipe', 'inherit'] });
const rss: number[] = [];
const detail: string[] = [];
const uaLines: number[][] = [];
let port = 0;
await new Promise<void>((resolve) => {
  let buf = '';
  server.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const [k, v] = line.split(' ');
      if (k === 'port') {
        port = Number(v);
        resolve();
      } else if (k === 'rss') {
        rss.push(Number(v));
        detail.push(line);
      } else if (k === 'ua') {
        uaLines.push(line.split(' ').slice(1).map(Number));
        detail.push(line);
      } else if (process.env['TRACE_GC']) console.error(line);
    }
  });
});

interface Run { ok: number; failed: number; seconds: number; rttsMs: number[] }

async function sipp(args: string[], calls: number, timeoutS: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-bench-sipp-'));
  const t0 = performance.now();
  const p = spawn(...pinned(0, 'sipp', ['-sf', sippScenario('options-uac.xml'), '-i', '127.0.0.1', '-p', '0', '-m', String(calls), '-timeout', `${timeoutS}s`,
    '-nostdin', '-buff_size', '2097152', '-trace_stat', '-stf', join(dir, 's.csv'), '-trace_rtt', '-rtt_freq', '1', ...args, `127.0.0.1:${port}`]), { cwd: dir, stdio: 'ignore' });
  await new Promise((r) => p.on('exit', r));
  const seconds = (performance.now() - t0) / 1000;
  const stat = readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n');
  const head = (stat[0] ?? '').split(';');
  const last = (stat[stat.length - 1] ?? '').split(';');
  const col = (n: string) => Number(last[head.indexOf(n)]);
  const rttFile = readdirSync(dir).find((f) => f.includes('_rtt'));
  const rttsMs = rttFile ? readFileSync(join(dir, rttFile), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(';')[1])).filter((x) => Number.isFinite(x)) : [];
  return { ok: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'), seconds, rttsMs };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const rampSteps = (RAMP.maxPerS - RAMP.startPerS) / RAMP.stepPerS + 1;
const rampCalls = Array.from({ length: rampSteps }, (_, i) => (RAMP.startPerS + i * RAMP.stepPerS) * RAMP.stepS).reduce((a, b) => a + b, 0);
const skipRamp = process.argv[4] === 'noramp';
const ramp = skipRamp ? { ok: 0, failed: 0, seconds: 1, rttsMs: [] } : await sipp(['-r', String(RAMP.startPerS), '-rate_increase', String(RAMP.stepPerS), '-fd', String(RAMP.stepS), '-rate_max', String(RAMP.maxPerS), '-no_rate_quit'], rampCalls, rampSteps * RAMP.stepS + 20);
if (!skipRamp) console.log(`ramp ${RAMP.startPerS}→${RAMP.maxPerS}/s over ${ramp.seconds.toFixed(0)} s: ${ramp.ok} answered, ${ramp.failed} failed, ${(ramp.ok / ramp.seconds).toFixed(0)}/s average, p50 ${pct(ramp.rttsMs, 50)} ms, p99 ${pct(ramp.rttsMs, 99)} ms`);

// noramp: a few seconds at the flood rate first, so the flood measures a warmed-up UA (the JIT has
// compiled the OPTIONS path, the young generation has grown) as a phone that has been running is;
// the warm-up's own figures are printed too.
if (skipRamp) {
  const warm = await sipp(['-r', String(FLOOD.ratePerS)], FLOOD.ratePerS * 3, 30);
  console.log(`warm-up ${FLOOD.ratePerS}/s for ${warm.seconds.toFixed(0)} s: ${warm.ok} answered, ${warm.failed} failed, p50 ${pct(warm.rttsMs, 50)} ms, p99 ${pct(warm.rttsMs, 99)} ms`);
}
const rssBefore = rss.length;
const uaBefore = uaLines.length;
const wireDir = process.env['WIRE'] === '1' ? mkdtempSync(join(tmpdir(), 'dpa-bench-wire-')) : undefined;
// With PIN=1 the capture shares SIPp's CPU: it wakes for every packet and would otherwise preempt the UA.
const tcpdump = wireDir ? spawn(...pinned(0, 'tcpdump', ['-i', 'lo', '-n', '-p', '-s', '512', '-B', '65536', '-w', join(wireDir, 'flood.pcap'), 'udp', 'and', 'port', String(port)]), { stdio: ['ignore', 'ignore', 'pipe'] }) : undefined;
let tcpdumpErr = '';
tcpdump?.stderr.on('data', (d: Buffer) => (tcpdumpErr += d.toString()));
if (tcpdump) await new Promise((r) => setTimeout(r, 1000)); // listening before the first request
const flood = await sipp(['-r', String(FLOOD.ratePerS)], FLOOD.ratePerS * FLOOD.seconds, FLOOD.seconds + 30);
if (tcpdump && wireDir) {
  tcpdump.kill('SIGINT');
  await new Promise((r) => tcpdump.on('exit', r));
  const wire = sipLatencyFromPcap(join(wireDir, 'flood.pcap'));
  const at = (p: number): string => ((wire.latenciesUs[Math.min(wire.latenciesUs.length - 1, Math.floor(p * wire.latenciesUs.length))] ?? NaN) / 1000).toFixed(2);
  const dropped = /(\d+) packets? dropped by kernel/.exec(tcpdumpErr)?.[1] ?? '?';
  console.log(`on the wire (tcpdump on lo, ${dropped} packets dropped by the capture): ${wire.requests} requests, ${wire.answered} answered, ${wire.retransmitted} retransmitted; response time p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, p99.9 ${at(0.999)} ms, max ${at(1)} ms`);
}
const floodRss = rss.slice(rssBefore);
console.log(`flood ${FLOOD.ratePerS}/s for ${flood.seconds.toFixed(0)} s: ${flood.ok} answered, ${flood.failed} failed, ${(flood.ok / flood.seconds).toFixed(0)}/s, p50 ${pct(flood.rttsMs, 50)} ms, p99 ${pct(flood.rttsMs, 99)} ms`);
const mb = (k: number | undefined) => ((k ?? NaN) / 1024).toFixed(1);
const tenth = Math.max(1, Math.floor(floodRss.length / 10));
console.log(`UA RSS during the flood: first 10% max ${mb(Math.max(...floodRss.slice(0, tenth)))} MiB, last 10% max ${mb(Math.max(...floodRss.slice(-tenth)))} MiB, overall max ${mb(Math.max(...floodRss))} MiB (${floodRss.length} samples)`);
// Seconds of the flood in which the UA was busy (at least half the rate), each a "ua" line.
const busy = uaLines.slice(uaBefore).filter((u) => (u[0] ?? 0) >= FLOOD.ratePerS / 2);
const col = (i: number) => busy.map((u) => u[i] ?? NaN);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
if (busy.length > 0) {
  console.log(`UA service time per datagram (${busy.length} busy seconds): per-second p50 median ${pct(col(1), 50)} µs, per-second p99 median ${pct(col(2), 50)} µs (worst ${Math.max(...col(2))} µs), max ${Math.max(...col(3))} µs${Number.isNaN(col(4)[0]) ? '' : `; event-loop delay p99 median ${pct(col(4), 50)} µs (worst ${Math.max(...col(4))} µs)`}`);
  console.log(`UA GC: ${(sum(col(5)) / busy.length).toFixed(1)} young/s (${(sum(col(6)) / Math.max(1, sum(col(5)))).toFixed(2)} ms each on average), ${sum(col(7))} old-generation (${sum(col(8)).toFixed(0)} ms in all), longest pause ${Math.max(...col(9)).toFixed(1)} ms`);
  // Other processes on the UA's CPU (the machine may be shared): the main thread's involuntary context switches.
  console.log(`UA main thread preempted ${sum(col(10))} times in the busy seconds (involuntary context switches; most in one second: ${Math.max(...col(10))})`);
}
if (process.env['DETAIL']) console.log(detail.join('\n'));
server.kill('SIGTERM');
