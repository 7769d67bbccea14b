// sd_notify(3) for Type=notify units. Node has no unix datagram sockets, so we use systemd-notify
// (the unit sets NotifyAccess=all because the message then comes from a child process).
import { spawn } from 'node:child_process';

export function sdNotify(state: 'READY=1' | 'STOPPING=1' | `STATUS=${string}`): void {
  if (!process.env['NOTIFY_SOCKET']) return;
  const child = spawn('systemd-notify', [`--pid=${process.pid}`, state], { stdio: 'ignore' });
  child.on('error', () => {
    // systemd-notify missing: systemd's start timeout will say so.
  });
  child.unref();
}
