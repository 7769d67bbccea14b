// Issue 6: through an impaired network (30 ms jitter, 2 % loss, reordering) the far end's tone
// still reaches our speaker, with the losses concealed and counted.
//
// This kernel has no sch_netem (LAB-NOTES.md "Impairment"), so the impairment is our seeded UDP
// relay (lib/udp-impairment-relay.ts, the same model and "30 ms jitter" as the jitter buffer
// bench). Everything runs in one namespace the test creates, on that namespace's loopback, so
// nothing leaves it and fixed ports collide with no one:
//
//   baresip (ausine 600 Hz) ──RTP──▶ relay 127.0.0.1:3000x ──[loss, jitter, reorder]──▶ our phone 127.0.0.1:2000x
//           ▲                                │ ◀── our RTP and RTCP, back at once ─────────┘
//           └────────────────────────────────┘
//
// The relay is put in the path the way a router's port forward would be: our phone (fixtures/
// impaired-call-phone.ts, a process in the namespace) runs with nat.strategy static,
// nat.staticPublicAddress 127.0.0.1 and nat.staticRtpPortMin 30000 over rtp.portMin 20000
// (rtp.portMax 20003, the smallest range the registry takes), so its SDP advertises the port
// 30000 + (our RTP port − 20000) and baresip sends its RTP there. The relay forwards that whole
// range, 30000+i to 20000+i, to our real RTP socket, from its own address and port. Our symmetric RTP latches onto that source
// (RFC 4961), so our own RTP goes back through the relay, unimpaired, to baresip. Only RTP
// toward us is impaired; RTCP passes at once. SIP goes straight between the two.
//
// Our phone records what it plays (the file audio backend); Goertzel finds baresip's 600 Hz in
// it. The jitter buffer's statistics (AudioPipelineStats.receive.jitterBuffer: lost, late,
// concealed, current delay) must show the losses the relay made, and are printed as a `# ` line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { decodeWav, goertzelAmplitude, type AudioPipelineStats, type CallQuality } from '../../src/media/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { startBaresip, type Baresip } from './lib/baresip.js';
import { ImpairmentModel, JITTER_30MS_LOSS_2PCT, type ImpairmentSpec } from './lib/impairment-model.js';
import { NamespaceGroup } from './lib/netns.js';
import { stopAll } from './lib/process.js';
import { RelayProcess } from './lib/relay-process.js';
import type { UdpImpairmentRelayStats } from './lib/udp-impairment-relay.js';
import type { PhoneConfig } from './fixtures/impaired-call-phone.js';

const HOST = '127.0.0.1';
const FAR_HZ = 600;
const OUR_HZ = 1000;
const PHONE_RTP_PORT = 20000;
/** The smallest range the registry takes (an RTP/RTCP pair and a spare); the relay forwards all of it. */
const PHONE_RTP_PORTS = 4;
const RELAY_PORT = 30000;
const BARESIP_SIP_PORT = 5070;
/** 12 s of 20 ms packets: about 12 losses at 2 %. */
const CALL_PACKETS = 600;
const SPEC: ImpairmentSpec = { ...JITTER_30MS_LOSS_2PCT, seed: 0x1ea5e6 };
const PHONE_FIXTURE = join(REPO_ROOT, 'dist', 'test', 'lab', 'fixtures', 'impaired-call-phone.js');

const group = new NamespaceGroup();
const dir = mkdtempSync(join(tmpdir(), 'dpa-impair-'));
let ns = '';
let bob: Baresip | undefined;
let relay: RelayProcess | undefined;

before(async () => {
  ns = await group.create('dpa-imp');
  bob = await startBaresip({
    address: HOST, sipPort: BARESIP_SIP_PORT, consPort: BARESIP_SIP_PORT + 1, rtpPorts: [21000, 21099], toneHz: FAR_HZ, netns: ns,
    extraConfig: ['rtcp_mux yes'], account: `<sip:bob@${HOST}>;regint=0;answermode=auto;audio_codecs=PCMU`,
  });
  relay = await RelayProcess.start(ns, {
    listen: { address: HOST, port: RELAY_PORT }, target: { address: HOST, port: PHONE_RTP_PORT }, impairment: SPEC, impair: 'rtp', lifetimeMs: 90_000,
    portCount: PHONE_RTP_PORTS,
  });
});

