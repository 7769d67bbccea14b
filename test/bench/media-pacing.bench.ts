// RTP send pacing of one call while the phone's own web page is being loaded (issue 6: p99
// deviation from the 20 ms schedule under 1 ms).
// Run as root after a build: npm run build && node dist/test/bench/media-pacing.bench.js [seconds] [runs] [only]
// (`only`: run just the readings whose label contains it, for example "on a tick").
//
// The phone: the real daemon (Daemon from src/daemon, so buildServer with the real Registry,
// AdminCredentials and the daemon's own status provider) started in this process on the sim board
// with a temporary data dir: HTTP on 127.0.0.1, SIP on 127.0.0.1 and any free port, NAT strategy
// none (no UPnP, PCP or STUN traffic), log level warn, an admin password set and two disabled
// accounts (they are listed by /api/registry; nothing registers). Before the readings, 50 page
// loads warm the server up and the daemon gets 3 s to settle.
//
// The call: one AudioPipeline (tone:1000 → PCMU, null speaker, RTCP on) on an RtpSession in this
// process sends to a socket in a worker thread (fixtures/media-bench-worker.ts, 'rtp-recorder'),
// which timestamps arrivals on its own event loop. Packet k should leave and arrive (RTP timestamp
// − first)/8 ms after the first; the deviation from that schedule (less its median, as the first
// packet may itself be late) is printed as p50 / p99 / max, both as the pacer sent (timestamped in
// this loop) and as the worker received, with the event loop delay of this process. The control
// is a bare timer on the same schedule in the recorder's worker (its own event loop): its lateness
// is the machine's scheduling noise, what a sender off the main loop would get.
//
// The web load comes from another worker thread (fixtures/media-pacing-load.ts) over HTTP, as a
// browser: keep-alive connections, the login's session token as bearer token, and If-None-Match
// with the last ETag of each path (a browser revalidating its cache). Readings, `seconds` each:
//   one call               the daemon idle beside the call.
//   + page load per s      the page as it is: GET / (its HTML has no script, style or image) and
//                          GET /favicon.ico (a browser asks; 404), both at once, once a second.
//   + page + API per s     the same plus the two API calls a settings page shows, /api/status and
//                          /api/registry, all four at once, once a second.
//   + page + API on a tick the same four, 4 page loads a second, each aimed at a tick of the
//                          pacer: sent 0, 0.25, 0.5, 0.75 or 1 ms (in turn) before the tick is
//                          due, so the server works on it just as the tick's timer comes due.
//                          What one page load does to the tick it lands on, which a page load
//                          a second at a random phase hits too rarely to show in a p99; printed
//                          at the end of the line: p50 / p90 / max deviation of those ticks.
//   + one 404 on a tick    the same aim with one request, GET /favicon.ico (404), the least
//                          a request costs: the floor of the aimed readings.
//   + flood (8 loops)      those four requests in 8 loops back to back: as much as the server
//                          takes, a stress reading, not a use case.
//   + stand-in per s       the stand-in web server media-call.bench.ts (p) used (an 85 KB page,
//                          a 160 KB script, two JSON calls built per request) instead of the
//                          daemon's, all four at once once a second, so the numbers compare;
//                          and aimed at ticks like the daemon's.
// With `runs` > 1 the readings repeat in turn and every line is printed. Numbers only: nothing is
// asserted. Everything started is stopped at the end, also on an error.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import { Daemon } from '../../src/daemon/index.js';
import { AudioPipeline, RtpSession, openCapture, openPlayback } from '../../src/media/index.js';
import { Registry } from '../../src/registry/index.js';
import { SystemClock } from '../../src/util/index.js';
import { AdminCredentials } from '../../src/web/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import type { BenchWorkerData, BenchWorkerMessage } from './fixtures/media-bench-worker.js';
import type { PacingLoadData, PacingLoadMessage, PacingSchedule } from './fixtures/media-pacing-load.js';

const PACING_S = Number(process.argv[2] ?? 10);
const RUNS = Number(process.argv[3] ?? 1);
const ONLY = process.argv[4] ?? '';
const HOST = '127.0.0.1';
const PASSWORD = 'bench password 6';
const RECORDER = new URL('./fixtures/media-bench-worker.js', import.meta.url);
const LOAD = new URL('./fixtures/media-pacing-load.js', import.meta.url);
const WARM_UP_LOADS = 50;
const SETTLE_MS = 3000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StartedWorker<M> {
  readonly worker: Worker;
  next(): Promise<M>;
}

