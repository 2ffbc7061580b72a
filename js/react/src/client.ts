// The one implementation of the call logic: rtcroom's browser client, the same rtcroom.js that
// `rtcroom serve` gives to browsers. It lives in the Python package (src/rtcroom/web/); the build
// bundles it from there (vite.config.ts resolves './rtcroom.js', tsconfig's rootDirs gives its
// types), so this package never holds a second copy of it.

export {
  CustomStreamSource,
  DisplayMediaSource,
  UserMediaSource,
  WebRTCCall,
  qualitySummary,
} from './rtcroom.js';
export type {
  ConnectionQualitySummary,
  DataChannelConfig,
  DataChannelState,
  RecordingHandle,
  RecordingOptions,
  RecordingState,
  SignalingState,
  TrackSource,
  WebRTCCallOptions,
  WebRTCCallState,
  WebRTCClientCallbacks,
  WebRTCConnectionState,
  WebRTCDisconnectReason,
} from './rtcroom.js';
