// One RTCPeerConnection to one remote peer, negotiated with "perfect negotiation": either side
// may offer; on a collision the polite side rolls its own offer back and the impolite side
// ignores the incoming one. A path that breaks after it worked is reported to the owner
// (pathBroken), which repairs it: see recovery.js.

import { asError } from './errors.js';
import { createChannel, messageData } from './channels.js';
import { PING_CHANNEL_LABEL, answerRttPings } from './ping.js';
import { qualitySummary } from './quality.js';
import { DISCONNECTED_GRACE_MS } from './recovery.js';

const MAX_ICE_RESTARTS = 1;

/**
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').WebRTCClientCallbacks} WebRTCClientCallbacks
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').DataChannelConfig} DataChannelConfig
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').ConnectionQualitySummary} ConnectionQualitySummary
 */

/**
 * Calls the app's callback `name`, if it has one.
 * @typedef {<K extends keyof WebRTCClientCallbacks>(
 *   name: K, ...args: Parameters<WebRTCClientCallbacks[K]>) => void} Emit
 */

/**
 * What a PeerSession needs from the call that owns it.
 * @typedef {object} SessionOwner
 * @property {() => string | null} localId our peer id, the `from` of the frames we send
 * @property {(message: object) => boolean} signal sends a frame to the signaling server
 * @property {Emit} emit
 * @property {(error: Error) => void} fail
 * @property {() => void} changed a connection, track or channel state changed
 * @property {(remoteId: string) => boolean} polite
 * @property {(remoteId: string) => void} negotiating a remote description is about to be applied
 * @property {(session: PeerSession) => void} iceFailed ICE of a first connection that never
 *   came up failed even after an ICE restart
 * @property {(session: PeerSession) => void} pathBroken a path that worked broke (ICE failed,
 *   or disconnected for DISCONNECTED_GRACE_MS): the owner repairs it
 */

/**
 * @typedef {object} SessionSettings
 * @property {RTCIceServer[]} iceServers
 * @property {RTCIceTransportPolicy | undefined} iceTransportPolicy 'relay': TURN relays only
 * @property {number} iceGatheringTimeout milliseconds before warning of no ICE candidate
 * @property {MediaStream | null} localStream its tracks are sent from the start
 */

