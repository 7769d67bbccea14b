export { checkUasRequest, optionsHeaders, MergedRequestDetector, PHONE_CAPABILITIES, type UasCapabilities, type Rejection } from './uas-checks.js';
