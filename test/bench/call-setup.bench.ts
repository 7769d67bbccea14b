// Call set-up time on loopback, our phone and baresip side by side, plus our registration time.
// Run as root after a build: npm run build && node dist/test/bench/call-setup.bench.js [calls]
//
//   (a) our RtcClient → baresip (direct IP, callee has answermode=auto and regint=0, no registrar)
//   (b) baresip → the same baresip callee (a second baresip dials it with /dial)
//   (r) our REGISTER with digest to a private kamailio: client.addProfile → 'registered' event,
//       a fresh profile each time (removed, i.e. un-registered, before the next one)
//
// Method for (a) and (b), identical for both: measured on the wire by a SIP relay of our own
// (fixtures/sip-relay.ts) in a worker thread, so its timestamps never wait for the phone's event
// loop. Both callers dial sip:callee@127.0.0.1:RELAY. A plain datagram relay is not enough: the
// callee sends its 200 to the caller's Via and the caller sends the ACK to the callee's Contact,
// so only the INVITE would pass it (and there is no tcpdump here, nor raw sockets in Node, to
// sniff lo instead). So the relay is a stateless proxy that puts its own Via on top (the 200 comes
// back through it) and a Record-Route on the initial INVITE (the callee copies it into the 2xx,
// and the caller's ACK and BYE follow that route set through the relay). The relay timestamps
// the INVITE, the 200 and the ACK as it receives them:
//   INVITE→ACK  = the set-up time asked for (callee's answer + caller's ACK turnaround), and it
//                 includes the relay's two forwards (INVITE, 200) and four loopback hops, the
//                 same in both cases;
//   INVITE→200  = the callee's work (the same baresip in both cases, so it should match);
//   200→ACK     = the caller's 2xx→ACK turnaround (+ one relay forward): where the callers differ.
// For (a) we also print the in-process view, client.call() → the session's 'connected' event
// (the UA sends the ACK synchronously just before invite() resolves; this interval also holds
// opening the RTP socket and building the SDP offer before the INVITE).
// Calls alternate a, b, a, b (each hung up by the caller and its BYE answered before the next);
// the first WARMUP calls of each case are not counted. Everything is stopped at the end, also on
// an error or at the overall deadline. Numbers only: nothing is asserted.
import { Worker } from 'node:worker_threads';
import { LocalPortManager } from '../../src/nat/index.js';
import { RtcClient, type SessionState } from '../../src/rtc/index.js';
import { DEFAULT_TIMERS } from '../../src/sip/transaction/index.js';
import { SystemClock } from '../../src/util/index.js';
import { startBaresip, type Baresip } from '../lab/lib/baresip.js';
import { startKamailio, type Kamailio } from '../lab/lib/kamailio.js';
import { stopAll } from '../lab/lib/process.js';
import type { CallRecord, RelayMessage, RelayOptions } from './fixtures/sip-relay.js';

const CALLS = Number(process.argv[2] ?? 20);
const REGISTRATIONS = 10;
const WARMUP = 2;
const DEADLINE_MS = 60_000;
const STEP_TIMEOUT_MS = 5_000;
const HOST = '127.0.0.1';
const base = 47000 + Math.floor(Math.random() * 150) * 10;

/** Waits for pushed items in order (relay reports), with a timeout per item. */
class Queue<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | undefined;
  push(item: T): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(item);
    } else this.items.push(item);
  }
  next(what: string, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
    });
  }
}

interface Relay {
  readonly port: number;
  readonly acks: Queue<string>;
  readonly done: Queue<CallRecord>;
  close(): Promise<void>;
}

async function startRelay(callee: { address: string; port: number }): Promise<Relay> {
  const options: RelayOptions = { address: HOST, port: 0, callee };
  const worker = new Worker(new URL('./fixtures/sip-relay.js', import.meta.url), { workerData: options });
  const acks = new Queue<string>();
  const done = new Queue<CallRecord>();
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: RelayMessage) => {
      if (m.type === 'ready') resolve(m.port);
      else if (m.type === 'ack') acks.push(m.callId);
      else if (m.type === 'done') done.push(m.record);
      else console.error(`# relay: ${m.message}`);
    });
  });
  return {
    port,
    acks,
    done,
    close: async () => {
      worker.postMessage('close');
      await Promise.race([new Promise((r) => worker.once('exit', r)), new Promise((r) => setTimeout(r, 500))]);
      await worker.terminate();
    },
  };
}

