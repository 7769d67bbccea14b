export { buildServer, isLoopback, type WebOptions } from './server.js';
export { AdminCredentials, CredentialsError, MIN_PASSWORD_LENGTH } from './admin-credentials.js';
export type { Status, StatusSource, RegistrationStatus, CallStatus, CallQualityStatus, CallView, NatStatus } from './status.js';
export { callsStatus } from './status.js';
