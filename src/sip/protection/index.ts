export { TokenBucket } from './token-bucket.js';
export { SourceRateLimiter, type Admission, type RateLimiterOptions } from './source-rate-limiter.js';
export { TransactionCap } from './transaction-cap.js';
