export { Daemon, type DaemonOptions, SHUTDOWN_BUDGET_MS } from './daemon.js';
export { createLogger } from './logger.js';
export { localAddress } from './local-address.js';
