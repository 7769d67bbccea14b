export { buildServer, isLoopback, type WebOptions } from './server.js';
export { AdminCredentials, CredentialsError, MIN_PASSWORD_LENGTH } from './admin-credentials.js';
export type { Status, StatusSource, RegistrationStatus, CallStatus, NatStatus } from './status.js';
