// @rtcroom/react: useWebRTCCall and the track sources, over rtcroom's browser client.

export { useWebRTCCall } from './useWebRTCCall.js';
export type { UseWebRTCCallOptions, UseWebRTCCallResult } from './useWebRTCCall.js';
export { RTCRoomProvider } from './defaults.js';
export type { RTCRoomProviderProps, WebRTCCallDefaults } from './defaults.js';
export {
  CustomStreamSource,
  DisplayMediaSource,
  UserMediaSource,
  WebRTCCall,
  qualitySummary,
} from './client.js';
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
} from './client.js';
