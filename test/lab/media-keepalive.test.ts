// RFC 6263 media keep-alives through a real NAT (LAB-NOTES.md): two port-restricted routers with a
// 5 s conntrack UDP timeout, kamailio and baresip (one per phone) on the public side, our RTC client
// in each phone namespace (nat.strategy stun, SIP flow keep-alives every 2 s, so the media interval
// is 2 s too). Each phone calls its baresip, media flows, then baresip holds the call (a=sendonly:
// we answer recvonly and stop our audio, and baresip sends none) for more than three UDP timeouts.
// The router's conntrack entry of our RTP port is read in its namespace (/proc/net/nf_conntrack)
// at the end of the hold: with keep-alives it is still there; in the control (the client's
// mediaKeepalive: false) it is gone. After baresip resumes, RTP and the tones flow both ways
// (our recording's last 2.5 s for baresip's tone; the router's packet counts of the same conntrack
// entry for both directions, since baresip 1.0's sndfile stops recording at the re-INVITE).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { startLabBob, type Baresip } from './lib/baresip.js';
import { assertHeard, baresipRecording, dbfs, decRecordings, heardText, listen, ourRecording, type Recording } from './lib/call-tones.js';
import { startKamailio, type Kamailio } from './lib/kamailio.js';
import { NatLab, LAB_BOB as BOB, LAB_DOMAIN as DOMAIN, LAB_KAMAILIO as KAM } from './lib/nat-lab.js';
import { NatPhone } from './lib/nat-phone.js';
import { nsExec, nsSysctl } from './lib/netns.js';
import { stopAll } from './lib/process.js';

const UDP_TIMEOUT_S = 5;
const KEEPALIVE_S = 2;
const HOLD_MS = 3 * UDP_TIMEOUT_S * 1000 + 1500;
/** One RTP port, so the conntrack entry to look for is known. */
const RTP_PORT = 30000;
/** RTP packets each way before the hold: 2.5 s at 20 ms, enough for baresip's recording to judge. */
const CALL_PACKETS = 125;
/** The tone capture device's peak (SineSource's default): the level our tone is sent at. */
const PHONE_TONE_PEAK = 8000;
/** RTP packets each way after the resume before hanging up: 4 s at 20 ms. */
const RESUMED_PACKETS = 200;
/** The part of each recording judged: after the resume (listen() also leaves out its first 0.5 s and last 0.3 s). */
const TAIL_S = 2.5;

const CELLS = [
  { key: 'keepalive', i: 0, mediaKeepalive: true },
  { key: 'control', i: 1, mediaKeepalive: false },
] as const;
const phoneHz = (i: number): number => 1000 + 100 * i;
const bobHz = (i: number): number => 400 + 50 * i;

const lab = new NatLab(CELLS.map((c) => ({ kind: 'port-restricted-cone' as const, key: c.key, udpTimeoutS: UDP_TIMEOUT_S })), false);
const users = Object.fromEntries(CELLS.flatMap(({ i }) => [[`phone${i}`, `phone${i}-pw`], [`bob${i}`, `bob${i}-pw`]]));
const dataDir = tempDir('dpa-media-keepalive-');
let kam: Kamailio | undefined;
const bobs = new Map<number, Baresip>();
const phones: NatPhone[] = [];
const notes: string[] = [];

before(async () => {
  await lab.build();
  // Packet counts in each conntrack entry, both directions: what crossed the router after the resume.
  for (const { key } of CELLS) await nsSysctl(lab.phone(key).routerNs ?? '', 'net.netfilter.nf_conntrack_acct', 1);
  await lab.addPublicAddress(KAM);
  await lab.addPublicAddress(BOB, true);
  const pub = lab.publicNamespace;
  kam = await startKamailio({ address: KAM, port: 5060, domain: DOMAIN, users, netns: pub });
  await Promise.all(CELLS.map(async ({ i }) => {
    bobs.set(i, await startLabBob({ i, address: BOB, kam: KAM, domain: DOMAIN, netns: pub, toneHz: bobHz(i) }));
  }));
}, { timeout: 30_000 });

