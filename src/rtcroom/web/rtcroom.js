// rtcroom.js: the rtcroom browser client. One dependency-free ES module, no build step.
//
// It speaks the signaling protocol of Agentuity's webrtc() middleware and offers the API of its
// useWebRTCCall hook (same option, callback and method names) as a plain class:
//
//   import { WebRTCCall } from '/rtcroom.js';
//   const call = new WebRTCCall({ roomId: 'demo', signalUrl: '/api/call/signal', iceServers: [] });
//
// Trickle ICE, perfect negotiation, a full mesh (the newcomer offers), data channels, mute,
// screen share, quality summaries, recording and reconnect with backoff. Types: rtcroom.d.ts.

const DEFAULT_ICE_SERVERS = [
  { urls: 'stun:stun.l.google.com:19302' },
  { urls: 'stun:stun1.l.google.com:19302' },
];
const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const MAX_ICE_RESTARTS = 1;
const STOP_RECORDING_TIMEOUT_MS = 5000;
const VIDEO_MIME_TYPES = [
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm',
  'video/mp4',
];
const AUDIO_MIME_TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg'];

// ---------------------------------------------------------------------------------------------
// rtcroom's RTT ping (README "Media for Python peers"): a Python peer that makes the offer also
// opens a channel labelled 'rtcroom-ping' and waits for a first ping before it measures. The app
// never sees this channel: we ping until the peer shows it speaks the protocol, and answer its
// pings ('P' + 8-byte sequence -> 'O' + the same 8 bytes), so the Python side gets an RTT.

const PING_CHANNEL_LABEL = 'rtcroom-ping';
const PING_INTERVAL_MS = 1000;
const MAX_UNANSWERED_PINGS = 30; // a peer that never answers is not pinged forever

function answerRttPings(channel) {
  channel.binaryType = 'arraybuffer';
  let timer = null;
  let sent = 0;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const ping = () => {
    if (channel.readyState !== 'open' || sent >= MAX_UNANSWERED_PINGS) return stop();
    const message = new Uint8Array(9);
    message[0] = 0x50; // 'P'
    new DataView(message.buffer).setBigUint64(1, BigInt(++sent));
    channel.send(message);
  };
  channel.onopen = () => {
    ping();
    timer = setInterval(ping, PING_INTERVAL_MS);
  };
  channel.onclose = stop;
  channel.onmessage = (event) => {
    if (!(event.data instanceof ArrayBuffer) || event.data.byteLength !== 9) return;
    const message = new Uint8Array(event.data);
    if (message[0] === 0x50 && channel.readyState === 'open') {
      stop(); // the peer pings on its own now: it needs no more pings of ours
      message[0] = 0x4f; // 'O'
      channel.send(message);
    } else if (message[0] === 0x4f) {
      stop();
    }
  };
  if (channel.readyState === 'open') channel.onopen();
}

// ---------------------------------------------------------------------------------------------
// Track sources: where the local stream comes from.

/** Camera and microphone through getUserMedia. */
export class UserMediaSource {
  constructor(constraints = { video: true, audio: true }) {
    this.type = 'user-media';
    this.constraints = constraints;
    this._stream = null;
  }
  async getStream() {
    this._stream = await mediaDevices().getUserMedia(this.constraints);
    return this._stream;
  }
  stop() {
    stopTracks(this._stream);
    this._stream = null;
  }
}

/** A screen, window or tab through getDisplayMedia. */
export class DisplayMediaSource {
  constructor(constraints = { video: true, audio: false }) {
    this.type = 'display-media';
    this.constraints = constraints;
    this._stream = null;
  }
  async getStream() {
    this._stream = await mediaDevices().getDisplayMedia(this.constraints);
    return this._stream;
  }
  stop() {
    stopTracks(this._stream);
    this._stream = null;
  }
}

/** A stream you already have (canvas, WebAudio, a <video>). Its tracks stay yours: stop()
 * does not end them, so you can keep using the stream after a hangup. */
export class CustomStreamSource {
  constructor(stream) {
    if (!stream || typeof stream.getTracks !== 'function') {
      throw new TypeError('CustomStreamSource needs a MediaStream, e.g. canvas.captureStream(30)');
    }
    this.type = 'custom';
    this.stream = stream;
  }
  async getStream() {
    return this.stream;
  }
  stop() {}
}

/** navigator.mediaDevices, or a clear error where browsers hide it (plain http from a host
 * other than localhost is not a secure context). */
function mediaDevices() {
  if (!globalThis.navigator?.mediaDevices) {
    throw namedError(
      'NotSupportedError',
      'Camera, microphone and screen need a secure page: open it over https:// or from ' +
        'localhost (this page is plain http from another host)',
    );
  }
  return navigator.mediaDevices;
}