// ---- results (module level, so a deadline still prints what was measured) --------------------

const wire = { a: [] as CallRecord[], b: [] as CallRecord[] };
const eventMs: number[] = [];
const registerMs: number[] = [];

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? (s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] as number) : NaN;
};
const span = (rs: readonly CallRecord[], from: 'invite' | 'ok', to: 'ok' | 'ack'): number[] =>
  rs.flatMap((r) => (r[from] !== undefined && r[to] !== undefined ? [(r[to] as number) - (r[from] as number)] : []));

function printTable(): void {
  const rows: Array<[string, number[]]> = [
    ['(a) phone → baresip    INVITE→ACK  (wire)', span(wire.a, 'invite', 'ack')],
    ['      of which         INVITE→200  (callee)', span(wire.a, 'invite', 'ok')],
    ['      of which         200→ACK     (caller)', span(wire.a, 'ok', 'ack')],
    ["(a) phone → baresip    call()→'connected' (in-process)", eventMs],
    ['(b) baresip → baresip  INVITE→ACK  (wire)', span(wire.b, 'invite', 'ack')],
    ['      of which         INVITE→200  (callee)', span(wire.b, 'invite', 'ok')],
    ['      of which         200→ACK     (caller)', span(wire.b, 'ok', 'ack')],
    ["(r) phone REGISTER+digest → kamailio, addProfile→'registered'", registerMs],
  ];
  const w = Math.max(...rows.map(([l]) => l.length));
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-').padStart(8);
  console.log(`${''.padEnd(w)}      n   median      p90      min      max  (ms)`);
  for (const [label, xs] of rows) console.log(`${label.padEnd(w)}  ${String(xs.length).padStart(5)} ${f(pct(xs, 50))} ${f(pct(xs, 90))} ${f(Math.min(...xs))} ${f(Math.max(...xs))}`);
}

// ---- the run ----------------------------------------------------------------------------------

let client: RtcClient | undefined;
let relay: Relay | undefined;
let kam: Kamailio | undefined;

