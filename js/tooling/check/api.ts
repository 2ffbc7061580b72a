// The code must satisfy its declared API: each export of the client's modules (js/client/src) is
// assigned to the type rtcroom.d.ts declares for it. `.../web/rtcroom.js` resolves to
// rtcroom.d.ts (what TypeScript users of rtcroom.js see); the modules are the JavaScript itself.
import type * as api from '../../../src/rtcroom/web/rtcroom.js';
import * as call from '../../client/src/call.js';
import * as quality from '../../client/src/quality.js';
import * as sources from '../../client/src/sources.js';

export const checks: {
  WebRTCCall: typeof api.WebRTCCall;
  qualitySummary: typeof api.qualitySummary;
  UserMediaSource: typeof api.UserMediaSource;
  DisplayMediaSource: typeof api.DisplayMediaSource;
  CustomStreamSource: typeof api.CustomStreamSource;
} = {
  WebRTCCall: call.WebRTCCall,
  qualitySummary: quality.qualitySummary,
  UserMediaSource: sources.UserMediaSource,
  DisplayMediaSource: sources.DisplayMediaSource,
  CustomStreamSource: sources.CustomStreamSource,
};

// And the other way: a public member of WebRTCCall in call.js that rtcroom.d.ts does not declare
// (or the reverse) makes `true` fail to type-check below.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type PublicKeys<T> = Exclude<keyof T, `_${string}`>;
export const sameCallMembers: Exactly<PublicKeys<call.WebRTCCall>, keyof api.WebRTCCall> = true;
