// The call: one room, a signaling socket, and one PeerSession per remote peer (a full mesh in
// which the newcomer offers).

import { sendOn, toArrayBuffer } from './channels.js';
import { asError, namedError } from './errors.js';
import { LocalMedia } from './media.js';
import { IceServerRefresh, credentialsExpireAt, serverIceServers } from './iceservers.js';
import { Recordings } from './recording.js';
import { finalCloseError, withToken } from './refusals.js';
import { PeerRecovery } from './recovery.js';
import { FRAMES_LOST, RESUME_REFUSED_PREFIX, ResumeState } from './resume.js';
import { PeerSession } from './session.js';
import { SignalingSocket, reconnectDelay, resolveSignalUrl } from './signaling.js';
import { captureScreen } from './sources.js';

/** While a peer is still connected, reconnect attempts never run out and wait at most this. */
const KEPT_CALL_MAX_DELAY_MS = 10000;

/**
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').WebRTCCallOptions} WebRTCCallOptions
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').WebRTCClientCallbacks} WebRTCClientCallbacks
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').WebRTCConnectionState} WebRTCConnectionState
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').WebRTCCallState} WebRTCCallState
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').DataChannelConfig} DataChannelConfig
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').DataChannelState} DataChannelState
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').ConnectionQualitySummary} ConnectionQualitySummary
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').RecordingOptions} RecordingOptions
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').RecordingHandle} RecordingHandle
 * @typedef {import('./session.js').SessionOwner} SessionOwner
 */

const DEFAULT_ICE_SERVERS = [
  { urls: 'stun:stun.l.google.com:19302' },
  { urls: 'stun:stun1.l.google.com:19302' },
];

/**
 * A WebRTC call in one room: a signaling WebSocket and one RTCPeerConnection per remote peer.
 * States: 'idle' -> 'connecting' -> 'signaling' -> 'negotiating' -> 'connected'.
 */