export class PeerSession {
  /**
   * @param {string} remoteId
   * @param {number} epoch the signaling epoch (one per joined socket) that creates the session
   * @param {boolean} isOfferer the newcomer offers; the other side waits for its offer
   * @param {SessionSettings} settings
   * @param {SessionOwner} owner
   * @param {number} [rebuild] 0 for the first connection to this peer, N for its N-th rebuild
   */
  constructor(remoteId, epoch, isOfferer, settings, owner, rebuild = 0) {
    this.remoteId = remoteId;
    this.rebuild = rebuild;
    this.isOfferer = isOfferer;
    /** false once the peer said rtcroomIceRestart: false (a Python peer): rebuild instead */
    this.remoteRestartsIce = true;
    /** @type {Map<string, DataChannelConfig>} every app channel this connection had, by label */
    this.channelConfigs = new Map();
    this.wasConnected = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.disconnectTimer = null;
    /** @type {RTCConfiguration} */
    const config = { iceServers: settings.iceServers };
    if (settings.iceTransportPolicy) config.iceTransportPolicy = settings.iceTransportPolicy;
    this.pc = new RTCPeerConnection(config);
    this.epoch = epoch;
    /** @type {Map<string, RTCDataChannel>} */
    this.channels = new Map(); // label -> RTCDataChannel
    /** @type {MediaStream | null} */
    this.remoteStream = null;
    /** @type {RTCIceCandidateInit[]} */
    this.pendingCandidates = [];
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.mayOffer = isOfferer; // passive side: only after the first remote offer
    this.offerWhenConnected = false; // a renegotiation waiting for the connection
    this.iceRestarts = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.gatherTimer = null;
    /** @type {RTCRtpSender[]} */
    this.addedSenders = []; // senders added by screen share (removed again on stop)
    /** @type {RTCStatsReport | null} */
    this.lastStats = null; // previous getStats() report, for per-interval rates
    this.closed = false;
    this._owner = owner;

    const pc = this.pc;
    const stream = settings.localStream;
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    pc.ontrack = (event) => this._onTrack(event);
    pc.ondatachannel = (event) => {
      if (event.channel.label === PING_CHANNEL_LABEL) answerRttPings(event.channel);
      else this._adoptChannel(event.channel);
    };
    pc.onicecandidate = (event) => {
      if (!event.candidate || this.closed) return;
      if (this.gatherTimer !== null) clearTimeout(this.gatherTimer);
      this.gatherTimer = null;
      const candidate = event.candidate.toJSON();
      owner.emit('onIceCandidate', remoteId, candidate);
      owner.signal({ t: 'ice', from: owner.localId(), to: remoteId, candidate });
    };
    pc.onnegotiationneeded = () => {
      // The passive side waits for the first offer; later either side may renegotiate.
      if (!this.mayOffer || this.closed) return;
      // A renegotiation that ends before DTLS is up leaves aiortc peers with media that never
      // starts, so wait for the connection (browsers do not mind).
      if (pc.remoteDescription && ['new', 'connecting'].includes(pc.connectionState)) {
        this.offerWhenConnected = true;
        return;
      }
      this.makeOffer().catch((err) => owner.fail(asError(err)));
    };
    pc.oniceconnectionstatechange = () => {
      if (this.closed) return;
      const state = pc.iceConnectionState;
      owner.emit('onIceStateChange', remoteId, state);
      if (state === 'connected' || state === 'completed') this.wasConnected = true;
      if (this.disconnectTimer !== null && state !== 'disconnected') {
        clearTimeout(this.disconnectTimer);
        this.disconnectTimer = null;
      }
      if (state === 'failed') this._onIceFailed();
      else if (state === 'disconnected' && this.wasConnected && this.disconnectTimer === null) {
        this.disconnectTimer = setTimeout(() => {
          this.disconnectTimer = null;
          if (!this.closed && pc.iceConnectionState === 'disconnected') owner.pathBroken(this);
        }, DISCONNECTED_GRACE_MS);
      }
      owner.changed();
    };
    pc.onconnectionstatechange = () => {
      if (this.closed) return;
      if (this.offerWhenConnected && pc.connectionState === 'connected') {
        this.offerWhenConnected = false;
        this.makeOffer().catch((err) => owner.fail(asError(err)));
      }
      owner.changed();
    };
    const gatheringTimeout = settings.iceGatheringTimeout;
    if (gatheringTimeout > 0) {
      this.gatherTimer = setTimeout(() => {
        this.gatherTimer = null;
        if (!this.closed) {
          console.warn(
            `rtcroom: no ICE candidate for peer ${remoteId} after ` +
              `${gatheringTimeout} ms; check iceServers and the network`,
          );
        }
      }, gatheringTimeout);
    }
  }

  get connected() {
    const ice = this.pc.iceConnectionState;
    return this.pc.connectionState === 'connected' || ice === 'connected' || ice === 'completed';
  }

  /**
   * The end of a repair: connected, every channel of this connection open, and at least one if
   * the old connection had any. (The answering side knows the channels only as they arrive,
   * and a peer may have closed one on purpose meanwhile, so the labels are not awaited.)
   */
  get repaired() {
    if (this.closed || this.pc.connectionState !== 'connected') return false;
    if (this.channelConfigs.size > 0 && this.channels.size === 0) return false;
    return [...this.channels.values()].every((channel) => channel.readyState === 'open');
  }

  /** We offered this rebuilt connection and no answer came yet (glare is possible). */
  get rebuildOfferPending() {
    return this.rebuild > 0 && this.isOfferer && !this.pc.remoteDescription;
  }