function stopTracks(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

function isTrackSource(media) {
  return media !== null && typeof media === 'object' && typeof media.getStream === 'function';
}

/** ws(s):// URL for a signalUrl that may be a path, an http(s) URL or a ws(s) URL. */
function resolveSignalUrl(signalUrl) {
  if (typeof signalUrl !== 'string' || signalUrl === '') {
    throw new TypeError("WebRTCCall needs signalUrl, e.g. '/api/call/signal'");
  }
  const url = new URL(signalUrl, globalThis.location ? globalThis.location.href : undefined);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.href;
}

function namedError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

function asError(value) {
  return value instanceof Error ? value : new Error(String(value));
}

// ---------------------------------------------------------------------------------------------
// One RTCPeerConnection to one remote peer.

class PeerSession {
  constructor(remoteId, pc, epoch) {
    this.remoteId = remoteId;
    this.pc = pc;
    this.epoch = epoch; // signaling epoch (one per joined socket) that created the session
    this.channels = new Map(); // label -> RTCDataChannel
    this.remoteStream = null;
    this.pendingCandidates = [];
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.mayOffer = false; // passive side: only after the first remote offer
    this.offerWhenConnected = false; // a renegotiation waiting for the connection
    this.iceRestarts = 0;
    this.gatherTimer = null;
    this.addedSenders = []; // senders added by screen share (removed again on stop)
    this.lastStats = null; // previous getStats() report, for per-interval rates
    this.closed = false;
  }

  get connected() {
    const ice = this.pc.iceConnectionState;
    return this.pc.connectionState === 'connected' || ice === 'connected' || ice === 'completed';
  }
}

// ---------------------------------------------------------------------------------------------
// Recording

class RecordingHandle {
  constructor(streamId, recorder, mimeType, onFinish) {
    this.streamId = streamId;
    this.mimeType = mimeType;
    this._recorder = recorder;
    this._chunks = [];
    this._onFinish = onFinish;
    this._stopped = null;
    recorder.ondataavailable = (event) => {
      if (event.data && event.data.size > 0) this._chunks.push(event.data);
    };
  }

  /** 'inactive' | 'recording' | 'paused' */
  get state() {
    return this._recorder.state;
  }

  pause() {
    if (this._recorder.state === 'recording') this._recorder.pause();
  }

  resume() {
    if (this._recorder.state === 'paused') this._recorder.resume();
  }

  /** Stops the recorder and resolves with everything recorded (empty Blob if nothing was). */
  stop() {
    if (!this._stopped) {
      this._stopped = new Promise((resolve) => {
        const finish = () => {
          this._onFinish(this);
          resolve(new Blob(this._chunks, { type: this.mimeType }));
        };
        if (this._recorder.state === 'inactive') {
          finish();
          return;
        }
        this._recorder.addEventListener('stop', finish, { once: true });
        this._recorder.stop();
      });
    }
    return this._stopped;
  }
}

function pickMimeType(stream, wanted) {
  if (typeof MediaRecorder === 'undefined') return null;
  if (wanted && MediaRecorder.isTypeSupported(wanted)) return wanted;
  const candidates =
    stream.getVideoTracks().length > 0
      ? VIDEO_MIME_TYPES
      : stream.getAudioTracks().length > 0
        ? AUDIO_MIME_TYPES
        : [];
  return candidates.find((type) => MediaRecorder.isTypeSupported(type)) ?? null;
}

// ---------------------------------------------------------------------------------------------
// The call

/**
 * A WebRTC call in one room: a signaling WebSocket and one RTCPeerConnection per remote peer.
 * States: 'idle' -> 'connecting' -> 'signaling' -> 'negotiating' -> 'connected'.
 */
export class WebRTCCall {
  constructor(options) {
    if (!options || typeof options.roomId !== 'string' || options.roomId === '') {
      throw new TypeError("WebRTCCall needs a roomId, e.g. new WebRTCCall({roomId: 'demo', ...})");
    }
    this.options = {
      autoConnect: true,
      autoReconnect: true,
      maxReconnectAttempts: 5,
      connectionTimeout: 30000,
      iceGatheringTimeout: 10000,
      ...options,
    };
    this._signalUrl = resolveSignalUrl(options.signalUrl);
    this.callbacks = { ...(options.callbacks || {}) };
    this._state = 'idle';
    this.error = null;
    this.peerId = null;
    this.isAudioMuted = false;
    this.isVideoMuted = false;
    this.isScreenSharing = false;
    this._sessions = new Map(); // remoteId -> PeerSession
    this._localStream = null;
    this._trackSource = null;
    this._ownsLocalStream = false;
    this._screenTrack = null;
    this._cameraTrack = null;
    this._ws = null;
    this._joined = false;
    this._epoch = 0; // bumped by connect/hangup/timeout: stale async work checks it
    this._signalEpoch = 0; // bumped on every joined
    this._queue = Promise.resolve();
    this._reconnectAttempts = 0;
    this._reconnectTimer = null;
    this._timeoutTimer = null;
    this._recordings = new Map(); // streamId -> RecordingHandle
    this._disposed = false;
    if (this.options.autoConnect) queueMicrotask(() => this.connect());
  }

  // -- read-only view ---------------------------------------------------------------------

  get state() {
    return this._state;
  }
  get isDataOnly() {
    return this.options.media === false;
  }
  get localStream() {
    return this._localStream;
  }
  get remotePeerIds() {
    return [...this._sessions.keys()];
  }
  get remoteStreams() {
    return this.getRemoteStreams();
  }
  get peerCount() {
    return this._sessions.size;
  }
  getState() {
    return {
      state: this._state,
      peerId: this.peerId,
      remotePeerIds: this.remotePeerIds,
      isAudioMuted: this.isAudioMuted,
      isVideoMuted: this.isVideoMuted,
      isScreenSharing: this.isScreenSharing,
    };
  }
  getLocalStream() {
    return this._localStream;
  }
  getRemoteStream(peerId) {
    return this._sessions.get(peerId)?.remoteStream ?? null;
  }
  getRemoteStreams() {
    const streams = new Map();
    for (const [id, s] of this._sessions) if (s.remoteStream) streams.set(id, s.remoteStream);
    return streams;
  }

  // -- lifecycle ----------------------------------------------------------------------------

  /** Join the room. Never rejects: failures go to onError and the state returns to 'idle'. */
  async connect() {
    if (this._disposed) {
      this._fail(new Error('This WebRTCCall was disposed; create a new one to call again'));
      return;
    }
    if (this._state !== 'idle') return;
    const epoch = ++this._epoch;
    this._reconnectAttempts = 0;
    this.error = null;
    this._setState('connecting', 'connect() called');
    try {
      await this._ensureLocalStream(epoch);
    } catch (err) {
      if (epoch !== this._epoch) return;
      this._releaseLocalStream();
      this._fail(asError(err));
      this._setState('idle', 'error');
      return;
    }
    if (epoch !== this._epoch) return; // hung up while the camera was opening
    this._openSocket(epoch);
  }

  /** Leave the room: close every peer connection and the socket, release the camera. */
  hangup() {
    this._epoch++;
    this._clearTimers();
    this._closeSocket();
    this._closeAllSessions();
    this._stopScreenTrack();
    this._releaseLocalStream();
    this.peerId = null;
    this._joined = false;
    this._setState('idle', 'hangup');
  }

  /** hangup() for good: recordings are stopped and connect() refuses afterwards. */
  dispose() {
    this.stopAllRecordings();
    this.hangup();
    this._disposed = true;
  }

  async _ensureLocalStream(epoch) {
    if (this._localStream || this.isDataOnly) return;
    const media = this.options.media;
    const source = isTrackSource(media) ? media : new UserMediaSource(media ?? undefined);
    const stream = await source.getStream();
    if (epoch !== this._epoch) {
      if (!(source instanceof CustomStreamSource)) source.stop();
      return;
    }
    this._trackSource = source;
    this._localStream = stream;
    this._cameraTrack = stream.getVideoTracks()[0] ?? null;
    this._applyMute();
    this._emit('onLocalStream', stream);
  }

  _releaseLocalStream() {
    if (this._trackSource) this._trackSource.stop();
    else if (this._ownsLocalStream) stopTracks(this._localStream);
    this._trackSource = null;
    this._ownsLocalStream = false;
    this._localStream = null;
    this._cameraTrack = null;
  }

  // -- state --------------------------------------------------------------------------------

  _setState(to, reason) {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    if (to === 'connecting' || to === 'negotiating') this._startTimeout();
    else this._clearTimeout();
    this._emit('onStateChange', from, to, reason);
    if (to === 'connected') this._emit('onConnect');
    if (to === 'idle') {
      const why = reason === 'hangup' ? 'hangup' : reason.includes('timeout') ? 'timeout' : 'error';
      this._emit('onDisconnect', why);
    }
  }

  _updateConnectionState() {
    if (!this._joined || this._state === 'idle') return;
    const sessions = [...this._sessions.values()];
    if (sessions.some((s) => s.connected)) this._setState('connected', 'peer connected');
    else if (sessions.length === 0) {
      if (this._state !== 'signaling') this._setState('signaling', 'all peers left');
    } else if (this._state === 'connected') this._setState('negotiating', 'no connected peers');
  }

  _startTimeout() {
    this._clearTimeout();
    const ms = this.options.connectionTimeout;
    if (!(ms > 0)) return;
    const epoch = this._epoch;
    this._timeoutTimer = setTimeout(() => {
      this._timeoutTimer = null;
      if (epoch !== this._epoch) return;
      if (this._state !== 'connecting' && this._state !== 'negotiating') return;
      this._fail(new Error('WebRTC connection timed out'));
      this._epoch++;
      this._clearTimers(); // a pending reconnect must not rejoin after the timeout
      this._closeSocket();
      this._closeAllSessions();
      this.peerId = null;
      this._joined = false;
      this._setState('idle', 'connection-timeout');
    }, ms);
  }

  _clearTimeout() {
    if (this._timeoutTimer !== null) clearTimeout(this._timeoutTimer);
    this._timeoutTimer = null;
  }

  _clearTimers() {
    this._clearTimeout();
    if (this._reconnectTimer !== null) clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
  }

  _emit(name, ...args) {
    const fn = this.callbacks[name];
    if (typeof fn !== 'function') return;
    try {
      fn(...args);
    } catch (err) {
      console.error(`rtcroom: callbacks.${name} threw`, err);
    }
  }

  _fail(error) {
    this.error = error;
    this._emit('onError', error, this._state);
  }

  // -- signaling socket ---------------------------------------------------------------------

  _openSocket(epoch) {
    this._closeSocket();
    let ws;
    try {
      ws = new WebSocket(this._signalUrl);
    } catch (err) {
      this._fail(asError(err));
      this._onSocketLost(epoch, 'WebSocket failed');
      return;
    }
    this._ws = ws;
    ws.onopen = () => {
      if (ws !== this._ws) return;
      const reconnecting = this._reconnectAttempts > 0;
      this._setState('signaling', 'WebSocket opened');
      this._send({ t: 'join', roomId: this.options.roomId });
      if (reconnecting) this._emit('onReconnected');
    };
    ws.onmessage = (event) => {
      if (ws !== this._ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        this._fail(new Error('Invalid signaling message'));
        return;
      }
      // One message at a time, in order: overlapping SDP handlers would race.
      this._queue = this._queue
        .then(() => (epoch === this._epoch ? this._handleSignal(msg) : undefined))
        .catch((err) => {
          if (epoch === this._epoch) this._fail(asError(err));
        });
    };
    ws.onerror = () => {
      if (ws === this._ws) this._fail(new Error('WebSocket connection error'));
    };
    ws.onclose = () => {
      if (ws !== this._ws) return;
      this._ws = null;
      this._onSocketLost(epoch, 'WebSocket closed');
    };
  }

  _closeSocket() {
    const ws = this._ws;
    this._ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
  }

  _send(msg) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  /** The socket dropped. Peer connections stay up (media keeps flowing) until we rejoin. */
  _onSocketLost(epoch, reason) {
    if (epoch !== this._epoch || this._state === 'idle') return;
    this._joined = false;
    this.peerId = null;
    if (!this.options.autoReconnect) {
      this._epoch++;
      this._closeAllSessions();
      this._releaseLocalStream();
      this._setState('idle', reason);
      return;
    }
    const attempt = this._reconnectAttempts + 1;
    if (attempt > this.options.maxReconnectAttempts) {
      this._epoch++;
      this._clearTimers();
      this._closeAllSessions();
      this._releaseLocalStream();
      this._emit('onReconnectFailed');
      this._setState('idle', 'reconnect-failed');
      return;
    }
    this._reconnectAttempts = attempt;
    // Exponential backoff with "equal jitter": half fixed, half random, so a room of peers that
    // lost the same server does not come back in lockstep.
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** (attempt - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this._emit('onReconnecting', attempt);
    this._setState('connecting', `reconnecting:${reason}`);
    if (this._reconnectTimer !== null) clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (epoch === this._epoch && this._state === 'connecting') this._openSocket(epoch);
    }, delay);
  }

  async _handleSignal(msg) {
    switch (msg && msg.t) {
      case 'joined':
        return this._onJoined(msg);
      case 'peer-joined':
        this._emit('onPeerJoined', msg.peerId);
        this._session(msg.peerId, false);
        return;
      case 'peer-left':
        this._emit('onPeerLeft', msg.peerId);
        this._closeSession(msg.peerId, false);
        this._updateConnectionState();
        return;
      case 'sdp':
        return this._onRemoteDescription(msg.from, msg.description);
      case 'ice':
        return this._onRemoteCandidate(msg.from, msg.candidate);
      case 'error':
        return this._onServerError(String(msg.message));
      default:
        return; // unknown frames are ignored, as the protocol asks
    }
  }

  async _onJoined(msg) {
    this.peerId = msg.peerId;
    this._joined = true;
    this._reconnectAttempts = 0;
    this._signalEpoch++;
    // Sessions from before a reconnect belong to old peer ids: replace them.
    for (const [id, s] of this._sessions) if (s.epoch !== this._signalEpoch) this._closeSession(id);
    const peers = Array.isArray(msg.peers) ? msg.peers : [];
    if (peers.length === 0) {
      this._updateConnectionState();
      return;
    }
    this._setState('negotiating', 'creating offer');
    const epoch = this._epoch;
    for (const id of peers) {
      if (epoch !== this._epoch) return; // hung up between two offers
      this._emit('onPeerJoined', id);
      const session = this._session(id, true);
      this._emit('onNegotiationStart', id);
      await this._makeOffer(session);
    }
  }

  _onServerError(message) {
    const error = namedError(
      message.startsWith('Room is full') ? 'RoomFullError' : 'SignalingError',
      message,
    );
    this._fail(error);
    if (this._joined) return;
    // The join itself was refused (room full, bad room id): waiting would never end.
    this._epoch++;
    this._clearTimers();
    this._closeSocket();
    this._closeAllSessions();
    this._releaseLocalStream();
    this._setState('idle', error.name === 'RoomFullError' ? 'room-full' : 'join-rejected');
  }

  // -- peer sessions ------------------------------------------------------------------------

  _polite(remoteId) {
    if (typeof this.options.polite === 'boolean') return this.options.polite;
    return !(this.peerId > remoteId); // the greater id is impolite, as in Agentuity's client
  }

  _session(remoteId, isOfferer) {
    const existing = this._sessions.get(remoteId);
    if (existing) return existing;
    const pc = new RTCPeerConnection({
      iceServers: this.options.iceServers ?? DEFAULT_ICE_SERVERS,
    });
    const s = new PeerSession(remoteId, pc, this._signalEpoch);
    s.mayOffer = isOfferer;
    this._sessions.set(remoteId, s);
    if (this._localStream) {
      for (const track of this._localStream.getTracks()) pc.addTrack(track, this._localStream);
    }
    pc.ontrack = (event) => this._onTrack(s, event);
    pc.ondatachannel = (event) => {
      if (event.channel.label === PING_CHANNEL_LABEL) answerRttPings(event.channel);
      else this._registerChannel(s, event.channel);
    };
    pc.onicecandidate = (event) => {
      if (!event.candidate || s.closed) return;
      if (s.gatherTimer !== null) clearTimeout(s.gatherTimer);
      s.gatherTimer = null;
      const candidate = event.candidate.toJSON();
      this._emit('onIceCandidate', remoteId, candidate);
      this._send({ t: 'ice', from: this.peerId, to: remoteId, candidate });
    };
    pc.onnegotiationneeded = () => {
      // The passive side waits for the first offer; later either side may renegotiate.
      if (!s.mayOffer || s.closed) return;
      // A renegotiation that ends before DTLS is up leaves aiortc peers with media that never
      // starts, so wait for the connection (browsers do not mind).
      if (pc.remoteDescription && ['new', 'connecting'].includes(pc.connectionState)) {
        s.offerWhenConnected = true;
        return;
      }
      this._makeOffer(s).catch((err) => this._fail(asError(err)));
    };
    pc.oniceconnectionstatechange = () => {
      if (s.closed) return;
      const state = pc.iceConnectionState;
      this._emit('onIceStateChange', remoteId, state);
      if (state === 'failed') this._onIceFailed(s);
      this._updateConnectionState();
    };
    pc.onconnectionstatechange = () => {
      if (s.closed) return;
      if (s.offerWhenConnected && pc.connectionState === 'connected') {
        s.offerWhenConnected = false;
        this._makeOffer(s).catch((err) => this._fail(asError(err)));
      }
      this._updateConnectionState();
    };
    if (this.options.iceGatheringTimeout > 0) {
      s.gatherTimer = setTimeout(() => {
        s.gatherTimer = null;
        if (!s.closed) {
          console.warn(
            `rtcroom: no ICE candidate for peer ${remoteId} after ` +
              `${this.options.iceGatheringTimeout} ms; check iceServers and the network`,
          );
        }
      }, this.options.iceGatheringTimeout);
    }
    if (isOfferer) {
      for (const config of this.options.dataChannels || []) this._openChannel(s, config);
    }
    return s;
  }

  _closeSession(remoteId, announce = true) {
    const s = this._sessions.get(remoteId);
    if (!s) return;
    s.closed = true;
    this._sessions.delete(remoteId);
    if (s.gatherTimer !== null) clearTimeout(s.gatherTimer);
    for (const channel of s.channels.values()) channel.close();
    s.channels.clear();
    if (s.remoteStream) {
      for (const track of s.remoteStream.getTracks()) this._emit('onTrackRemoved', remoteId, track);
    }
    const pc = s.pc;
    pc.ontrack = pc.ondatachannel = pc.onicecandidate = pc.onnegotiationneeded = null;
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = null;
    pc.close();
    if (announce) this._emit('onPeerLeft', remoteId);
  }

  _closeAllSessions() {
    for (const id of [...this._sessions.keys()]) this._closeSession(id);
  }

  _onIceFailed(s) {
    if (s.iceRestarts < MAX_ICE_RESTARTS) {
      s.iceRestarts++;
      s.pc.restartIce(); // fires negotiationneeded with fresh ICE credentials
      return;
    }
    // Only this peer is lost: the rest of the mesh and the signaling socket stay up.
    this._fail(new Error(`ICE connection failed for peer ${s.remoteId}`));
    this._closeSession(s.remoteId);
    this._updateConnectionState();
  }

  async _makeOffer(s) {
    if (s.makingOffer || s.closed || s.pc.signalingState !== 'stable') return;
    s.mayOffer = true;
    try {
      s.makingOffer = true;
      await s.pc.setLocalDescription();
      if (s.closed) return;
      this._send({ t: 'sdp', from: this.peerId, to: s.remoteId, description: s.pc.localDescription });
    } finally {
      s.makingOffer = false;
    }
  }

  async _onRemoteDescription(from, description) {
    if (typeof from !== 'string' || !description || typeof description.type !== 'string') return;
    const isOffer = description.type === 'offer';
    if (!isOffer && !this._sessions.has(from)) return; // an answer to an offer we never made
    const s = this._session(from, false);
    const pc = s.pc;
    const collision = isOffer && (s.makingOffer || pc.signalingState !== 'stable');
    s.ignoreOffer = !this._polite(from) && collision;
    if (s.ignoreOffer) return; // the impolite side keeps its own offer; the other rolls back
    if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return; // stale
    if (this._state === 'signaling') {
      this._setState('negotiating', 'received SDP');
      this._emit('onNegotiationStart', from);
    }
    await pc.setRemoteDescription(description); // rolls back our own offer if we are polite
    if (s.closed) return;
    for (const candidate of s.pendingCandidates.splice(0)) await this._addCandidate(s, candidate);
    if (isOffer) {
      s.mayOffer = true;
      await pc.setLocalDescription();
      if (s.closed) return;
      this._send({ t: 'sdp', from: this.peerId, to: from, description: pc.localDescription });
    }
    this._emit('onNegotiationComplete', from);
  }

  async _onRemoteCandidate(from, candidate) {
    const s = this._sessions.get(from);
    if (!s || !candidate || typeof candidate !== 'object') return;
    if (!candidate.candidate) return; // end-of-candidates marker
    if (!s.pc.remoteDescription) s.pendingCandidates.push(candidate);
    else await this._addCandidate(s, candidate);
  }

  async _addCandidate(s, candidate) {
    try {
      await s.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!s.ignoreOffer) console.warn(`rtcroom: bad ICE candidate from ${s.remoteId}`, err);
    }
  }

  _onTrack(s, event) {
    let stream = event.streams[0];
    if (!stream) {
      stream = s.remoteStream ?? new MediaStream();
      if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
    }
    if (stream !== s.remoteStream) {
      s.remoteStream = stream;
      stream.addEventListener('removetrack', (e) => {
        if (!s.closed) this._emit('onTrackRemoved', s.remoteId, e.track);
      });
      this._emit('onRemoteStream', s.remoteId, stream);
    }
    this._emit('onTrackAdded', s.remoteId, event.track, stream);
    this._updateConnectionState();
  }

  // -- data channels ------------------------------------------------------------------------

  _openChannel(s, config) {
    if (!config || typeof config.label !== 'string') {
      throw new TypeError("a data channel needs a label, e.g. {label: 'chat'}");
    }
    const init = { ordered: config.ordered ?? true };
    if (config.maxPacketLifeTime !== undefined) init.maxPacketLifeTime = config.maxPacketLifeTime;
    if (config.maxRetransmits !== undefined) init.maxRetransmits = config.maxRetransmits;
    if (config.protocol !== undefined) init.protocol = config.protocol;
    const channel = s.pc.createDataChannel(config.label, init);
    this._registerChannel(s, channel);
    return channel;
  }

  _registerChannel(s, channel) {
    const { label } = channel;
    channel.binaryType = 'arraybuffer';
    s.channels.set(label, channel);
    channel.onopen = () => {
      this._emit('onDataChannelOpen', s.remoteId, label);
      this._updateConnectionState();
    };
    channel.onclose = () => {
      if (s.channels.get(label) === channel) s.channels.delete(label);
      this._emit('onDataChannelClose', s.remoteId, label);
    };
    channel.onerror = (event) => {
      const message = event?.error?.message ?? event?.message ?? 'Data channel error';
      this._emit('onDataChannelError', s.remoteId, label, new Error(message));
    };
    channel.onmessage = (event) => {
      let data = event.data;
      if (typeof data === 'string') {
        // Agentuity's wire format has no envelope: text that parses as JSON arrives parsed.
        try {
          data = JSON.parse(data);
        } catch {
          // plain text
        }
      }
      this._emit('onDataChannelMessage', s.remoteId, label, data);
    };
  }

  /** A new channel on every current peer connection. */
  createDataChannel(config) {
    const created = new Map();
    for (const [id, s] of this._sessions) created.set(id, this._openChannel(s, config));
    return created;
  }

  getDataChannel(peerId, label) {
    return this._sessions.get(peerId)?.channels.get(label);
  }

  getDataChannelLabels() {
    const labels = new Set();
    for (const s of this._sessions.values()) for (const label of s.channels.keys()) labels.add(label);
    return [...labels];
  }

  getDataChannelState(peerId, label) {
    return this.getDataChannel(peerId, label)?.readyState ?? null;
  }

  closeDataChannel(label) {
    let closed = false;
    for (const s of this._sessions.values()) {
      const channel = s.channels.get(label);
      if (channel) {
        s.channels.delete(label);
        channel.close();
        closed = true;
      }
    }
    return closed;
  }

  _sendOn(channel, data) {
    if (!channel || channel.readyState !== 'open') return false;
    channel.send(data);
    return true;
  }

  sendString(label, data) {
    let sent = false;
    for (const s of this._sessions.values()) sent = this._sendOn(s.channels.get(label), data) || sent;
    return sent;
  }

  sendStringTo(peerId, label, data) {
    return this._sendOn(this.getDataChannel(peerId, label), data);
  }

  sendJSON(label, data) {
    return this.sendString(label, JSON.stringify(data));
  }

  sendJSONTo(peerId, label, data) {
    return this.sendStringTo(peerId, label, JSON.stringify(data));
  }

  sendBinary(label, data) {
    const bytes = toArrayBuffer(data);
    let sent = false;
    for (const s of this._sessions.values()) sent = this._sendOn(s.channels.get(label), bytes) || sent;
    return sent;
  }

  sendBinaryTo(peerId, label, data) {
    return this._sendOn(this.getDataChannel(peerId, label), toArrayBuffer(data));
  }

  // -- mute and screen share ----------------------------------------------------------------

  muteAudio(muted) {
    this.isAudioMuted = Boolean(muted);
    this._applyMute();
  }

  muteVideo(muted) {
    this.isVideoMuted = Boolean(muted);
    this._applyMute();
  }

  /** Muting disables the outgoing tracks: the remote side receives silence and black frames. */
  _applyMute() {
    if (!this._localStream) return;
    for (const t of this._localStream.getAudioTracks()) t.enabled = !this.isAudioMuted;
    for (const t of this._localStream.getVideoTracks()) t.enabled = !this.isVideoMuted;
    if (this._cameraTrack) this._cameraTrack.enabled = !this.isVideoMuted;
  }

  /** Send the screen instead of the camera (replaceTrack), or as a new track if there is none. */
  async startScreenShare(options = { video: true, audio: false }) {
    if (this.isScreenSharing) return;
    if (this._state === 'idle') {
      throw new Error('startScreenShare() needs a call: connect() first');
    }
    const display = await mediaDevices().getDisplayMedia(options);
    const screen = display.getVideoTracks()[0];
    for (const t of display.getAudioTracks()) t.stop(); // display audio is not sent
    if (!screen) throw new Error('Failed to get screen video track');
    if (this._state === 'idle') {
      screen.stop(); // hung up while the picker was open
      return;
    }
    if (!this._localStream) {
      this._localStream = new MediaStream();
      this._ownsLocalStream = true;
    }
    const camera = this._cameraTrack;
    if (camera) this._localStream.removeTrack(camera);
    this._localStream.addTrack(screen);
    this._screenTrack = screen;
    screen.enabled = !this.isVideoMuted;
    // Text on a screen must stay sharp: lower the frame rate, not the resolution, under load.
    if (!screen.contentHint) screen.contentHint = 'detail';
    screen.addEventListener('ended', () => {
      if (this._screenTrack === screen) this.stopScreenShare();
    });
    this.isScreenSharing = true;
    await Promise.all([...this._sessions.values()].map((s) => this._sendScreen(s, camera, screen)));
    this._emit('onScreenShareStart');
  }

  async _sendScreen(s, camera, screen) {
    const sender = s.pc.getSenders().find((x) => x.track && (x.track === camera || x.track.kind === 'video'));
    if (sender) await sender.replaceTrack(screen);
    else s.addedSenders.push(s.pc.addTrack(screen, this._localStream)); // renegotiates
  }

  async stopScreenShare() {
    const screen = this._screenTrack;
    if (!screen) return;
    this._stopScreenTrack();
    const camera = this._cameraTrack;
    if (this._localStream && camera) this._localStream.addTrack(camera);
    const tasks = [];
    for (const s of this._sessions.values()) {
      for (const sender of s.pc.getSenders()) {
        if (sender.track !== screen && !s.addedSenders.includes(sender)) continue;
        if (s.addedSenders.includes(sender)) s.pc.removeTrack(sender); // renegotiates
        else if (camera) tasks.push(sender.replaceTrack(camera));
      }
      s.addedSenders = [];
    }
    await Promise.all(tasks);
    this._emit('onScreenShareStop');
  }

  _stopScreenTrack() {
    const screen = this._screenTrack;
    if (!screen) return;
    this._screenTrack = null;
    this.isScreenSharing = false;
    screen.stop();
    if (this._localStream) this._localStream.removeTrack(screen);
  }

  // -- quality ------------------------------------------------------------------------------

  async getRawStats(peerId) {
    const s = this._sessions.get(peerId);
    return s ? s.pc.getStats() : null;
  }

  async getAllRawStats() {
    const all = new Map();
    for (const [id, s] of this._sessions) all.set(id, await s.pc.getStats());
    return all;
  }

  /** RTT, loss and bitrates for one peer. Rates cover the interval since the previous call. */
  async getQualitySummary(peerId) {
    const s = this._sessions.get(peerId);
    if (!s) return null;
    const stats = await s.pc.getStats();
    const summary = qualitySummary(stats, s.lastStats);
    s.lastStats = stats;
    return summary;
  }

  async getAllQualitySummaries() {
    const all = new Map();
    for (const id of [...this._sessions.keys()]) {
      const summary = await this.getQualitySummary(id);
      if (summary) all.set(id, summary);
    }
    return all;
  }

  // -- recording ----------------------------------------------------------------------------

  /** Record 'local' or a remote peer's stream. Null if there is no such stream or no format. */
  startRecording(streamId, options = {}) {
    const existing = this._recordings.get(streamId);
    if (existing && existing.state !== 'inactive') return existing;
    const stream = streamId === 'local' ? this._localStream : this.getRemoteStream(streamId);
    if (!stream) return null;
    const mimeType = pickMimeType(stream, options.mimeType);
    if (!mimeType) return null;
    const init = { mimeType };
    if (options.audioBitsPerSecond) init.audioBitsPerSecond = options.audioBitsPerSecond;
    if (options.videoBitsPerSecond) init.videoBitsPerSecond = options.videoBitsPerSecond;
    const recorder = new MediaRecorder(stream, init);
    // Chrome decodes remote audio only for a playing media element; without one the recorder
    // waits for audio forever and returns an empty Blob. A muted element keeps it flowing.
    const sink = streamId !== 'local' && stream.getAudioTracks().length > 0 ? playMuted(stream) : null;
    const handle = new RecordingHandle(streamId, recorder, mimeType, (h) => {
      if (sink) sink.srcObject = null;
      if (this._recordings.get(streamId) === h) this._recordings.delete(streamId);
    });
    this._recordings.set(streamId, handle);
    recorder.start(1000);
    return handle;
  }

  isRecording(streamId) {
    return this._recordings.get(streamId)?.state === 'recording';
  }

  /** Stop every recording; a recorder that does not finish within 5 s is left out. */
  async stopAllRecordings() {
    const blobs = new Map();
    const pending = [...this._recordings.values()].map(async (handle) => {
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, STOP_RECORDING_TIMEOUT_MS, null);
      });
      const blob = await Promise.race([handle.stop(), timeout]);
      clearTimeout(timer);
      if (blob) blobs.set(handle.streamId, blob);
      else console.warn(`rtcroom: recording ${handle.streamId} did not stop within 5 s`);
    });
    await Promise.all(pending);
    this._recordings.clear();
    return blobs;
  }
}