export class WebRTCCall {
  /** @param {WebRTCCallOptions} options */
  constructor(options) {
    if (!options || typeof options.roomId !== 'string' || options.roomId === '') {
      throw new TypeError("WebRTCCall needs a roomId, e.g. new WebRTCCall({roomId: 'demo', ...})");
    }
    this.options = {
      autoConnect: true,
      autoReconnect: true,
      maxReconnectAttempts: 5,
      resume: true,
      connectionTimeout: 30000,
      iceGatheringTimeout: 10000,
      ...options,
    };
    this._signalUrl = withToken(resolveSignalUrl(options.signalUrl), options.token);
    /** @type {RTCIceServer[] | null} the server's (joined.iceServers), used when the app gave none */
    this._serverIceServers = null;
    /** @type {IceServerRefresh | null} */
    this._iceRefresh = null;
    /** @type {Partial<WebRTCClientCallbacks>} */
    this.callbacks = { ...(options.callbacks || {}) };
    /** @type {WebRTCConnectionState} */
    this._state = 'idle';
    /** @type {Error | null} */
    this.error = null;
    /** @type {string | null} */
    this.peerId = null;
    /** @type {Map<string, PeerSession>} */
    this._sessions = new Map(); // remoteId -> PeerSession
    this._media = new LocalMedia();
    /** @type {SignalingSocket | null} */
    this._socket = null;
    this._joined = false;
    this._epoch = 0; // bumped by connect/hangup/timeout: stale async work checks it
    this._signalEpoch = 0; // bumped on every joined
    /** @type {Promise<void>} */
    this._queue = Promise.resolve();
    this._reconnectAttempts = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this._reconnectTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this._timeoutTimer = null;
    this._recordings = new Recordings();
    this._disposed = false;
    /** The resume token, the away flag, the outbox and the peers a resume did not list. */
    this._resume = new ResumeState();
    /** @type {SessionOwner} */
    this._sessionOwner = {
      localId: () => this.peerId,
      signal: (message) => this._send(message),
      emit: (name, ...args) => this._emit(name, ...args),
      fail: (error) => this._fail(error),
      changed: () => {
        this._dropFailedUnlisted();
        this._recovery.update();
        this._updateConnectionState();
      },
      polite: (remoteId) => this._polite(remoteId),
      negotiating: (remoteId) => {
        if (this._state !== 'signaling') return;
        this._setState('negotiating', 'received SDP');
        this._emit('onNegotiationStart', remoteId);
      },
      iceFailed: (s) => {
        // A first connection that never came up: only this peer is lost, the rest of the mesh
        // and the signaling socket stay up. (A path that worked and broke is repaired instead.)
        this._fail(new Error(`ICE connection failed for peer ${s.remoteId}`));
        this._closeSession(s.remoteId);
      },
      pathBroken: (s) => this._recovery.broken(s),
    };
    this._recovery = new PeerRecovery({
      sessions: this._sessions,
      replace: (old, rebuild, isOfferer) => this._replaceSession(old, rebuild, isOfferer),
      polite: (remoteId) => this._polite(remoteId),
      emit: (name, ...args) => this._emit(name, ...args),
    });
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
    return this._media.stream;
  }
  get isAudioMuted() {
    return this._media.audioMuted;
  }
  get isVideoMuted() {
    return this._media.videoMuted;
  }
  get isScreenSharing() {
    return this._media.screenTrack !== null;
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
  /** 'lost' while the call goes on without its signaling socket and resumes in the background. */
  get signalingState() {
    return this._resume.away ? 'lost' : 'open';
  }
  /** @returns {WebRTCCallState} */
  getState() {
    return {
      state: this._state,
      peerId: this.peerId,
      remotePeerIds: this.remotePeerIds,
      isAudioMuted: this.isAudioMuted,
      isVideoMuted: this.isVideoMuted,
      isScreenSharing: this.isScreenSharing,
      signalingState: this.signalingState,
    };
  }
  getLocalStream() {
    return this._media.stream;
  }
  /** @param {string} peerId */
  getRemoteStream(peerId) {
    return this._sessions.get(peerId)?.remoteStream ?? null;
  }
  getRemoteStreams() {
    /** @type {Map<string, MediaStream>} */
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
      this._media.release();
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
    this._media.stopScreen();
    this._media.release();
    this.peerId = null;
    this._joined = false;
    this._resume.reset();
    this._setState('idle', 'hangup');
  }

  /** hangup() for good: recordings are stopped and connect() refuses afterwards. */
  dispose() {
    this.stopAllRecordings();
    this.hangup();
    this._disposed = true;
  }

  /** @param {number} epoch */
  async _ensureLocalStream(epoch) {
    if (this._media.stream || this.isDataOnly) return;
    const stream = await this._media.open(this.options.media, () => epoch === this._epoch);
    if (stream) this._emit('onLocalStream', stream);
  }

  // -- state --------------------------------------------------------------------------------

  /**
   * @param {WebRTCConnectionState} to
   * @param {string} reason
   */
  _setState(to, reason) {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    if (to === 'connecting' || to === 'negotiating') this._startTimeout();
    else this._clearTimeout();
    this._emit('onStateChange', from, to, reason);
    if (to === 'connected') this._emit('onConnect');
    if (to === 'idle') {
      this._stopIceRefresh();
      const why = reason === 'hangup' ? 'hangup' : reason.includes('timeout') ? 'timeout' : 'error';
      this._emit('onDisconnect', why);
    }
  }

  _updateConnectionState() {
    if (this._state === 'idle') return;
    if (this._resume.away) {
      // No socket: 'connected' while a peer still is, else 'connecting' as a reconnect is.
      if (this._anyPeerConnected()) this._setState('connected', 'peer connected');
      else if (this._state === 'connected') this._setState('connecting', 'reconnecting: no connected peers');
      return;
    }
    if (!this._joined) return;
    const sessions = [...this._sessions.values()];
    // A peer being repaired still counts: its own events say it is away. Once connected, a
    // channel the app opens later does not count against it.
    const connected = this._state === 'connected';
    const up = (/** @type {PeerSession} */ s) =>
      (connected ? s.connected : isUp(s)) || this._recovery.has(s.remoteId);
    if (sessions.some(up)) this._setState('connected', 'peer connected');
    else if (sessions.length === 0) {
      if (this._state !== 'signaling') this._setState('signaling', 'all peers left');
    } else if (this._state === 'connected') this._setState('negotiating', 'no connected peers');
  }

  /** A peer connected, or being repaired (recovery.js): the call is worth keeping. */
  _anyPeerConnected() {
    for (const s of this._sessions.values()) {
      if (s.connected || this._recovery.has(s.remoteId)) return true;
    }
    return false;
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
      this._resume.reset();
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

  /**
   * Calls the app's callback `name`; an exception in it is logged, never thrown into the call.
   * @template {keyof WebRTCClientCallbacks} K
   * @param {K} name
   * @param {Parameters<WebRTCClientCallbacks[K]>} args
   */
  _emit(name, ...args) {
    const fn = this.callbacks[name];
    if (typeof fn !== 'function') return;
    try {
      /** @type {(...a: unknown[]) => void} */ (fn)(...args);
    } catch (err) {
      console.error(`rtcroom: callbacks.${name} threw`, err);
    }
  }

  /** @param {Error} error */
  _fail(error) {
    this.error = error;
    this._emit('onError', error, this._state);
  }

  // -- signaling socket ---------------------------------------------------------------------

  /** @param {number} epoch */
  _openSocket(epoch) {
    this._closeSocket();
    /** @type {SignalingSocket} */
    let socket;
    try {
      socket = new SignalingSocket(this._signalUrl, {
        open: () => {
          if (socket !== this._socket) return;
          const reconnecting = this._reconnectAttempts > 0;
          const token = this._resume.away ? this._resume.token : null;
          if (token === null) this._setState('signaling', 'WebSocket opened');
          socket.send(this._joinFrame(token));
          if (reconnecting) this._emit('onReconnected');
        },
        message: (msg) => {
          if (socket !== this._socket) return;
          // One message at a time, in order: overlapping SDP handlers would race.
          this._queue = this._queue
            .then(() => (epoch === this._epoch ? this._handleSignal(msg) : undefined))
            .catch((err) => {
              if (epoch === this._epoch) this._fail(asError(err));
            });
        },
        invalid: () => {
          if (socket === this._socket) this._fail(new Error('Invalid signaling message'));
        },
        error: () => {
          // While away, each failed attempt is expected (onSignalingLost told the app).
          if (socket === this._socket && !this._resume.away) {
            this._fail(new Error('WebSocket connection error'));
          }
        },
        close: (code, reason) => {
          if (socket !== this._socket) return;
          this._socket = null;
          const final = finalCloseError(code, reason);
          if (final) this._refused(epoch, final);
          else this._onSocketLost(epoch, 'WebSocket closed');
        },
      });
    } catch (err) {
      this._fail(asError(err));
      this._onSocketLost(epoch, 'WebSocket failed');
      return;
    }
    this._socket = socket;
  }

  _closeSocket() {
    const socket = this._socket;
    this._socket = null;
    if (socket) socket.close();
  }

  /**
   * A frame for the server. While the socket is away and the call resumes, frames wait in the
   * outbox (true: they will be sent after the resume).
   * @param {object} msg
   */
  _send(msg) {
    if (this._resume.away) return this._resume.enqueue(msg);
    return this._socket ? this._socket.send(msg) : false;
  }

  /**
   * `join` for a fresh join (opting in to resume unless `resume: false`) or a resume.
   * @param {string | null} resumeToken
   */
  _joinFrame(resumeToken) {
    /** @type {{t: 'join', roomId: string, resume?: true, resumeToken?: string}} */
    const frame = { t: 'join', roomId: this.options.roomId };
    if (resumeToken !== null) frame.resumeToken = resumeToken;
    else if (this.options.resume !== false) frame.resume = true;
    return frame;
  }

  /**
   * The socket dropped. Peer connections stay up (media keeps flowing) until we rejoin.
   * @param {number} epoch
   * @param {string} reason
   */
  _onSocketLost(epoch, reason) {
    if (epoch !== this._epoch || this._state === 'idle') return;
    if (this._keepCallWhileAway(reason)) {
      this._reconnectLater(epoch, reason);
      return;
    }
    this._joined = false;
    this.peerId = null;
    if (!this.options.autoReconnect) {
      this._epoch++;
      this._closeAllSessions();
      this._media.release();
      this._setState('idle', reason);
      return;
    }
    const attempt = this._reconnectAttempts + 1;
    if (attempt > this.options.maxReconnectAttempts) {
      this._epoch++;
      this._clearTimers();
      this._closeAllSessions();
      this._media.release();
      this._emit('onReconnectFailed');
      this._setState('idle', 'reconnect-failed');
      return;
    }
    this._reconnectAttempts = attempt;
    const delay = reconnectDelay(attempt);
    this._emit('onReconnecting', attempt);
    this._setState('connecting', `reconnecting:${reason}`);
    if (this._reconnectTimer !== null) clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (epoch === this._epoch && this._state === 'connecting') this._openSocket(epoch);
    }, delay);
  }

