export { checkUasRequest, optionsHeaders, MergedRequestDetector, PHONE_CAPABILITIES, type UasCapabilities, type Rejection } from './uas-checks.js';
export { UserAgent, SipRequestError, type UserAgentOptions, type UserAgentHandlers, type IncomingInvite, type RequestOptions } from './user-agent.js';