after(async () => {
  await relay?.stop();
  await stopAll();
  await group.cleanup();
  if (bob) rmSync(bob.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

type PhoneLine = { event: string } & Record<string, unknown>;

/** Runs the phone fixture in the namespace until it reports its result (or fails); bounded by its own timeout. */
function runPhone(config: PhoneConfig): Promise<PhoneLine[]> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PHONE_FIXTURE], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: PhoneLine[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as PhoneLine);
    } catch {
      stderr = `${stderr}${l}\n`.slice(-4000);
    }
  });
  child.stdin.end(`${JSON.stringify(config)}\n`);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const error = lines.find((l) => l.event === 'error');
      if (code === 0 && lines.some((l) => l.event === 'result')) resolve(lines);
      else reject(new Error(`the phone fixture failed (exit ${code}): ${error ? String(error.message) : ''}; lines: ${JSON.stringify(lines).slice(-2000)}; stderr: ${stderr}`));
    });
  });
}

/**
 * The amplitude at `hz` of each 10 ms window: half a frame, so a 20 ms frame played as silence
 * covers at least one window whole, wherever the frames fall (the concealer delays the audio).
 */
function windows(samples: Int16Array, rateHz: number, hz: number): number[] {
  const size = rateHz / 100;
  const out: number[] = [];
  for (let at = 0; at + size <= samples.length; at += size) out.push(goertzelAmplitude(samples.subarray(at, at + size), hz, rateHz));
  return out;
}

