// One arecord or aplay helper process, kept alive: restarted with a doubling back-off when it
// exits or when xruns come in a storm, given up on after too many quick failures, and killed
// (SIGTERM, then SIGKILL after a timeout) by close(). Its stderr is kept as a short tail of
// lines for error messages; the "overrun!!!"/"underrun!!!" lines alsa-utils print for each
// xrun are counted instead. alsa-utils translates those messages, hence LC_ALL=C.
import { spawn, type ChildProcess } from 'node:child_process';
import { errorMessage, type Clock, type TimerHandle } from '../util/index.js';
import { AudioDeviceError, type AudioRestart } from './audio-types.js';

export type AlsaRestartPolicy = {
  /** First back-off after a failure; doubles per consecutive failure. Default 100 ms. */
  readonly initialBackoffMs: number;
  /** Default 5000 ms. */
  readonly maxBackoffMs: number;
  /** Consecutive quick failures before giving up; default Infinity (a USB headset may come back). */
  readonly maxConsecutiveFailures: number;
  /** A helper that ran this long counts as healthy: its exit starts the back-off afresh. Default 5000 ms. */
  readonly healthyAfterMs: number;
  /** This many xruns within `xrunStormWindowMs` restart the helper. Default 10 in 1000 ms. */
  readonly xrunStormCount: number;
  readonly xrunStormWindowMs: number;
};

export const DEFAULT_ALSA_RESTART_POLICY: AlsaRestartPolicy = {
  initialBackoffMs: 100,
  maxBackoffMs: 5000,
  maxConsecutiveFailures: Number.POSITIVE_INFINITY,
  healthyAfterMs: 5000,
  xrunStormCount: 10,
  xrunStormWindowMs: 1000,
};

export type AlsaChildHooks = {
  /** A helper is running; `restart` is set when it replaces one that ended. */
  onSpawn(child: ChildProcess, restart: AudioRestart | undefined): void;
  /** The helper is gone (its stdio closed); no more data comes from it. */
  onGone(): void;
  onXrun(count: number): void;
  onError(err: AudioDeviceError): void;
};

export type AlsaChildOptions = {
  readonly command: string;
  readonly args: readonly string[];
  readonly stdio: 'capture' | 'playback';
  /** Variables added to the helper's environment (e.g. HOME, to pick an .asoundrc). */
  readonly env?: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly policy: AlsaRestartPolicy;
  readonly killTimeoutMs: number;
  readonly hooks: AlsaChildHooks;
};

const STDERR_TAIL_LINES = 20;
const STDERR_LINE_CHARS = 300;
const XRUN_RE = /\b(?:overrun|underrun)\b/i;

type State = 'idle' | 'running' | 'backoff' | 'failed' | 'closing' | 'closed';

export class AlsaChild {
  private state: State = 'idle';
  private child: ChildProcess | undefined;
  private childStartedMs = 0;
  private spawnError: Error | undefined;
  private killReason: string | undefined;
  private failures = 0;
  private restarts = 0;
  private xruns = 0;
  private readonly recentXrunsMs: number[] = [];
  private readonly stderrTail: string[] = [];
  private partialLine = '';
  /** Lines kept in all, and at the current helper's start: its own lines are the difference. */
  private linesKept = 0;
  private linesAtSpawn = 0;
  private backoffTimer: TimerHandle | undefined;
  private onGoneWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: AlsaChildOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  get xrunCount(): number {
    return this.xruns;
  }

  /** The last stderr lines of the helpers (xrun reports left out). */
  stderr(): readonly string[] {
    return [...this.stderrTail];
  }