after(async () => {
  console.log(notes.map((n) => `# ${n}`).join('\n'));
  await Promise.allSettled(phones.map((p) => p.stop()));
  await Promise.allSettled([...bobs.values()].map((b) => b.stop()));
  for (const b of bobs.values()) rmSync(b.dir, { recursive: true, force: true });
  await kam?.stop();
  await stopAll();
  await lab.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

type Counters = { sent: number; received: number };

async function counters(phone: NatPhone, session: string): Promise<Counters> {
  return phone.call<Counters>('session', { session });
}

/** Polls until both counters reach their minimum or the time is up. */
async function rtpAfter(phone: NatPhone, session: string, min: Counters, timeoutMs: number): Promise<Counters> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await counters(phone, session);
    if ((s.received >= min.received && s.sent >= min.sent) || Date.now() > until) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The router's conntrack entry for our RTP port towards baresip's RTP port, or undefined (our
 * RTCP goes from the same port to baresip's RTCP port: another entry, which keeps no RTP pinhole).
 */
async function rtpConntrack(routerNs: string, lanAddress: string, bobRtpPort: number): Promise<string | undefined> {
  const r = await nsExec(routerNs, 'cat', ['/proc/net/nf_conntrack']);
  return r.stdout.split('\n').find((l) => / udp /.test(l) && l.includes(`src=${lanAddress} dst=${BOB} sport=${RTP_PORT} dport=${bobRtpPort} `));
}

/** baresip's RTP port from the call's negotiated SDP. */
async function remoteRtpPort(phone: NatPhone, session: string): Promise<number> {
  const { remote } = await phone.call<{ remote: string | null }>('session', { session });
  const port = Number(remote?.split(':').at(-1));
  assert.ok(Number.isInteger(port) && port > 0, `the call has a remote RTP port: ${remote}`);
  return port;
}

/** The entry's packet counts: ours out (original direction) and baresip's in (reply). */
function packetCounts(entry: string | undefined): { out: number; in: number } {
  const counts = [...(entry ?? '').matchAll(/packets=(\d+)/g)].map((m) => Number(m[1]));
  return { out: counts[0] ?? 0, in: counts[1] ?? 0 };
}

const tail = (rec: Recording): Recording => ({ samples: rec.samples.subarray(Math.max(0, rec.samples.length - Math.round(TAIL_S * rec.rateHz))), rateHz: rec.rateHz });

describe('RFC 6263 media keep-alives keep a held call\'s RTP binding through a port-restricted NAT', { concurrency: true }, () => {
  for (const { key, i, mediaKeepalive } of CELLS) {
    const what = mediaKeepalive
      ? `with keep-alives the RTP binding outlives a ${HOLD_MS / 1000} s hold (UDP timeout ${UDP_TIMEOUT_S} s) and media flows both ways after resume`
      : `control: without media keep-alives the RTP binding is gone after a ${HOLD_MS / 1000} s hold`;
    test(what, { timeout: 50_000 }, async () => {
      const net = lab.phone(key);
      const bob = bobs.get(i);
      assert.ok(bob && net.routerNs, 'baresip and the router are up');
      const phone = new NatPhone(net.ns);
      phones.push(phone);
      await phone.call('start', {
        localAddress: net.addresses[0], sipPort: 5060, strategy: 'stun', stunAddress: lab.stun.primary.address, stunPort: lab.stun.primary.port,
        keepaliveIntervalS: KEEPALIVE_S, earlyUdp: false, toneHz: phoneHz(i), rtpPortMin: RTP_PORT, rtpPortMax: RTP_PORT, mediaKeepalive,
      });
      await phone.call('register', { profile: 'main', registrar: `sip:${DOMAIN}`, proxy: `sip:${KAM}:5060`, user: `phone${i}`, password: `phone${i}-pw` });
      await phone.waitEvent('registrationStateChanged', (e) => e.state === 'registered', 10_000);

      const heard = join(dataDir, `${key}-heard.wav`);
      await phone.call('set', { playbackFile: heard });
      const known = decRecordings(bob);
      const { session } = await phone.call<{ session: string }>('call', { target: `bob${i}` });
      await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'connected', 8000);
      const talking = await rtpAfter(phone, session, { sent: CALL_PACKETS, received: CALL_PACKETS }, 6000);
      assert.ok(talking.received >= CALL_PACKETS && talking.sent >= CALL_PACKETS, `media flows before the hold: ${JSON.stringify(talking)}`);
      const bobRtp = await remoteRtpPort(phone, session);
      const beforeHold = await rtpConntrack(net.routerNs, net.addresses[0], bobRtp);
      assert.ok(beforeHold, 'the router has an entry for our RTP port while media flows');

      await bob.command('/hold');
      await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'held', 8000);
      const atHold = await counters(phone, session);
      await new Promise((r) => setTimeout(r, HOLD_MS)); // the subject: a hold in which no audio flows either way
      const atEnd = await counters(phone, session);
      const entry = await rtpConntrack(net.routerNs, net.addresses[0], bobRtp);
      const sentInHold = atEnd.sent - atHold.sent;
      const receivedInHold = atEnd.received - atHold.received;
      notes.push(`${key}: in ${HOLD_MS / 1000} s of hold we sent ${sentInHold} packets and received ${receivedInHold}; conntrack entry of RTP ${RTP_PORT} at its end: ${entry ? entry.trim().replace(/\s+/g, ' ').slice(0, 160) : 'gone'}`);
      assert.ok(receivedInHold <= 2, `baresip sends no audio while it holds the call (${receivedInHold} packets came)`);

      if (!mediaKeepalive) {
        assert.equal(sentInHold, 0, 'nothing of ours went out on the RTP port during the hold');
        assert.equal(entry, undefined, 'the router dropped the idle RTP binding');
        await bob.command('/hangup');
        await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'ended', 5000);
        return;
      }
      // One keep-alive per 2 s interval; a few more or less depending on where the intervals fall.
      assert.ok(sentInHold >= HOLD_MS / (KEEPALIVE_S * 1000) - 2 && sentInHold <= HOLD_MS / (KEEPALIVE_S * 1000) + 2, `keep-alives every ${KEEPALIVE_S} s during the hold (${sentInHold} sent)`);
      assert.ok(entry, 'the router still has the RTP binding after more than three UDP timeouts of hold');
      // The same entry, not a new one: its count of our packets went on from before the hold.
      assert.ok(packetCounts(entry).out >= packetCounts(beforeHold).out + sentInHold, `one entry through the hold (${JSON.stringify({ before: packetCounts(beforeHold), after: packetCounts(entry) })})`);

      await bob.command('/resume');
      await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'connected' && Number(e.received) >= atEnd.received, 8000);
      const resumed = await counters(phone, session);
      const afterResume = await rtpAfter(phone, session, { sent: resumed.sent + RESUMED_PACKETS, received: resumed.received + RESUMED_PACKETS }, 8000);
      const crossed = packetCounts(await rtpConntrack(net.routerNs, net.addresses[0], bobRtp));
      const atResume = packetCounts(entry);
      await bob.command('/hangup');
      await phone.waitEvent('sessionStateChanged', (e) => e.session === session && e.state === 'ended', 5000);
      const bobRec = await baresipRecording(bob, known);
      const bobPeak = listen(bobRec.sent, bobHz(i), phoneHz(i)).amplitude;
      const we = listen(tail(await ourRecording(heard)), bobHz(i), phoneHz(i));
      const they = listen(bobRec.heard, phoneHz(i), bobHz(i));
      notes.push(`${key}: after resume RTP sent/received ${afterResume.sent - resumed.sent}/${afterResume.received - resumed.received}, through the router's same entry out/in ${crossed.out - atResume.out}/${crossed.in - atResume.in}; we heard ${bobHz(i)} Hz ${heardText(we, bobPeak)} dBFS in the last ${TAIL_S} s; baresip heard ${phoneHz(i)} Hz ${heardText(they, PHONE_TONE_PEAK)} dBFS before the hold (its recording stops there)`);
      assert.ok(afterResume.received - resumed.received >= RESUMED_PACKETS, `RTP from baresip after resume (${JSON.stringify(afterResume)})`);
      assert.ok(afterResume.sent - resumed.sent >= RESUMED_PACKETS, `our RTP after resume (${JSON.stringify(afterResume)})`);
      assert.ok(dbfs(bobPeak) > -20, `baresip sent its tone (${dbfs(bobPeak).toFixed(1)} dBFS)`);
      assertHeard('we heard baresip after resume', we, bobPeak);
      // baresip 1.0's sndfile records nothing after a re-INVITE, so what reached it after the resume
      // is counted at the router, in the entry that the keep-alives kept: our packets out, its in.
      assert.ok(crossed.out - atResume.out >= RESUMED_PACKETS && crossed.in - atResume.in >= RESUMED_PACKETS, `RTP crossed the router both ways after the resume in the kept entry (${JSON.stringify({ atResume, crossed })})`);
      assertHeard('baresip heard us before the hold', they, PHONE_TONE_PEAK);
    });
  }
});