test('baresip\'s tone reaches our speaker through 30 ms jitter, 2 % loss and reordering, the losses concealed and counted', async () => {
  const playbackPath = join(dir, 'heard.wav');
  const started = performance.now();
  const lines = await runPhone({
    dataDir: join(dir, 'phone-data'), localAddress: HOST, rtpPortMin: PHONE_RTP_PORT, rtpPortMax: PHONE_RTP_PORT + PHONE_RTP_PORTS - 1,
    staticPublicAddress: HOST, staticRtpPortMin: RELAY_PORT, captureToneHz: OUR_HZ, playbackPath,
    target: `sip:bob@${HOST}:${BARESIP_SIP_PORT}`, packets: CALL_PACKETS, timeoutMs: 40_000,
  });
  const callMs = performance.now() - started;
  const relayStats = (await relay?.stop()) as UdpImpairmentRelayStats;
  const finalPorts = relay?.finalPortStats ?? [];
  relay = undefined;
  assert.ok(relayStats, 'the relay reported its statistics');

  const connected = lines.find((l) => l.event === 'connected') as PhoneLine & { advertised: { address: string; port: number; via: string } };
  const advertised = connected.advertised;
  assert.equal(advertised.via, 'static');
  assert.equal(advertised.address, HOST);
  assert.ok(advertised.port >= RELAY_PORT && advertised.port < RELAY_PORT + PHONE_RTP_PORTS, `our SDP advertises a relay port (the static forward): ${advertised.port}`);
  const result = lines.find((l) => l.event === 'result') as PhoneLine & { stats: AudioPipelineStats; quality: CallQuality };
  const jb = result.stats.receive.jitterBuffer;

  // What the relay did to the RTP toward us.
  const lossPct = (100 * relayStats.dropped) / relayStats.impaired;
  console.log(
    `# relay (seed 0x${SPEC.seed.toString(16)}; replay in the bench: jitter-buffer.bench.js ${SPEC.seed}): ${relayStats.impaired} RTP packets, dropped ${relayStats.dropped} (${lossPct.toFixed(2)} %), reordered ${relayStats.reordered}, ` +
      `delay mean ${relayStats.meanDelayMs.toFixed(1)} ms max ${relayStats.maxDelayMs.toFixed(1)} ms, RTCP passed ${relayStats.passed}, back to baresip ${relayStats.returned}`,
  );
  console.log(
    `# jitter buffer: received ${jb.received}, lost ${jb.lost}, late ${jb.late}, concealed ${jb.concealed} (inserted ${jb.inserted}), dropped ${jb.dropped}, ` +
      `duplicates ${jb.duplicates}, discarded ${jb.discarded}, current delay ${jb.currentDelayMs.toFixed(1)} ms, target ${jb.targetDelayMs.toFixed(1)} ms, jitter ${jb.jitterMs.toFixed(1)} ms; ` +
      `RTP lost ${result.stats.lost}, RFC 3550 jitter ${result.stats.jitterMs.toFixed(1)} ms, MOS ${result.quality.mos.toFixed(2)}; call ${(callMs / 1000).toFixed(1)} s`,
  );
  assert.equal(relayStats.overflow, 0, 'the relay\'s queue never overflowed');
  assert.ok(relayStats.impaired >= CALL_PACKETS, `baresip's RTP went through the relay (${relayStats.impaired} packets)`);
  assert.ok(relayStats.returned > 0, 'our RTP latched onto the relay and went back through it');
  assert.ok(relayStats.reordered > 0, 'the relay reordered packets');
  // The relay's losses are the seeded model's: replaying it over as many packets gives the same
  // count. Each forwarded port has its own model from the seed; only the one our call used carries RTP.
  const busy = finalPorts.filter((p) => p.impaired > 0);
  assert.equal(busy.length, 1, `one forwarded port carried the RTP: ${JSON.stringify(finalPorts.map((p) => p.impaired))}`);
  const replay = new ImpairmentModel(SPEC);
  let replayDrops = 0;
  for (let i = 0; i < relayStats.impaired; i++) if (replay.next().kind === 'drop') replayDrops++;
  assert.equal(relayStats.dropped, replayDrops);
  assert.ok(lossPct > 0.5 && lossPct < 4, `about 2 % lost in the relay: ${lossPct.toFixed(2)} %`);

  // Our jitter buffer saw those losses and concealed them.
  assert.ok(jb.lost > 0, 'the jitter buffer counted lost frames');
  assert.ok(jb.concealed >= jb.lost, `every lost frame was concealed (${jb.concealed} concealed, ${jb.lost} lost)`);
  // A dropped packet is lost to the buffer; the 4 packets the latch holds back while it switches
  // to the relay, and a few just before the hang-up, are the only other differences.
  assert.ok(Math.abs(jb.lost - relayStats.dropped) <= 3 + relayStats.dropped / 4, `lost ${jb.lost} ≈ the relay's ${relayStats.dropped} drops`);
  // Late packets depend on the real timing and are few at k = 3 (the bench: about 0.4 %): counted, bounded, not required.
  assert.ok(jb.late <= CALL_PACKETS / 20, `late packets stay rare: ${jb.late}`);
  assert.ok(jb.jitterMs > 15 && jb.jitterMs < 60, `the buffer measured the jitter: ${jb.jitterMs.toFixed(1)} ms`);

  // The tone arrived: 600 Hz, strong, dominating our own 1 kHz, and present in almost every 20 ms.
  const wav = decodeWav(readFileSync(playbackPath));
  const rate = wav.sampleRateHz;
  const steady = wav.samples.subarray(rate, wav.samples.length - rate / 10);
  assert.ok(steady.length >= 5 * rate, `at least 5 s of steady audio, got ${(steady.length / rate).toFixed(2)} s`);
  const far = goertzelAmplitude(steady, FAR_HZ, rate);
  const ours = goertzelAmplitude(steady, OUR_HZ, rate);
  const per = windows(steady, rate, FAR_HZ);
  const median = [...per].sort((a, b) => a - b)[Math.floor(per.length / 2)] as number;
  const weak = per.filter((a) => a < median / 2).length;
  console.log(
    `# heard: ${FAR_HZ} Hz amplitude ${far.toFixed(0)}, ${OUR_HZ} Hz ${ours.toFixed(0)}; 10 ms windows below half the median (${median.toFixed(0)}): ${weak} of ${per.length}; ` +
      `${(wav.samples.length / rate).toFixed(2)} s at ${rate} Hz`,
  );
  assert.ok(far > 2000, `the ${FAR_HZ} Hz tone is there (amplitude ${far.toFixed(0)})`);
  assert.ok(far > 20 * ours, `${FAR_HZ} Hz ${far.toFixed(0)} dominates ${OUR_HZ} Hz ${ours.toFixed(0)}`);
  // Without concealment each lost frame would leave at least one silent window. A few windows
  // also weaken where a frame is inserted or dropped to adapt the delay (a phase jump).
  assert.ok(weak < jb.lost, `concealment filled the gaps: ${weak} of ${per.length} windows weak, fewer than the ${jb.lost} lost frames`);
});
