// Runs the UDP impairment relay fixture (fixtures/udp-impairment-relay.ts) inside a namespace and
// talks to it over its stdin/stdout JSON lines. `ip netns exec` execs node, so the child's PID is
// the relay's own; stop() closes stdin (the relay prints its final statistics and exits) and
// only signals that PID if it does not.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../helpers/paths.js';
import type { ImpairmentSpec } from './impairment-model.js';
import type { RelayAddress, UdpImpairmentRelayStats } from './udp-impairment-relay.js';
import { isAlive } from './process.js';

const FIXTURE = join(REPO_ROOT, 'dist', 'test', 'lab', 'fixtures', 'udp-impairment-relay.js');

export interface RelayProcessConfig {
  readonly listen: RelayAddress;
  readonly target: RelayAddress;
  readonly impairment: ImpairmentSpec;
  readonly maxQueued?: number;
  /** 'rtp': only RTP is impaired, RTCP passes at once. */
  readonly impair?: 'all' | 'rtp';
  /** The relay stops by itself after this long; default 120 s. */
  readonly lifetimeMs?: number;
  /** Forward this many consecutive ports (listen.port + i to target.port + i); default 1. */
  readonly portCount?: number;
}

type Line = { event: string } & Record<string, unknown>;

export class RelayProcess {
  private readonly lines: Line[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  /** The child exited and its output has been read to the end. */
  private ended = false;
  address: RelayAddress = { address: '', port: 0 };

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.stdin?.on('error', () => {});
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as Line);
      } catch {
        this.stderr = `${this.stderr}${text}\n`.slice(-4000);
        return;
      }
      for (const w of [...this.waiters]) w();
    });
    child.on('close', () => {
      this.ended = true;
      for (const w of [...this.waiters]) w();
    });
  }

  /** Starts the relay in `ns` and waits until it listens. */
  static async start(ns: string, config: RelayProcessConfig, timeoutMs = 10_000): Promise<RelayProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, FIXTURE], { stdio: ['pipe', 'pipe', 'pipe'] });
    const relay = new RelayProcess(child);
    child.stdin?.write(`${JSON.stringify(config)}\n`);
    try {
      const line = await relay.next('listening', 0, timeoutMs);
      relay.address = line.address as RelayAddress;
    } catch (err) {
      await relay.stop();
      throw err;
    }
    return relay;
  }

  /** The relay's statistics now (summed over its ports). */
  async stats(timeoutMs = 5000): Promise<UdpImpairmentRelayStats> {
    const from = this.lines.length;
    this.child.stdin?.write('stats\n');
    return (await this.next('stats', from, timeoutMs)).stats as UdpImpairmentRelayStats;
  }

  /** Stops the relay; its final statistics (summed over its ports), or undefined if it had exited already. */
  async stop(timeoutMs = 3000): Promise<UdpImpairmentRelayStats | undefined> {
    const pid = this.child.pid;
    const running = (): boolean => pid !== undefined && !this.ended && isAlive(pid);
    if (running()) {
      this.child.stdin?.end();
      await this.next('closed', 0, timeoutMs).catch(() => undefined);
      if (running()) this.child.kill('SIGKILL');
    }
    return this.lines.find((l) => l.event === 'closed')?.stats as UdpImpairmentRelayStats | undefined;
  }

  /** After stop(): each forwarded port's final statistics. */
  get finalPortStats(): readonly UdpImpairmentRelayStats[] {
    return (this.lines.find((l) => l.event === 'closed')?.ports as UdpImpairmentRelayStats[] | undefined) ?? [];
  }

  /** The first line of `event` at or after index `from`; fails on an error line, exit or timeout. */
  private next(event: string, from: number, timeoutMs: number): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.slice(from).find((l) => l.event === event || l.event === 'error');
        if (!found && !this.ended) return;
        done();
        if (found?.event === event) resolve(found);
        else reject(new Error(`relay: ${found ? String(found.message) : `exited before "${event}"`}; stderr: ${this.stderr}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`relay: no "${event}" within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}
