// Starts the real `deskphone-agent run` as a child process and waits for it to be ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './paths.js';

export interface RunningDaemon {
  readonly child: ChildProcess;
  readonly url: string;
  readonly startupMs: number;
  /** Every log line so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export async function startDaemon(dataDir: string, extraArgs: string[] = [], timeoutMs = 10_000): Promise<RunningDaemon> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', '--board', 'sim', '--data-dir', dataDir, '--http', '127.0.0.1:0', '--sip-port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '' },
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buf = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          logs.push(obj);
          if (obj['msg'] === 'deskphone-agent ready') {
            clearTimeout(timer);
            resolve(String(obj['url']));
          }
        } catch {
          clearTimeout(timer);
          reject(new Error(`a log line is not JSON: ${line}`));
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before ready; stderr: ${stderr}`));
    });
  });
  let url: string;
  try {
    url = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    url,
    startupMs: performance.now() - t0,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const t = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await exited;
      return { ...r, ms: performance.now() - t };
    },
  };
}

export async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: await res.json() };
}