function playMuted(stream) {
  const element = document.createElement('audio');
  element.muted = true;
  element.srcObject = stream;
  element.play().catch(() => {});
  return element;
}

function toArrayBuffer(data) {
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) {
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  throw new TypeError('sendBinary needs an ArrayBuffer or a typed array such as Uint8Array');
}

// ---------------------------------------------------------------------------------------------
// Quality summary from two getStats() reports

function selectedPair(stats) {
  for (const report of stats.values()) {
    if (report.type === 'transport' && report.selectedCandidatePairId) {
      return stats.get(report.selectedCandidatePairId) ?? null;
    }
  }
  // Browsers without transport stats: the nominated pair in use.
  for (const report of stats.values()) {
    if (report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') {
      return report;
    }
  }
  return null;
}

function rate(current, previous, field) {
  if (!previous || current[field] === undefined || previous[field] === undefined) return undefined;
  const seconds = (current.timestamp - previous.timestamp) / 1000;
  if (!(seconds > 0)) return undefined;
  return Math.max(0, ((current[field] - previous[field]) * 8) / seconds);
}

/**
 * A ConnectionQualitySummary from a getStats() report and, optionally, the report before it
 * (rates and loss then cover the time between the two). getQualitySummary() uses it; it is
 * exported for apps that collect stats themselves.
 */