function startWorker<M>(url: URL, data: unknown, role: string): StartedWorker<M> {
  const worker = new Worker(url, { workerData: data });
  const queue: M[] = [];
  const waiters: Array<(m: M) => void> = [];
  worker.on('message', (m: M) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const next = (): Promise<M> => {
    const m = queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message from the ${role} worker`)), 10_000);
      waiters.push((msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
  };
  return { worker, next };
}

/** The stand-in web server of media-call.bench.ts (p): a page, its script, and two API calls built per request. */
async function standInServer(): Promise<FastifyInstance> {
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
  return spread(deviation);
}

/** Deviations taken from their median, as p50 / p99 / max of the absolute values. */
function spread(values: readonly number[]): Deviation {
  const median = percentile([...values].sort((x, y) => x - y), 50);
  const off = values.map((d) => Math.abs(d - median)).sort((x, y) => x - y);
  return { p50: percentile(off, 50), p99: percentile(off, 99), max: off.at(-1) ?? 0 };
}

/** When packet 0 was due, in this thread's performance.now() ms: the median of each send time less its place in the schedule. */
function schedulePhase(timestamps: readonly number[], atMs: readonly number[]): number {
  const t0 = timestamps[0] as number;
  const phases = atMs.map((a, i) => a - (((timestamps[i] as number) - t0) >>> 0) / 8);
  return percentile(phases.sort((x, y) => x - y), 50);
}

/** How far off schedule (as scheduleDeviation) the ticks due at `aimedAtMs` (epoch ms) were sent, sorted. */
function aimedTicks(timestamps: readonly number[], atMs: readonly number[], aimedAtMs: readonly number[]): number[] {
  const t0 = timestamps[0] as number;
  const phase = schedulePhase(timestamps, atMs);
  const byTick = new Map(atMs.map((a, i) => [Math.round((((timestamps[i] as number) - t0) >>> 0) / 160), a]));
  return aimedAtMs.flatMap((due) => {
    const tick = Math.round((due - performance.timeOrigin - phase) / 20);
    const sentAt = byTick.get(tick);
    return sentAt === undefined ? [] : [Math.abs(sentAt - phase - tick * 20)];
  }).sort((x, y) => x - y);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

interface WebLoad {
  readonly label: string;
  /** The server the load goes to: the daemon's, or the stand-in. */
  readonly server: 'daemon' | 'stand-in' | 'none';
  readonly paths: readonly string[];
  readonly burstEveryMs?: number;
  /** Aim each burst at a tick, sent this long before it is due (in turn). */
  readonly aimLeadsMs?: readonly number[];
}

const PAGE = ['/', '/favicon.ico'];
const PAGE_AND_API = ['/', '/favicon.ico', '/api/status', '/api/registry'];
const STAND_IN = ['/', '/app.js', '/api/status', '/api/settings'];
const AIM_LEADS_MS = [0, 0.25, 0.5, 0.75, 1];
const AIM_EVERY_MS = 250;
const LOADS: readonly WebLoad[] = [
  { label: 'one call', server: 'none', paths: [] },
  { label: '+ page load per s', server: 'daemon', paths: PAGE, burstEveryMs: 1000 },
  { label: '+ page + API per s', server: 'daemon', paths: PAGE_AND_API, burstEveryMs: 1000 },
  { label: '+ one 404 on a tick', server: 'daemon', paths: ['/favicon.ico'], burstEveryMs: AIM_EVERY_MS, aimLeadsMs: AIM_LEADS_MS },
  { label: '+ page + API on a tick', server: 'daemon', paths: PAGE_AND_API, burstEveryMs: AIM_EVERY_MS, aimLeadsMs: AIM_LEADS_MS },
  { label: '+ flood (8 loops)', server: 'daemon', paths: PAGE_AND_API },
  { label: '+ stand-in per s', server: 'stand-in', paths: STAND_IN, burstEveryMs: 1000 },
  { label: '+ stand-in on a tick', server: 'stand-in', paths: STAND_IN, burstEveryMs: AIM_EVERY_MS, aimLeadsMs: AIM_LEADS_MS },
];

async function pacingRun(web: WebLoad, daemonUrl: string, token: string): Promise<void> {
  const recorder = startWorker<BenchWorkerMessage>(RECORDER, { role: 'rtp-recorder', address: HOST } satisfies BenchWorkerData, 'rtp-recorder');
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
  let standIn: FastifyInstance | undefined;
  let load: StartedWorker<PacingLoadMessage> | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  try {
    if (web.server !== 'none') {
      let baseUrl = daemonUrl;
      if (web.server === 'stand-in') {
        standIn = await standInServer();
        const address = standIn.server.address();
        baseUrl = `http://${HOST}:${typeof address === 'object' && address ? address.port : 0}`;
      }
      const data: PacingLoadData = {
        baseUrl, paths: web.paths, concurrency: 8, headers: web.server === 'daemon' ? { authorization: `Bearer ${token}` } : {},
        ...(web.burstEveryMs === undefined ? {} : { burstEveryMs: web.burstEveryMs }),
        ...(web.aimLeadsMs === undefined ? {} : { aimLeadsMs: web.aimLeadsMs }),
      };
      load = startWorker<PacingLoadMessage>(LOAD, data, 'http-load');
      await load.next();
    }
    const load1 = loadavg()[0] ?? 0;
    loopDelay.enable();
    await pipeline.start();
    if (web.aimLeadsMs && load) {
      await sleep(500);
      load.worker.postMessage({ kind: 'schedule', firstDueMs: performance.timeOrigin + schedulePhase(sent.timestamps, sent.atMs), ptimeMs: 20 } satisfies PacingSchedule);
      await sleep(PACING_S * 1000 - 500);
    } else {
      await sleep(PACING_S * 1000);
    }
    loopDelay.disable();
    await pipeline.close();
    let served = '';
    let aimed = '';
    if (load) {
      load.worker.postMessage('stop');
      const r = await load.next();
      if (r.kind === 'load' && r.aimedAtMs.length > 0) {
        const hit = aimedTicks(sent.timestamps, sent.atMs, r.aimedAtMs);
        aimed = `; the ${hit.length} ticks aimed at, p50 / p90 / max ${percentile(hit, 50).toFixed(2)} / ${percentile(hit, 90).toFixed(2)} / ${(hit.at(-1) ?? Number.NaN).toFixed(2)}`;
      }
      if (r.kind === 'load') {
        served = `, web: ${(r.requests / PACING_S).toFixed(0)} requests/s (${r.notModified} of ${r.requests} were 304; ` +
          `${((r.bytes / PACING_S) / 2 ** 10).toFixed(0)} KiB/s), ${r.failures} failed`;
      }
    }
    recorder.worker.postMessage('stop');
    const result = await recorder.next();
    if (result.kind !== 'arrivals' || result.arrivalsMs.length < 2) throw new Error(`the recorder got no packets (${result.kind})`);
    const ms = (n: number): string => n.toFixed(2);
    const triple = (d: Deviation): string => `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}`.padEnd(24);
    console.log(`  ${web.label.padEnd(22)} ${load1.toFixed(2).padEnd(6)} ${String(result.arrivalsMs.length).padEnd(8)} ` +
      `${triple(scheduleDeviation(sent.timestamps, sent.atMs))} ${triple(scheduleDeviation(result.timestamps, result.arrivalsMs))} ` +
      `${ms(loopDelay.percentile(99) / 1e6)} / ${ms(loopDelay.max / 1e6)}`.padEnd(16) + `${triple(spread(result.controlLateMs))}${served}${aimed}`);
  } finally {
    await pipeline.close();
    await rtp.close();
    await standIn?.close();
    await load?.worker.terminate();
    await recorder.worker.terminate();
  }
}

