// rtcroom.js: the rtcroom browser client. Dependency-free ES modules, no build step: this file
// re-exports the public API from the modules in ./rtcroom/ (served next to it).
//
// It speaks the signaling protocol of Agentuity's webrtc() middleware and offers the API of its
// useWebRTCCall hook (same option, callback and method names) as a plain class:
//
//   import { WebRTCCall } from '/rtcroom.js';
//   const call = new WebRTCCall({ roomId: 'demo', signalUrl: '/api/call/signal', iceServers: [] });
//
// Trickle ICE, perfect negotiation, a full mesh (the newcomer offers), data channels, mute,
// screen share, quality summaries, recording and reconnect with backoff. Types: rtcroom.d.ts.
//
//   rtcroom/call.js        WebRTCCall: room, state machine, reconnect, the public API
//   rtcroom/session.js     PeerSession: one RTCPeerConnection, perfect negotiation, its channels
//   rtcroom/signaling.js   the signaling WebSocket, signalUrl resolution, reconnect backoff
//   rtcroom/media.js       LocalMedia: the local stream, mute, the screen in place of the camera
//   rtcroom/sources.js     track sources: camera/microphone, screen, your own stream
//   rtcroom/channels.js    data channel options, message format, sending
//   rtcroom/quality.js     ConnectionQualitySummary from getStats() reports
//   rtcroom/recording.js   MediaRecorder recordings of local and remote streams
//   rtcroom/ping.js        answers a Python peer's RTT pings on 'rtcroom-ping'
//   rtcroom/errors.js      named errors

// Every module is named here, so a browser requests them all in one round trip after this file
// rather than one round trip per level of imports.
import './rtcroom/channels.js';
import './rtcroom/errors.js';
import './rtcroom/media.js';
import './rtcroom/ping.js';
import './rtcroom/recording.js';
import './rtcroom/session.js';
import './rtcroom/signaling.js';

export { WebRTCCall } from './rtcroom/call.js';
export { qualitySummary } from './rtcroom/quality.js';
export { CustomStreamSource, DisplayMediaSource, UserMediaSource } from './rtcroom/sources.js';
