// Drives what runs inside a lab phone namespace: the RTC client fixture (fixtures/nat-phone.ts,
// JSON lines over stdin/stdout) and the whole daemon (`deskphone-agent run`, JSON logs on stdout,
// its HTTP API reached with curl from inside the namespace). Both are started with
// `ip netns exec`, which execs node, so the PID held is node's own; stop() ends that PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, REPO_ROOT } from '../../helpers/paths.js';
import { nsExec } from './netns.js';
import { isAlive } from './process.js';

export type Json = Record<string, unknown>;

const FIXTURE = join(REPO_ROOT, 'dist', 'test', 'lab', 'fixtures', 'nat-phone.js');

/** Lines of a child's stdout as JSON; waiters for matching lines, failing clearly on timeout. */
class JsonLines {
  readonly lines: Json[] = [];
  private readonly waiters = new Set<() => void>();
  stderr = '';

  constructor(readonly child: ChildProcess, onLine: (msg: Json) => boolean) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-5000)));
    createInterface({ input: child.stdout ?? process.stdin }).on('line', (line) => {
      let msg: Json;
      try {
        msg = JSON.parse(line) as Json;
      } catch {
        this.stderr = `${this.stderr}${line}\n`.slice(-5000);
        return;
      }
      if (onLine(msg)) return;
      this.lines.push(msg);
      for (const w of [...this.waiters]) w();
    });
  }

  wait(what: string, pred: (e: Json) => boolean, timeoutMs: number): Promise<Json> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const e = this.lines.find(pred);
        if (!e) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines: ${JSON.stringify(this.lines.slice(-8))}; stderr: ${this.stderr.slice(-1500)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null || !isAlive(pid)) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]))) this.child.kill('SIGKILL');
  }
}

/** The RTC client fixture in a namespace. */
export class NatPhone {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly io: JsonLines;

  constructor(readonly ns: string) {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, FIXTURE], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.io = new JsonLines(child, (msg) => {
      if (typeof msg.event === 'string') return false;
      const w = this.waiting.get(msg.id as number);
      this.waiting.delete(msg.id as number);
      if (msg.error !== undefined) w?.reject(new Error(String(msg.error)));
      else w?.resolve(msg.result);
      return true;
    });
    child.stdin?.on('error', () => {});
    child.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`the phone fixture exited: ${this.io.stderr}`));
    });
  }

  /** Client events so far: { event, atMs, payload }. */
  get events(): readonly Json[] {
    return this.io.lines;
  }

  call<T = Json>(op: string, args: Json = {}, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    const child = this.io.child;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`${op}: the phone fixture has exited; stderr: ${this.io.stderr}`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${op}: no answer in ${timeoutMs} ms; stderr: ${this.io.stderr}`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.stdin?.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Waits for a client event whose payload matches (also one that came already). */
  waitEvent(event: string, pred: (payload: Json) => boolean, timeoutMs: number): Promise<{ atMs: number; payload: Json }> {
    return this.io.wait(event, (e) => e.event === event && pred(e.payload as Json), timeoutMs) as Promise<{ atMs: number; payload: Json }>;
  }

  stop(): Promise<void> {
    return this.io.stop();
  }
}

/** `deskphone-agent run` in a namespace, its HTTP API on 127.0.0.1 there (no password yet: loopback is let in). */
export class NamespacedDaemon {
  private readonly io: JsonLines;
  url = '';

  constructor(readonly ns: string, dataDir: string, args: readonly string[]) {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'run', '--board', 'sim', '--data-dir', dataDir, '--http', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '' },
    });
    this.io = new JsonLines(child, () => false);
  }

  get logs(): readonly Json[] {
    return this.io.lines;
  }

  async ready(timeoutMs = 15_000): Promise<void> {
    const line = await this.io.wait('the daemon to be ready', (l) => l.msg === 'deskphone-agent ready', timeoutMs);
    this.url = String(line.url);
  }

  waitLog(what: string, pred: (line: Json) => boolean, timeoutMs: number): Promise<Json> {
    return this.io.wait(what, pred, timeoutMs);
  }

  /** An HTTP API call made from inside the namespace. */
  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const args = ['-s', '-X', method, '-w', '\n%{http_code}', ...(body !== undefined ? ['-H', 'content-type: application/json', '--data', JSON.stringify(body)] : []), new URL(path, this.url).href];
    const r = await nsExec(this.ns, 'curl', args);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: JSON.parse(r.stdout.slice(0, cut) || 'null') as T };
  }

  stop(): Promise<void> {
    return this.io.stop();
  }
}