/** The daemon's data dir: quiet logs, no NAT traffic, an admin password, two accounts that do not register. */
function prepareDataDir(dir: string): void {
  const registry = Registry.open(dir);
  registry.update({
    'log.level': 'warn', 'nat.strategy': 'none', 'nat.upnpEnabled': false, 'nat.pcpEnabled': false,
    'accounts.office.registrar': 'sip:pbx.example.net', 'accounts.office.user': '201', 'accounts.office.password': 'office-secret', 'accounts.office.enabled': false,
    'accounts.home.registrar': 'sip:sip.example.org', 'accounts.home.user': 'alice', 'accounts.home.password': 'home-secret', 'accounts.home.enabled': false,
  });
  registry.close();
  new AdminCredentials(dir).setPassword(PASSWORD);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-pacing-bench-'));
  const deadline = setTimeout(() => {
    console.error('the benchmark took too long: stopping');
    process.exit(1);
  }, (RUNS * LOADS.length * (PACING_S + 5) + 60) * 1000);
  let daemon: Daemon | undefined;
  try {
    prepareDataDir(dir);
    daemon = new Daemon({ dataDir: dir, boardsDir: join(REPO_ROOT, 'board'), version: 'bench', board: 'sim', http: { host: HOST, port: 0 }, sipPort: 0, sipAddress: HOST });
    await daemon.start();
    // The browser logs in once; its page loads then carry the session token.
    const login = await fetch(`${daemon.url}api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
    if (login.status !== 201) throw new Error(`login failed: ${login.status}`);
    const { token } = (await login.json()) as { token: string };
    const daemonUrl = daemon.url.replace(/\/$/, '');
    // Warm up: the server's handlers compiled, the daemon's start-up work (NAT decision, GC) done.
    for (let i = 0; i < WARM_UP_LOADS; i++) {
      await Promise.all(PAGE_AND_API.map((p) => fetch(`${daemonUrl}${p}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.arrayBuffer())));
    }
    await sleep(SETTLE_MS);
    console.log(`RTP send pacing of one call's pipeline beside the daemon's web server, ${PACING_S} s each, arrivals timestamped in a worker thread`);
    console.log('  deviation from the 20 ms schedule in ms, p50 / p99 / max; the event loop delay of this process, p99 / max;');
    console.log('  control: a bare 20 ms timer in the worker thread, deviation p50 / p99 / max; load1: 1-min load average at the start');
    console.log('  run                    load1  packets  at send (pacer)          at arrival (worker)      loop delay      control (worker timer)');
    for (let run = 0; run < RUNS; run++) {
      for (const web of LOADS.filter((l) => l.label.includes(ONLY))) await pacingRun(web, daemonUrl, token);
    }
  } finally {
    clearTimeout(deadline);
    await daemon?.stop('bench done');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