export function qualitySummary(stats, previous = null) {
  const summary = { timestamp: Date.now() };
  const bitrate = {};
  const setRate = (kind, direction, value) => {
    if (value === undefined) return;
    bitrate[kind] = bitrate[kind] || {};
    bitrate[kind][direction] = (bitrate[kind][direction] ?? 0) + value;
  };
  let lost = 0;
  let received = 0;
  let sawInbound = false;

  const pair = selectedPair(stats);
  if (pair) {
    if (pair.currentRoundTripTime !== undefined) summary.rtt = pair.currentRoundTripTime * 1000;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    summary.candidatePair = {
      localType: local?.candidateType,
      remoteType: remote?.candidateType,
      protocol: local?.protocol,
      usingRelay: local?.candidateType === 'relay' || remote?.candidateType === 'relay',
    };
  }
  for (const report of stats.values()) {
    const before = previous?.get(report.id);
    if (report.type === 'inbound-rtp') {
      if (report.kind === 'audio' && report.jitter !== undefined) summary.jitter = report.jitter * 1000;
      if (report.kind === 'video') {
        summary.video = {
          framesPerSecond: report.framesPerSecond,
          framesDropped: report.framesDropped,
          frameWidth: report.frameWidth,
          frameHeight: report.frameHeight,
        };
      }
      if (report.packetsLost !== undefined && report.packetsReceived !== undefined) {
        sawInbound = true;
        lost += Math.max(0, report.packetsLost - (before?.packetsLost ?? 0));
        received += Math.max(0, report.packetsReceived - (before?.packetsReceived ?? 0));
      }
      setRate(report.kind, 'inbound', rate(report, before, 'bytesReceived'));
    } else if (report.type === 'outbound-rtp') {
      setRate(report.kind, 'outbound', rate(report, before, 'bytesSent'));
    }
  }
  // Loss over the interval since the previous summary (or since the start, the first time).
  if (sawInbound && lost + received > 0) summary.packetLossPercent = (lost / (lost + received)) * 100;
  else if (sawInbound && previous) summary.packetLossPercent = 0;
  if (Object.keys(bitrate).length > 0) summary.bitrate = bitrate;
  return summary;
}
