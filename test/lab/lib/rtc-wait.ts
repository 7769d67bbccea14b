// Waiting for the RTC client's next incoming call, bounded, with a message that says what was seen.
import type { RtcClient, Session } from '../../../src/rtc/index.js';

export function nextIncomingCall(c: RtcClient, timeoutMs = 10_000, context: () => string = () => ''): Promise<Session> {
  return new Promise<Session>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no incoming call within ${timeoutMs} ms${context() ? `; ${context()}` : ''}`));
    }, timeoutMs);
    const off = c.events.on('incomingCall', (e) => {
      off();
      clearTimeout(timer);
      resolve(c.session(e.session) as Session);
    });
  });
}
