// Structured logs: one JSON object per line on stdout. Under systemd (JOURNAL_STREAM set) each line
// gets a syslog <N> priority prefix so journald keeps the level. Secrets are redacted by path.
import pino, { type Logger, type LevelWithSilent } from 'pino';

const SYSLOG_PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'turnPassword', '*.turnPassword', 'secret', '*.secret',
];

export function createLogger(level: LevelWithSilent, out: NodeJS.WritableStream = process.stdout): Logger {
  const journald = (process.env['JOURNAL_STREAM'] ?? '') !== '';
  const stream = journald
    ? {
        write(line: string): void {
          const m = /"level":(\d+)/.exec(line);
          out.write(`<${SYSLOG_PRIORITY[Number(m?.[1])] ?? 6}>${line}`);
        },
      }
    : pino.destination({ fd: 1, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[secret]' },
      formatters: { level: (label, number) => ({ level: number, levelName: label }) },
    },
    stream,
  );
}