async function main(): Promise<void> {
  const clock = new SystemClock();
  let callee: Baresip;
  let caller: Baresip;
  // baresip also binds TLS on its SIP port + 1, hence base+1 and base+3.
  [kam, callee, caller] = await Promise.all([
    startKamailio({ address: HOST, port: base, users: { alice: 'alice-pw' } }),
    startBaresip({ address: HOST, sipPort: base + 1, consPort: base + 51, rtpPorts: [base + 100, base + 199], account: '<sip:callee@127.0.0.1>;answermode=auto;regint=0;audio_codecs=PCMU,PCMA' }),
    startBaresip({ address: HOST, sipPort: base + 3, consPort: base + 52, rtpPorts: [base + 200, base + 299], toneHz: 600, account: '<sip:caller@127.0.0.1>;regint=0;audio_codecs=PCMU,PCMA' }),
  ]);
  relay = await startRelay({ address: HOST, port: base + 1 });
  const target = `sip:callee@${HOST}:${relay.port}`;
  const c = await RtcClient.start({
    clock, addresses: [HOST], sipPort: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent-bench',
    portManager: new LocalPortManager(() => HOST), localAddress: HOST,
    media: () => ({ localAddress: HOST, portMin: base + 300, portMax: base + 399, codecs: ['PCMU', 'PCMA'], ptimeMs: 20, source: { kind: 'tone', frequencyHz: 1000 } }),
    onLog: (err, ctx) => process.env['DEBUG_RTC'] && console.error(`# ${ctx}: ${err instanceof Error ? err.message : String(err)}`),
    // The daemon's defaults (src/daemon/daemon.ts): session timers asked for, 1800 s.
    calls: () => ({ acceptOnlyFromProxy: true, allowDirectIpCalls: false, callWaiting: true, doNotDisturb: false, sessionExpiresS: 1800 }),
  });
  client = c;
  console.log(`# ${CALLS} calls per case (+${WARMUP} warm-up each, alternating a/b) via relay ${target} → baresip ${HOST}:${base + 1}; ${REGISTRATIONS} registrations`);

  /** Resolves with performance.now() at the session's `state` event; rejects if it ends first. */
  const stateAt = (id: string, state: SessionState): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`call ${id} not ${state} after ${STEP_TIMEOUT_MS} ms`));
      }, STEP_TIMEOUT_MS);
      const off = c.events.on('sessionStateChanged', (e) => {
        if (e.session !== id) return;
        const t = performance.now();
        if (e.state === state || e.state === 'ended') {
          off();
          clearTimeout(timer);
          if (e.state === state) resolve(t);
          else reject(new Error(`call ${id} ended (${e.endReason ?? '?'} ${e.status ?? ''} ${e.reasonPhrase ?? ''}) before ${state}`));
        }
      });
    });

  const callA = async (count: boolean): Promise<void> => {
    const t0 = performance.now();
    const s = c.call(target);
    const t1 = await stateAt(s.id, 'connected');
    const callId = await relay!.acks.next('the ACK of our call at the relay');
    const ended = stateAt(s.id, 'ended');
    s.hangup();
    await ended;
    const rec = await relay!.done.next('the 200 to our BYE at the relay');
    if (rec.callId !== callId) throw new Error(`relay out of step: ${rec.callId} vs ${callId}`);
    if (count) {
      eventMs.push(t1 - t0);
      wire.a.push(rec);
    }
  };

  const callB = async (count: boolean): Promise<void> => {
    await caller.command(`/dial ${target}`);
    const callId = await relay!.acks.next('the ACK of baresip → baresip at the relay').catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; caller said: ${caller.process.output().slice(-1500)}; callee said: ${callee.process.output().slice(-1500)}`);
    });
    await caller.command('/hangup');
    const rec = await relay!.done.next('the 200 to baresip\'s BYE at the relay');
    if (rec.callId !== callId) throw new Error(`relay out of step: ${rec.callId} vs ${callId}`);
    if (count) wire.b.push(rec);
  };

  for (let i = 0; i < WARMUP + CALLS; i++) {
    await callA(i >= WARMUP);
    await callB(i >= WARMUP);
  }

  for (let i = 0; i < REGISTRATIONS; i++) {
    const id = `bench-${i}`;
    const registered = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${id} not registered after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
      const off = c.events.on('registrationStateChanged', (e) => {
        if (e.profile !== id) return;
        const t = performance.now();
        if (e.state === 'registered' || e.state === 'failed') {
          off();
          clearTimeout(timer);
          if (e.state === 'registered') resolve(t);
          else reject(new Error(`${id} failed to register: ${e.reason ?? '?'}`));
        }
      });
    });
    const t0 = performance.now();
    c.addProfile({ id, registrar: 'sip:lab.test', proxy: `sip:${HOST}:${base}`, user: 'alice', password: 'alice-pw', transport: 'udp', expiresS: 600 });
    registerMs.push((await registered) - t0);
    await c.removeProfile(id);
  }
}

async function cleanup(): Promise<void> {
  const bounded = (p: Promise<unknown> | undefined, ms: number): Promise<unknown> => Promise.race([p?.catch(() => {}), new Promise((r) => setTimeout(r, ms))]);
  await bounded(client?.close(), 3000);
  await bounded(relay?.close(), 1000);
  await bounded(kam?.stop(), 4000);
  await bounded(stopAll(), 6000);
}

let code = 0;
let deadline: NodeJS.Timeout | undefined;
try {
  await Promise.race([
    main(),
    new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`overall deadline of ${DEADLINE_MS / 1000} s reached`)), DEADLINE_MS);
    }),
  ]);
} catch (err) {
  code = 1;
  console.error(`call-setup bench: ${err instanceof Error ? err.message : String(err)} (numbers below are partial)`);
} finally {
  clearTimeout(deadline);
  await cleanup();
}
printTable();
process.exit(code);
