// A private coturn (never the packaged service) as STUN server for a test: generated config in a
// temp dir (user db, pid file), no TLS/DTLS, no CLI, log on stdout; two listening IPs and an
// alternate port so it speaks RFC 5780 (LAB-NOTES.md). useCoturn() stops it, removing its dir, in
// an after() hook whatever the tests did; a start that fails cleans up at once.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { decodeStunMessage, encodeStunMessage, isStun, newTransactionId } from '../../../src/nat/stun/index.js';
import { startProcess, waitFor, type LabProcess } from './process.js';

export interface CoturnOptions {
  /** Primary and alternate listening IPs (RFC 5780 needs both). Default 127.0.0.1 and 127.0.0.2. */
  readonly addresses?: readonly [string, string];
  /** Primary port; the alternate is port + 1. Default: a free pair. */
  readonly port?: number;
  /** Long-term credential users (TURN); without any, coturn runs as a STUN-only server. */
  readonly users?: Readonly<Record<string, string>>;
  readonly realm?: string;
  /** Extra config lines, one setting per entry. */
  readonly extraConfig?: readonly string[];
}

export interface Coturn {
  readonly process: LabProcess;
  readonly primary: { readonly address: string; readonly port: number };
  /** The other IP with the alternate port: what OTHER-ADDRESS names for the primary. */
  readonly alternate: { readonly address: string; readonly port: number };
  readonly dir: string;
  stop(): Promise<void>;
}

/** Sends one Binding request and resolves true when a STUN success response comes back. */
export function stunPing(address: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const transactionId = newTransactionId();
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (bytes) => {
      if (!isStun(bytes)) return;
      try {
        const m = decodeStunMessage(bytes);
        if (m.class === 'success' && Buffer.from(m.transactionId).equals(Buffer.from(transactionId))) done(true);
      } catch {
        // Not a usable answer: keep waiting until the timeout.
      }
    });
    sock.send(encodeStunMessage({ method: 1, class: 'request', transactionId, attributes: [] }), port, address);
  });
}

function udpPortFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => resolve(false));
    s.bind(port, address, () => s.close(() => resolve(true)));
  });
}

/** A port p with p and p + 1 free on every address. */
async function freePortPair(addresses: readonly string[]): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 10000);
    const checks = await Promise.all(addresses.flatMap((a) => [udpPortFree(a, p), udpPortFree(a, p + 1)]));
    if (checks.every(Boolean)) return p;
  }
  throw new Error(`no free UDP port pair on ${addresses.join(', ')}`);
}

export async function startCoturn(o: CoturnOptions = {}): Promise<Coturn> {
  const [primaryIp, alternateIp] = o.addresses ?? ['127.0.0.1', '127.0.0.2'];
  const port = o.port ?? (await freePortPair([primaryIp, alternateIp]));
  const dir = mkdtempSync(join(tmpdir(), 'dpa-coturn-'));
  const users = Object.entries(o.users ?? {});
  for (const [u, p] of users) if (!/^[A-Za-z0-9._-]+$/.test(u) || /[\s:"\\]/.test(p)) throw new Error(`unsafe lab user ${u}`);
  const config = [
    `listening-ip=${primaryIp}`,
    `listening-ip=${alternateIp}`,
    `listening-port=${port}`,
    `alt-listening-port=${port + 1}`,
    'no-tls',
    'no-dtls',
    'no-tcp',
    'no-cli',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
    ...(users.length === 0
      ? ['stun-only']
      : ['lt-cred-mech', `realm=${o.realm ?? 'lab.test'}`, ...users.map(([u, p]) => `user=${u}:${p}`)]),
    ...(o.extraConfig ?? []),
  ];
  const configPath = join(dir, 'turnserver.conf');
  writeFileSync(configPath, `${config.join('\n')}\n`);
  const proc = startProcess('turnserver', 'turnserver', ['-c', configPath], { cwd: dir });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('coturn to answer a Binding request', async () => {
      if (proc.child.exitCode !== null) throw new Error(`turnserver exited ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
      return stunPing(primaryIp, port);
    }, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    process: proc,
    primary: { address: primaryIp, port },
    alternate: { address: alternateIp, port: port + 1 },
    dir,
    stop,
  };
}

/**
 * Returns a function that starts coturn on its first call (later calls share it) and registers the
 * after() that stops it. Call useCoturn at the top of a test file or in a describe, not inside a
 * hook: Node 20 runs an after() registered inside a before() as soon as that before() ends.
 */
export function useCoturn(o: CoturnOptions = {}): () => Promise<Coturn> {
  let starting: Promise<Coturn> | undefined;
  after(async () => {
    const coturn = await starting?.catch(() => undefined);
    await coturn?.stop();
  });
  return () => (starting ??= startCoturn(o));
}