  /** Fresh ICE credentials on the same connection (fires negotiationneeded). */
  restartIce() {
    if (this.closed) return;
    this.mayOffer = true;
    this.pc.restartIce();
  }

  /** Ends the connection; its remote tracks are reported removed. */
  close() {
    this.closed = true;
    if (this.gatherTimer !== null) clearTimeout(this.gatherTimer);
    if (this.disconnectTimer !== null) clearTimeout(this.disconnectTimer);
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    if (this.remoteStream) {
      for (const track of this.remoteStream.getTracks()) {
        this._owner.emit('onTrackRemoved', this.remoteId, track);
      }
    }
    const pc = this.pc;
    pc.ontrack = pc.ondatachannel = pc.onicecandidate = pc.onnegotiationneeded = null;
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = null;
    pc.close();
  }

  // -- negotiation --------------------------------------------------------------------------

  async makeOffer() {
    if (this.makingOffer || this.closed || this.pc.signalingState !== 'stable') return;
    this.mayOffer = true;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.closed) return;
      this._signalDescription();
    } finally {
      this.makingOffer = false;
    }
  }

  /**
   * Applies a remote offer or answer (and answers an offer).
   * @param {RTCSessionDescriptionInit} description
   * @returns {Promise<boolean>} false if it was ignored (collision, stale answer, closed)
   */
  async acceptDescription(description) {
    const pc = this.pc;
    const isOffer = description.type === 'offer';
    const collision = isOffer && (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = !this._owner.polite(this.remoteId) && collision;
    if (this.ignoreOffer) return false; // the impolite side keeps its own offer; the other rolls back
    if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return false; // stale
    if (/** @type {any} */ (description).rtcroomIceRestart === false) this.remoteRestartsIce = false;
    this._owner.negotiating(this.remoteId);
    await pc.setRemoteDescription(description); // rolls back our own offer if we are polite
    if (this.closed) return false;
    for (const candidate of this.pendingCandidates.splice(0)) await this._addCandidate(candidate);
    if (isOffer) {
      this.mayOffer = true;
      await pc.setLocalDescription();
      if (this.closed) return false;
      this._signalDescription();
    }
    return true;
  }

  /** @param {RTCIceCandidateInit} candidate */
  async addRemoteCandidate(candidate) {
    if (!candidate.candidate) return; // end-of-candidates marker
    if (!this.pc.remoteDescription) this.pendingCandidates.push(candidate);
    else await this._addCandidate(candidate);
  }

  _signalDescription() {
    const owner = this._owner;
    const local = /** @type {RTCSessionDescription} */ (this.pc.localDescription);
    // rtcroomIceRestart: true tells a Python peer we take part in rebuilds (recovery.js).
    /** @type {{type: RTCSdpType, sdp: string, rtcroomIceRestart: boolean, rtcroomRebuild?: number}} */
    const description = { type: local.type, sdp: local.sdp, rtcroomIceRestart: true };
    if (this.rebuild > 0) description.rtcroomRebuild = this.rebuild;
    owner.signal({ t: 'sdp', from: owner.localId(), to: this.remoteId, description });
  }

  /** @param {RTCIceCandidateInit} candidate */
  async _addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!this.ignoreOffer) console.warn(`rtcroom: bad ICE candidate from ${this.remoteId}`, err);
    }
  }

  _onIceFailed() {
    if (this.wasConnected || this.rebuild > 0) {
      this._owner.pathBroken(this);
      return;
    }
    if (this.iceRestarts < MAX_ICE_RESTARTS) {
      this.iceRestarts++;
      this.pc.restartIce(); // fires negotiationneeded with fresh ICE credentials
      return;
    }
    this._owner.iceFailed(this);
  }

  // -- media --------------------------------------------------------------------------------

  /** @param {RTCTrackEvent} event */
  _onTrack(event) {
    const owner = this._owner;
    let stream = event.streams[0];
    if (!stream) {
      stream = this.remoteStream ?? new MediaStream();
      if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
    }
    if (stream !== this.remoteStream) {
      this.remoteStream = stream;
      stream.addEventListener('removetrack', (e) => {
        if (!this.closed) owner.emit('onTrackRemoved', this.remoteId, e.track);
      });
      owner.emit('onRemoteStream', this.remoteId, stream);
    }
    owner.emit('onTrackAdded', this.remoteId, event.track, stream);
    owner.changed();
  }

  /**
   * Sends the screen in place of the camera (replaceTrack), or as a new track if no video is
   * sent yet (that renegotiates).
   * @param {MediaStreamTrack | null} camera
   * @param {MediaStreamTrack} screen
   * @param {MediaStream} stream the local stream the screen track now belongs to
   */
  async sendScreen(camera, screen, stream) {
    const sender = this.pc
      .getSenders()
      .find((x) => x.track && (x.track === camera || x.track.kind === 'video'));
    if (sender) await sender.replaceTrack(screen);
    else this.addedSenders.push(this.pc.addTrack(screen, stream)); // renegotiates
  }

  /**
   * Stops sending the screen: the camera goes back where it was, added senders are removed.
   * @param {MediaStreamTrack} screen
   * @param {MediaStreamTrack | null} camera
   * @returns {Promise<void>[]} the pending replaceTrack calls
   */
  stopScreen(screen, camera) {
    const pc = this.pc;
    /** @type {Promise<void>[]} */
    const tasks = [];
    for (const sender of pc.getSenders()) {
      if (sender.track !== screen && !this.addedSenders.includes(sender)) continue;
      if (this.addedSenders.includes(sender)) pc.removeTrack(sender); // renegotiates
      else if (camera) tasks.push(sender.replaceTrack(camera));
    }
    this.addedSenders = [];
    return tasks;
  }

  /**
   * RTT, loss and bitrates; rates cover the interval since the previous call.
   * @returns {Promise<ConnectionQualitySummary>}
   */
  async qualitySummary() {
    const stats = await this.pc.getStats();
    const summary = qualitySummary(stats, this.lastStats);
    this.lastStats = stats;
    return summary;
  }

  // -- data channels ------------------------------------------------------------------------

  /**
   * @param {DataChannelConfig} config
   * @returns {RTCDataChannel}
   */
  openChannel(config) {
    const channel = createChannel(this.pc, config);
    this.channelConfigs.set(config.label, config);
    this._adoptChannel(channel);
    return channel;
  }

  /** @param {RTCDataChannel} channel */
  _adoptChannel(channel) {
    const owner = this._owner;
    const { label } = channel;
    if (!this.channelConfigs.has(label)) {
      /** @type {DataChannelConfig} */
      const config = { label, ordered: channel.ordered, protocol: channel.protocol };
      if (channel.maxPacketLifeTime !== null) config.maxPacketLifeTime = channel.maxPacketLifeTime;
      if (channel.maxRetransmits !== null) config.maxRetransmits = channel.maxRetransmits;
      this.channelConfigs.set(label, config);
    }
    channel.binaryType = 'arraybuffer';
    this.channels.set(label, channel);
    channel.onopen = () => {
      owner.emit('onDataChannelOpen', this.remoteId, label);
      owner.changed();
    };
    channel.onclose = () => {
      if (this.channels.get(label) === channel) this.channels.delete(label);
      owner.emit('onDataChannelClose', this.remoteId, label);
    };
    channel.onerror = (event) => {
      const error = /** @type {any} */ (event);
      const message = error?.error?.message ?? error?.message ?? 'Data channel error';
      owner.emit('onDataChannelError', this.remoteId, label, new Error(message));
    };
    channel.onmessage = (event) => {
      owner.emit('onDataChannelMessage', this.remoteId, label, messageData(event.data));
    };
  }
}