  /**
   * Whether this socket loss leaves the call as it is (a resume follows): the server gave us a
   * resume token, we had joined (or are already away), and reconnecting is on.
   * @param {string} reason
   */
  _keepCallWhileAway(reason) {
    const resume = this._resume;
    if (resume.away) return true;
    if (!this._joined || resume.token === null || !this.options.autoReconnect) return false;
    if (this.options.resume === false) return false;
    resume.away = true;
    this._joined = false;
    this._emit('onSignalingLost', reason);
    this._updateConnectionState();
    return true;
  }

  /**
   * Schedules the next resume attempt. While a peer is connected attempts never run out (the
   * call is worth keeping); with none, maxReconnectAttempts applies as for a plain reconnect.
   * @param {number} epoch
   * @param {string} reason
   */
  _reconnectLater(epoch, reason) {
    const attempt = this._reconnectAttempts + 1;
    const kept = this._anyPeerConnected();
    if (!kept && attempt > this.options.maxReconnectAttempts) {
      this._epoch++;
      this._clearTimers();
      this._closeAllSessions();
      this._media.release();
      this.peerId = null;
      this._resume.reset();
      this._emit('onReconnectFailed');
      this._setState('idle', 'reconnect-failed');
      return;
    }
    this._reconnectAttempts = attempt;
    const delay = Math.min(reconnectDelay(attempt), kept ? KEPT_CALL_MAX_DELAY_MS : Infinity);
    this._emit('onReconnecting', attempt);
    if (!kept) this._setState('connecting', `reconnecting:${reason}`);
    if (this._reconnectTimer !== null) clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (epoch === this._epoch && this._state !== 'idle') this._openSocket(epoch);
    }, delay);
  }

  /**
   * The server closed the socket for a reason no reconnect can fix (a refused token, a
   * replaced identity): report it and end the call.
   * @param {number} epoch
   * @param {Error} error
   */
  _refused(epoch, error) {
    if (epoch !== this._epoch || this._state === 'idle') return;
    this._fail(error);
    this._epoch++;
    this._clearTimers();
    this._closeAllSessions();
    this._media.release();
    this.peerId = null;
    this._joined = false;
    this._resume.reset();
    this._setState('idle', 'signaling-refused');
  }

  /** @param {any} msg a frame from the server */
  async _handleSignal(msg) {
    switch (msg && msg.t) {
      case 'joined':
        return this._onJoined(msg);
      case 'peer-joined':
        if (typeof msg.peerId !== 'string') return;
        this._resume.listed(msg.peerId);
        // A peer that resumed on a server that had forgotten it: we still have its connection.
        // An offer we sent it before it was back went nowhere: send it again.
        if (this._sessions.has(msg.peerId)) {
          resendOffer(/** @type {PeerSession} */ (this._sessions.get(msg.peerId)));
          return;
        }
        this._emit('onPeerJoined', msg.peerId);
        this._session(msg.peerId, false);
        return;
      case 'peer-left':
        this._resume.listed(msg.peerId);
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

  /** @param {{peerId: string, peers?: unknown, iceServers?: unknown, resumed?: unknown, resumeToken?: unknown, resumeGrace?: unknown}} msg */
  async _onJoined(msg) {
    const resume = this._resume;
    resume.remember(msg.resumeToken, msg.resumeGrace);
    const wasAway = resume.away;
    if (wasAway && msg.resumed === true && msg.peerId === this.peerId) return this._onResumed(msg);
    if (wasAway) {
      // Not our old id: a fresh join after all. The old sessions are replaced below.
      resume.away = false;
      resume.clearOutbox();
      this._emit('onSignalingRestored', false);
    }
    this.peerId = msg.peerId;
    this._useServerIceServers(serverIceServers(msg.iceServers));
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
      await session.makeOffer();
    }
  }

  /**
   * The server took us back under the same peer id: the peer connections were never touched.
   * Send what waited, offer to peers that joined meanwhile, and keep the peers it did not list
   * while their connections are up (they may not have resumed yet).
   * @param {{peerId: string, peers?: unknown, iceServers?: unknown}} msg
   */
  async _onResumed(msg) {
    const resume = this._resume;
    resume.away = false;
    this._joined = true;
    this._reconnectAttempts = 0;
    this._useServerIceServers(serverIceServers(msg.iceServers));
    const overflowed = resume.overflowed;
    resume.kept = new Set(this._sessions.keys());
    for (const frame of resume.takeOutbox()) this._socket?.send(frame);
    const peers = Array.isArray(msg.peers) ? msg.peers.filter((p) => typeof p === 'string') : [];
    for (const id of this._sessions.keys()) {
      if (!peers.includes(id)) resume.unlisted(id, () => this._dropUnlisted(id));
    }
    this._emit('onSignalingRestored', true);
    if (overflowed) this._repairSessions();
    if (this._state === 'connecting') {
      // Nobody was connected while away: back to where a join with these peers would be.
      this._setState(this._sessions.size > 0 ? 'negotiating' : 'signaling', 'resumed');
    }
    this._updateConnectionState();
    const epoch = this._epoch;
    for (const id of peers) {
      if (epoch !== this._epoch) return;
      if (this._sessions.has(id)) continue;
      this._emit('onPeerJoined', id);
      const session = this._session(id, true);
      this._emit('onNegotiationStart', id);
      await session.makeOffer();
    }
  }

  /**
   * A peer the resume did not list, that did not come back within the grace window.
   * @param {string} remoteId
   */
  _dropUnlisted(remoteId) {
    if (!this._sessions.has(remoteId)) return;
    this._closeSession(remoteId);
    this._updateConnectionState();
  }

  /** Unlisted peers whose connection failed or closed are gone: no need to wait for them. */
  _dropFailedUnlisted() {
    for (const id of this._resume.unlistedIds()) {
      const s = this._sessions.get(id);
      const state = s?.pc.connectionState;
      if (state === 'failed' || state === 'closed') {
        this._resume.listed(id);
        this._dropUnlisted(id);
      }
    }
  }

  /**
   * Frames to or from us were lost while we were away: negotiate again with every peer from
   * before the resume whose connection is not up (an offer that never got its answer is rolled
   * back first). Offers made since, to peers that joined meanwhile, are fresh: left alone.
   */
  _repairSessions() {
    for (const s of this._sessions.values()) {
      if (s.closed || !this._resume.kept.has(s.remoteId)) continue;
      // A renegotiation (or a repair by recovery.js) whose offer or answer was lost: again.
      if (s.connected || this._recovery.has(s.remoteId)) resendOffer(s);
      else repair(s).catch((err) => console.warn(`rtcroom: could not renegotiate with ${s.remoteId}`, err));
    }
  }

  /**
   * The server's STUN/TURN list (fresh on every join), kept up to date on a long call. An
   * app's own iceServers option wins: then the server's list is not used.
   * @param {RTCIceServer[] | null} servers
   */
  _useServerIceServers(servers) {
    this._stopIceRefresh();
    this._serverIceServers = servers;
    if (servers === null || this.options.iceServers !== undefined) return;
    const epoch = this._epoch;
    this._iceRefresh = new IceServerRefresh(
      this._signalUrl,
      (fresh) => {
        if (epoch !== this._epoch) return;
        this._serverIceServers = fresh;
        for (const s of this._sessions.values()) {
          try {
            s.pc.setConfiguration({ ...s.pc.getConfiguration(), iceServers: fresh });
          } catch (err) {
            console.warn('rtcroom: could not give a peer connection fresh ICE servers', err);
          }
        }
      },
      (error) => console.warn(`rtcroom: ${error.message}`),
    );
    this._iceRefresh.schedule(credentialsExpireAt(servers));
  }

  _stopIceRefresh() {
    if (this._iceRefresh) this._iceRefresh.stop();
    this._iceRefresh = null;
  }

  /** @param {string} message */
  _onServerError(message) {
    if (message === FRAMES_LOST) {
      this._repairSessions();
      return;
    }
    if (message.startsWith(RESUME_REFUSED_PREFIX) && this._resume.away) {
      this._rejoinAfterRefusal(message);
      return;
    }
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
    this._media.release();
    this._setState('idle', error.name === 'RoomFullError' ? 'room-full' : 'join-rejected');
  }

  /**
   * The server would not take us back (the token expired, we timed out of the room, ...): join
   * afresh on the same socket, as a reconnect without resume does. The app sees the old peers
   * leave and the room's peers join.
   * @param {string} message
   */
  _rejoinAfterRefusal(message) {
    console.warn(`rtcroom: ${message}; joining the room again as a new peer`);
    this._resume.reset();
    this._closeAllSessions();
    this.peerId = null;
    this._emit('onSignalingRestored', false);
    this._setState('signaling', 'resume refused');
    this._socket?.send(this._joinFrame(null));
  }

  /**
   * @param {unknown} from
   * @param {any} description
   */
  async _onRemoteDescription(from, description) {
    if (typeof from !== 'string' || !description || typeof description.type !== 'string') return;
    const isOffer = description.type === 'offer';
    if (!isOffer && !this._sessions.has(from)) return; // an answer to an offer we never made
    const current = this._sessions.get(from);
    const n = Number.isInteger(description.rtcroomRebuild) ? description.rtcroomRebuild : 0;
    const s = current ? this._recovery.target(current, description) : this._session(from, false, n);
    if (!s) return; // a description of a connection that was replaced
    if (await s.acceptDescription(description)) this._emit('onNegotiationComplete', from);
  }

  /**
   * @param {string} from
   * @param {unknown} candidate
   */
  async _onRemoteCandidate(from, candidate) {
    const s = this._sessions.get(from);
    if (!s || !candidate || typeof candidate !== 'object') return;
    await s.addRemoteCandidate(candidate);
  }

  // -- peer sessions ------------------------------------------------------------------------

  /** @param {string} remoteId */
  _polite(remoteId) {
    if (typeof this.options.polite === 'boolean') return this.options.polite;
    return !(/** @type {string} */ (this.peerId) > remoteId); // the greater id is impolite, as in Agentuity's client
  }

  /**
   * The session with `remoteId`, created if there is none.
   * @param {string} remoteId
   * @param {boolean} isOfferer
   * @param {number} [rebuild] which rebuilt connection to this peer it is (recovery.js)
   */
  _session(remoteId, isOfferer, rebuild = 0) {
    const existing = this._sessions.get(remoteId);
    if (existing) return existing;
    const settings = {
      iceServers: this.options.iceServers ?? this._serverIceServers ?? DEFAULT_ICE_SERVERS,
      iceTransportPolicy: this.options.iceTransportPolicy,
      iceGatheringTimeout: this.options.iceGatheringTimeout,
      localStream: this._media.stream,
    };
    const owner = this._sessionOwner;
    const s = new PeerSession(remoteId, this._signalEpoch, isOfferer, settings, owner, rebuild);
    this._sessions.set(remoteId, s);
    if (isOfferer && rebuild === 0) {
      for (const config of this.options.dataChannels || []) s.openChannel(config);
    }
    return s;
  }

  /**
   * A fresh connection numbered `rebuild` in place of `old` (recovery.js); the offerer opens
   * the channels `old` had again, under their labels and options.
   * @param {PeerSession} old
   * @param {number} rebuild
   * @param {boolean} isOfferer
   */
  _replaceSession(old, rebuild, isOfferer) {
    this._sessions.delete(old.remoteId);
    old.close();
    const s = this._session(old.remoteId, isOfferer, rebuild);
    s.remoteRestartsIce = old.remoteRestartsIce;
    for (const config of old.channelConfigs.values()) {
      if (isOfferer) s.openChannel(config);
      else s.channelConfigs.set(config.label, config);
    }
    if (isOfferer) s.makeOffer().catch((err) => this._fail(asError(err)));
    return s;
  }

  /**
   * @param {string} remoteId
   * @param {boolean} [announce] fire onPeerLeft
   */
  _closeSession(remoteId, announce = true) {
    const s = this._sessions.get(remoteId);
    this._recovery.end(remoteId);
    if (!s) return;
    this._sessions.delete(remoteId);
    this._resume.listed(remoteId);
    s.close();
    if (announce) this._emit('onPeerLeft', remoteId);
  }

  _closeAllSessions() {
    for (const id of [...this._sessions.keys()]) this._closeSession(id);
  }

  // -- data channels ------------------------------------------------------------------------

  /**
   * A new channel on every current peer connection.
   * @param {DataChannelConfig} config
   */
  createDataChannel(config) {
    /** @type {Map<string, RTCDataChannel>} */
    const created = new Map();
    for (const [id, s] of this._sessions) created.set(id, s.openChannel(config));
    return created;
  }

  /**
   * @param {string} peerId
   * @param {string} label
   */
  getDataChannel(peerId, label) {
    return this._sessions.get(peerId)?.channels.get(label);
  }

  getDataChannelLabels() {
    /** @type {Set<string>} */
    const labels = new Set();
    for (const s of this._sessions.values()) for (const label of s.channels.keys()) labels.add(label);
    return [...labels];
  }

  /**
   * @param {string} peerId
   * @param {string} label
   * @returns {DataChannelState | null}
   */
  getDataChannelState(peerId, label) {
    return this.getDataChannel(peerId, label)?.readyState ?? null;
  }

  /** @param {string} label */
  closeDataChannel(label) {
    let closed = false;
    for (const s of this._sessions.values()) {
      const channel = s.channels.get(label);
      s.channelConfigs.delete(label);
      if (channel) {
        s.channels.delete(label);
        channel.close();
        closed = true;
      }
    }
    return closed;
  }

  /**
   * @param {string} label
   * @param {string} data
   */
  sendString(label, data) {
    let sent = false;
    for (const s of this._sessions.values()) sent = sendOn(s.channels.get(label), data) || sent;
    return sent;
  }

  /**
   * @param {string} peerId
   * @param {string} label
   * @param {string} data
   */
  sendStringTo(peerId, label, data) {
    return sendOn(this.getDataChannel(peerId, label), data);
  }

  /**
   * @param {string} label
   * @param {unknown} data
   */
  sendJSON(label, data) {
    return this.sendString(label, JSON.stringify(data));
  }

  /**
   * @param {string} peerId
   * @param {string} label
   * @param {unknown} data
   */
  sendJSONTo(peerId, label, data) {
    return this.sendStringTo(peerId, label, JSON.stringify(data));
  }

  /**
   * @param {string} label
   * @param {ArrayBuffer | ArrayBufferView} data
   */
  sendBinary(label, data) {
    const bytes = toArrayBuffer(data);
    let sent = false;
    for (const s of this._sessions.values()) sent = sendOn(s.channels.get(label), bytes) || sent;
    return sent;
  }

  /**
   * @param {string} peerId
   * @param {string} label
   * @param {ArrayBuffer | ArrayBufferView} data
   */
  sendBinaryTo(peerId, label, data) {
    return sendOn(this.getDataChannel(peerId, label), toArrayBuffer(data));
  }

  // -- mute and screen share ----------------------------------------------------------------

  /** @param {boolean} muted */
  muteAudio(muted) {
    this._media.audioMuted = Boolean(muted);
    this._media.applyMute();
  }

  /** @param {boolean} muted */
  muteVideo(muted) {
    this._media.videoMuted = Boolean(muted);
    this._media.applyMute();
  }

  /**
   * Send the screen instead of the camera (replaceTrack), or as a new track if there is none.
   * @param {DisplayMediaStreamOptions} [options]
   */
  async startScreenShare(options = { video: true, audio: false }) {
    if (this.isScreenSharing) return;
    if (this._state === 'idle') {
      throw new Error('startScreenShare() needs a call: connect() first');
    }
    const screen = await captureScreen(options);
    // (TypeScript narrows this._state across the await; hangup() may have changed it.)
    if (/** @type {WebRTCConnectionState} */ (this._state) === 'idle') {
      screen.stop(); // hung up while the picker was open
      return;
    }
    const { camera, stream } = this._media.useScreen(screen, () => this.stopScreenShare());
    await Promise.all([...this._sessions.values()].map((s) => s.sendScreen(camera, screen, stream)));
    this._emit('onScreenShareStart');
  }

  async stopScreenShare() {
    const screen = this._media.screenTrack;
    if (!screen) return;
    this._media.stopScreen();
    const camera = this._media.restoreCamera();
    const tasks = [...this._sessions.values()].flatMap((s) => s.stopScreen(screen, camera));
    await Promise.all(tasks);
    this._emit('onScreenShareStop');
  }

  // -- quality ------------------------------------------------------------------------------

  /** @param {string} peerId */
  async getRawStats(peerId) {
    const s = this._sessions.get(peerId);
    return s ? s.pc.getStats() : null;
  }

  async getAllRawStats() {
    /** @type {Map<string, RTCStatsReport>} */
    const all = new Map();
    for (const [id, s] of this._sessions) all.set(id, await s.pc.getStats());
    return all;
  }

  /**
   * RTT, loss and bitrates for one peer. Rates cover the interval since the previous call.
   * @param {string} peerId
   * @returns {Promise<ConnectionQualitySummary | null>}
   */
  async getQualitySummary(peerId) {
    const s = this._sessions.get(peerId);
    return s ? s.qualitySummary() : null;
  }

  async getAllQualitySummaries() {
    /** @type {Map<string, ConnectionQualitySummary>} */
    const all = new Map();
    for (const id of [...this._sessions.keys()]) {
      const summary = await this.getQualitySummary(id);
      if (summary) all.set(id, summary);
    }
    return all;
  }

  // -- recording ----------------------------------------------------------------------------

  /**
   * Record 'local' or a remote peer's stream. Null if there is no such stream or no format.
   * @param {string} streamId
   * @param {RecordingOptions} [options]
   * @returns {RecordingHandle | null}
   */
  startRecording(streamId, options = {}) {
    const stream = streamId === 'local' ? this._media.stream : this.getRemoteStream(streamId);
    return this._recordings.start(streamId, stream, options);
  }

  /** @param {string} streamId */
  isRecording(streamId) {
    return this._recordings.isRecording(streamId);
  }

  /** Stop every recording; a recorder that does not finish within 5 s is left out. */
  async stopAllRecordings() {
    return this._recordings.stopAll();
  }
}

/**
 * A peer connection that is up: ICE connected and every data channel it knows of open (so a
 * send right after onConnect is not lost to a channel still opening).
 * @param {PeerSession} s
 */
function isUp(s) {
  if (!s.connected) return false;
  for (const channel of s.channels.values()) if (channel.readyState === 'connecting') return false;
  return true;
}

/**
 * Sends our pending offer again (the first copy may have gone to a server that had not yet
 * re-admitted the peer). A copy that did arrive is harmless: perfect negotiation applies the
 * same offer again, and a second answer finds us stable and is ignored.
 * @param {PeerSession} s
 */
function resendOffer(s) {
  if (s.closed || s.makingOffer || s.pc.signalingState !== 'have-local-offer') return;
  s._signalDescription();
}

/**
 * Negotiates a session again, with fresh ICE credentials where the peer can restart ICE (not
 * an aiortc peer); an offer still waiting for an answer that was lost is rolled back first.
 * @param {PeerSession} s
 */
async function repair(s) {
  if (s.pc.signalingState === 'have-local-offer') {
    await s.pc.setLocalDescription({ type: 'rollback' });
  }
  if (s.closed) return;
  if (s.remoteRestartsIce) s.pc.restartIce();
  if (s.mayOffer) await s.makeOffer();
}