  /** Starts the first helper; rejects with 'spawn-failed' if the program cannot be run at all. */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new AudioDeviceError('bad-state', `start() on an ALSA device that is ${this.state}`));
    return new Promise((resolve, reject) => this.spawnChild(undefined, { resolve, reject }));
  }

  /**
   * Stops the helper and resolves once it is gone: after `graceMs` for it to exit by itself
   * (aplay does once its stdin ends and the buffer has played), SIGTERM, then SIGKILL after
   * the kill timeout.
   */
  close(graceMs = 0): Promise<void> {
    this.closing ??= this.stop(graceMs);
    return this.closing;
  }

  private async stop(graceMs: number): Promise<void> {
    const child = this.child;
    this.state = 'closing';
    this.opts.clock.cancel(this.backoffTimer);
    if (child) {
      const { clock, killTimeoutMs } = this.opts;
      const gone = new Promise<void>((resolve) => this.onGoneWaiters.push(resolve));
      const timers: (TimerHandle | undefined)[] = [];
      const escalate = (): void => {
        if (this.child !== child) return;
        child.kill('SIGTERM');
        timers.push(
          clock.setTimer(killTimeoutMs, () => {
            child.kill('SIGKILL');
            // Node reaps the exit itself; this bound only guards against stdio held open elsewhere.
            timers.push(clock.setTimer(killTimeoutMs, () => this.releaseWaiters()));
          }),
        );
      };
      if (graceMs > 0) timers.push(clock.setTimer(graceMs, escalate));
      else escalate();
      await gone;
      for (const t of timers) clock.cancel(t);
    }
    this.child = undefined;
    this.state = 'closed';
  }

  private spawnChild(restart: AudioRestart | undefined, first?: { resolve: () => void; reject: (err: Error) => void }): void {
    const { command, args, env, stdio } = this.opts;
    this.spawnError = undefined;
    this.killReason = undefined;
    this.partialLine = '';
    this.linesAtSpawn = this.linesKept;
    this.recentXrunsMs.length = 0;
    this.state = 'running';
    this.childStartedMs = this.opts.clock.now();
    const child = spawn(command, args, {
      stdio: [stdio === 'playback' ? 'pipe' : 'ignore', stdio === 'capture' ? 'pipe' : 'ignore', 'pipe'],
      env: { ...process.env, ...env, LC_ALL: 'C' },
    });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.onStderr(text));
    child.on('error', (err) => {
      // Before a pid exists this is the spawn failing; later only kill() can report here.
      if (child.pid === undefined) this.spawnError ??= err;
      else this.keepLine(`${command}: ${err.message}`);
    });
    child.once('spawn', () => {
      first?.resolve();
      if (this.child === child && this.state === 'running') this.opts.hooks.onSpawn(child, restart);
    });
    child.once('close', (code, signal) => {
      if (first && this.spawnError) {
        first.reject(new AudioDeviceError('spawn-failed', `could not run ${command}: ${this.spawnError.message}`, { cause: this.spawnError }));
        first = undefined;
        if (this.state === 'running') this.state = 'failed';
      }
      this.onClose(child, code, signal);
    });
  }

  private onClose(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.opts.hooks.onGone();
    this.releaseWaiters();
    if (this.state !== 'running') return;
    if (this.partialLine) this.keepLine(this.partialLine);
    const reason = this.killReason ?? (this.spawnError ? `could not run: ${errorMessage(this.spawnError)}` : signal ? `killed by ${signal}` : `exited with status ${code}`);
    const quick = this.spawnError !== undefined || this.opts.clock.now() - this.childStartedMs < this.opts.policy.healthyAfterMs;
    this.failures = quick ? this.failures + 1 : 1;
    const ownLines = Math.min(this.linesKept - this.linesAtSpawn, 3);
    const tail = ownLines > 0 ? this.stderrTail.slice(-ownLines).join(' | ') : '';
    const errCode = this.spawnError ? 'spawn-failed' : 'child-exited';
    this.opts.hooks.onError(new AudioDeviceError(errCode, `${this.opts.command} ${reason}${tail ? `: ${tail}` : ''}`));
    const { policy } = this.opts;
    if (this.failures > policy.maxConsecutiveFailures) {
      this.state = 'failed';
      this.opts.hooks.onError(new AudioDeviceError('gave-up', `${this.opts.command} failed ${this.failures} times in a row; not restarting`));
      return;
    }
    const afterMs = Math.min(policy.initialBackoffMs * 2 ** (this.failures - 1), policy.maxBackoffMs);
    this.state = 'backoff';
    this.backoffTimer = this.opts.clock.setTimer(afterMs, () => {
      this.backoffTimer = undefined;
      if (this.state !== 'backoff') return;
      this.restarts++;
      this.spawnChild({ restarts: this.restarts, reason, afterMs });
    });
  }

  private releaseWaiters(): void {
    const waiters = this.onGoneWaiters;
    this.onGoneWaiters = [];
    for (const w of waiters) w();
  }

  private onStderr(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = (lines.pop() ?? '').slice(0, STDERR_LINE_CHARS * 4);
    for (const line of lines) this.keepLine(line);
  }

  private keepLine(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    if (XRUN_RE.test(line)) {
      this.onXrun();
      return;
    }
    this.stderrTail.push(line.slice(0, STDERR_LINE_CHARS));
    this.linesKept++;
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
  }

  private onXrun(): void {
    this.xruns++;
    this.opts.hooks.onXrun(this.xruns);
    const now = this.opts.clock.now();
    const { xrunStormCount, xrunStormWindowMs } = this.opts.policy;
    this.recentXrunsMs.push(now);
    if (this.recentXrunsMs.length > xrunStormCount) this.recentXrunsMs.shift();
    const oldest = this.recentXrunsMs[0];
    if (this.recentXrunsMs.length >= xrunStormCount && oldest !== undefined && now - oldest <= xrunStormWindowMs && this.state === 'running') {
      // arecord/aplay recover from a single xrun themselves; a storm means the device is wedged.
      this.recentXrunsMs.length = 0;
      this.killReason = `had ${xrunStormCount} xruns within ${xrunStormWindowMs} ms`;
      this.child?.kill('SIGKILL');
    }
  }
}
