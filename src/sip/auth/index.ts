export { DigestError, chooseChallenge, parseAuthParams, type DigestAlgorithm, type DigestChallenge } from './digest-challenge.js';
export { computeAuthorization, digestHash, type DigestCredentials, type DigestRequest, type ComputeOptions } from './digest-response.js';
export { DigestChallengeState, type DigestDecision } from './digest-challenge-state.js';
