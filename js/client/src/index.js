// The rtcroom browser client: this entry re-exports the public API of the modules beside it.
// `npm run build` in js/tooling bundles them into one dependency-free ES module,
// src/rtcroom/web/rtcroom.js, which Python serves (browser_client(), `rtcroom serve`), so a page
// loads the client in one request. The public types are the hand-written rtcroom.d.ts next to
// that file; the modules' JSDoc names them as import('../../../src/rtcroom/web/rtcroom.js'),
// which TypeScript resolves to the .d.ts.
//
// It speaks the signaling protocol of Agentuity's webrtc() middleware and offers the API of its
// useWebRTCCall hook (same option, callback and method names) as a plain class:
//
//   import { WebRTCCall } from '/rtcroom.js';
//   const call = new WebRTCCall({ roomId: 'demo', signalUrl: '/api/call/signal', iceServers: [] });
//
// Trickle ICE, perfect negotiation, a full mesh (the newcomer offers), data channels, mute,
// screen share, quality summaries, recording, reconnect with backoff, and resume (a lost
// signaling socket leaves the peer connections up and rejoins under the same peer id).
//
//   call.js        WebRTCCall: room, state machine, reconnect, the public API
//   session.js     PeerSession: one RTCPeerConnection, perfect negotiation, its channels
//   signaling.js   the signaling WebSocket, signalUrl resolution, reconnect backoff
//   resume.js      the resume token, the frames kept while signaling is away, unlisted peers
//   refusals.js    server closes that end a call (AuthError), the token in signalUrl
//   iceservers.js  the server's STUN/TURN (joined.iceServers) and refreshed TURN credentials
//   media.js       LocalMedia: the local stream, mute, the screen in place of the camera
//   sources.js     track sources: camera/microphone, screen, your own stream
//   channels.js    data channel options, message format, sending
//   quality.js     ConnectionQualitySummary from getStats() reports
//   recording.js   MediaRecorder recordings of local and remote streams
//   ping.js        answers a Python peer's RTT pings on 'rtcroom-ping'
//   errors.js      named errors

export { WebRTCCall } from './call.js';
export { qualitySummary } from './quality.js';
export { CustomStreamSource, DisplayMediaSource, UserMediaSource } from './sources.js';
