// A private baresip (Debian package, 1.0.0) as the far-end phone: a 1 kHz sine as its microphone
// (ausine, which only runs at 48 kHz stereo: LAB-NOTES.md), the sndfile filter recording what it
// sends and receives as WAV, and the cons module taking commands (/dial, /hangup, /accept) over UDP.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsExec } from './netns.js';
import { startProcess, waitFor, type LabProcess } from './process.js';

export interface BaresipOptions {
  readonly address: string;
  readonly sipPort: number;
  readonly consPort: number;
  readonly rtpPorts: readonly [number, number];
  /** The account line, for example `<sip:bob@lab.test>;outbound="sip:127.0.0.1:5060";auth_pass=x`. */
  readonly account: string;
  readonly toneHz?: number;
  readonly netns?: string;
  /** More config lines, for example `rtcp_mux yes`. */
  readonly extraConfig?: readonly string[];
  /**
   * The audio codec modules to load from Debian's package (/usr/lib/baresip/modules has g711,
   * g722, opus and more); default g711 alone. Which of them a call may use is the account's
   * `audio_codecs` parameter.
   */
  readonly codecModules?: readonly BaresipCodecModule[];
}

export type BaresipCodecModule = 'g711' | 'g722' | 'opus';

export interface Baresip {
  readonly process: LabProcess;
  readonly dir: string;
  command(cmd: string): Promise<void>;
  /** Waits until baresip's log shows `text`. */
  waitForLog(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** The decoded audio baresip received (sndfile's *-dec.wav), as 16-bit samples and their rate. */
  receivedAudio(): { samples: Int16Array; rateHz: number } | undefined;
  stop(): Promise<void>;
}

export async function startBaresip(o: BaresipOptions): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-baresip-'));
  const config = [
    'poll_method epoll',
    `sip_listen ${o.address}:${o.sipPort}`,
    `net_interface ${o.address}`,
    'audio_player null,null',
    `audio_source ausine,${o.toneHz ?? 1000}`,
    'audio_alert null,null',
    'ausrc_srate 48000',
    'ausrc_channels 2',
    'module_path /usr/lib/baresip/modules',
    ...(o.codecModules ?? ['g711']).map((m) => `module ${m}.so`),
    'module ausine.so',
    'module cons.so',
    'module menu.so',
    'module sndfile.so',
    'module account.so',
    `snd_path ${dir}`,
    `cons_listen ${o.address}:${o.consPort}`,
    `rtp_ports ${o.rtpPorts[0]}-${o.rtpPorts[1]}`,
    ...(o.extraConfig ?? []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(join(dir, 'accounts'), `${o.account}\n`);
  const args = ['-f', dir];
  const proc = o.netns ? startProcess('baresip', 'ip', ['netns', 'exec', o.netns, 'baresip', ...args]) : startProcess('baresip', 'baresip', args);
  const b: Baresip = {
    process: proc,
    dir,
    command: async (cmd) => {
      // In a namespace the cons port is only reachable from inside it.
      if (o.netns) {
        await nsExec(o.netns, 'bash', ['-c', 'printf "%s\\n" "$1" > "/dev/udp/$2/$3"', 'cons', cmd, o.address, String(o.consPort)]);
        return;
      }
      return new Promise<void>((resolve, reject) => {
        const sock = createSocket('udp4');
        sock.send(`${cmd}\n`, o.consPort, o.address, (err) => {
          sock.close();
          if (err) reject(err);
          else resolve();
        });
      });
    },
    waitForLog: (text, timeoutMs = 10_000) =>
      waitFor(`baresip to log ${String(text)}`, () => {
        if (proc.child.exitCode !== null) throw new Error(`baresip exited: ${proc.output().slice(-2000)}`);
        return typeof text === 'string' ? proc.output().includes(text) : text.test(proc.output());
      }, timeoutMs),
    receivedAudio: () => {
      const f = readdirSync(dir).find((n) => n.endsWith('-dec.wav'));
      return f ? readWav(readFileSync(join(dir, f))) : undefined;
    },
    stop: () => proc.stop(),
  };
  try {
    await b.waitForLog('baresip is ready.');
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return b;
}

/** A minimal RIFF/WAVE reader for 16-bit PCM (what sndfile writes). */
export function readWav(buf: Buffer): { samples: Int16Array; rateHz: number } | undefined {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let at = 12;
  let rateHz = 0;
  let channels = 1;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      rateHz = buf.readUInt32LE(body + 4);
    } else if (id === 'data') {
      const end = Math.min(buf.length, body + (size === 0 || size === 0xffffffff ? buf.length : size));
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(body + i * 2 * channels);
      return { samples, rateHz };
    }
    at = body + size + (size % 2);
  }
  return undefined;
}

/**
 * Far end `bob<i>` of the NAT lab: baresip on the public side, registered through kamailio at
 * `kam`:5060 (password `bob<i>-pw`), auto-answering with PCMU and sending `toneHz`; its SIP,
 * console and RTP ports are spread by `i` so cells run side by side. Resolves once registered.
 */
export async function startLabBob(o: { i: number; address: string; kam: string; domain: string; netns: string; toneHz?: number }): Promise<Baresip> {
  const { i } = o;
  const b = await startBaresip({
    address: o.address, sipPort: 5100 + 2 * i, consPort: 5200 + i, rtpPorts: [21000 + i * 100, 21099 + i * 100], netns: o.netns,
    ...(o.toneHz !== undefined ? { toneHz: o.toneHz } : {}),
    account: `<sip:bob${i}@${o.domain}>;outbound="sip:${o.kam}:5060";auth_pass=bob${i}-pw;answermode=auto;audio_codecs=PCMU;regint=600`,
  });
  await b.waitForLog(/200 OK|registered successfully/i);
  return b;
}
