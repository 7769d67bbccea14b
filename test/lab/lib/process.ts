// Lab daemons (kamailio, SIPp, coturn, ...) started so their PID is known, stopped by that PID,
// with their output kept for failure messages (LAB-NOTES.md "Processes").
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface LabProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(timeoutMs?: number): Promise<void>;
}

const running = new Set<LabProcess>();

/** A zombie (state Z) counts as stopped: PID 1 reaps slowly on this machine. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function startProcess(name: string, cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): LabProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}), env: { ...process.env, ...options.env } });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const proc: LabProcess = {
    name,
    child,
    pid: child.pid,
    output: () => out,
    exited,
    async stop(timeoutMs = 3000) {
      running.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null || !isAlive(proc.pid)) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
      if (!done && isAlive(proc.pid)) {
        child.kill('SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      }
    },
  };
  running.add(proc);
  return proc;
}

/** Stops every lab process still running (call from after()). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Polls `check` until it returns true; fails with `what` after the timeout. Never a bare sleep. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
