// rtcroom.js: the rtcroom browser client, one dependency-free ES module. Types: rtcroom.d.ts.
//
//   import { WebRTCCall } from '/rtcroom.js';
//   const call = new WebRTCCall({ roomId: 'demo', signalUrl: '/api/call/signal', iceServers: [] });
//
// GENERATED from js/client/src by `npm run build` in js/tooling (esbuild 0.28.2).
// Do not edit: change the sources there and rebuild; CI fails if this file differs from a build.

// js/client/src/channels.js
function createChannel(pc, config) {
  if (!config || typeof config.label !== "string") {
    throw new TypeError("a data channel needs a label, e.g. {label: 'chat'}");
  }
  const init = { ordered: config.ordered ?? true };
  if (config.maxPacketLifeTime !== void 0) init.maxPacketLifeTime = config.maxPacketLifeTime;
  if (config.maxRetransmits !== void 0) init.maxRetransmits = config.maxRetransmits;
  if (config.protocol !== void 0) init.protocol = config.protocol;
  return pc.createDataChannel(config.label, init);
}
function messageData(data) {
  if (typeof data !== "string") return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
function sendOn(channel, data) {
  if (!channel || channel.readyState !== "open") return false;
  channel.send(
    /** @type {any} */
    data
  );
  return true;
}
function toArrayBuffer(data) {
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) {
    return (
      /** @type {ArrayBuffer} */
      data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
    );
  }
  throw new TypeError("sendBinary needs an ArrayBuffer or a typed array such as Uint8Array");
}

// js/client/src/errors.js
function namedError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}
function asError(value) {
  return value instanceof Error ? value : new Error(String(value));
}

// js/client/src/sources.js
var UserMediaSource = class {
  /** @param {MediaStreamConstraints} [constraints] */
  constructor(constraints = { video: true, audio: true }) {
    this.type = "user-media";
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
};
var DisplayMediaSource = class {
  /** @param {DisplayMediaStreamOptions} [constraints] */
  constructor(constraints = { video: true, audio: false }) {
    this.type = "display-media";
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
};
var CustomStreamSource = class {
  /** @param {MediaStream} stream */
  constructor(stream) {
    if (!stream || typeof stream.getTracks !== "function") {
      throw new TypeError("CustomStreamSource needs a MediaStream, e.g. canvas.captureStream(30)");
    }
    this.type = "custom";
    this.stream = stream;
  }
  async getStream() {
    return this.stream;
  }
  stop() {
  }
};
function mediaDevices() {
  if (!globalThis.navigator?.mediaDevices) {
    throw namedError(
      "NotSupportedError",
      "Camera, microphone and screen need a secure page: open it over https:// or from localhost (this page is plain http from another host)"
    );
  }
  return navigator.mediaDevices;
}
function stopTracks(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}
function isTrackSource(media) {
  return media !== null && typeof media === "object" && typeof /** @type {{getStream?: unknown}} */
  media.getStream === "function";
}
async function captureScreen(options) {
  const display = await mediaDevices().getDisplayMedia(options);
  const screen = display.getVideoTracks()[0];
  for (const t of display.getAudioTracks()) t.stop();
  if (!screen) throw new Error("Failed to get screen video track");
  return screen;
}

// js/client/src/media.js
var LocalMedia = class {
  constructor() {
    this.stream = null;
    this.cameraTrack = null;
    this.screenTrack = null;
    this.audioMuted = false;
    this.videoMuted = false;
    this._source = null;
    this._ownsStream = false;
  }
  /**
   * Opens the stream the `media` option asks for (camera and microphone by default).
   * @param {WebRTCCallOptions['media']} media
   * @param {() => boolean} stillWanted false once the call has hung up meanwhile
   * @returns {Promise<MediaStream | null>} the new stream, or null if it is no longer wanted
   */
  async open(media, stillWanted) {
    const source = isTrackSource(media) ? media : new UserMediaSource(
      /** @type {MediaStreamConstraints | undefined} */
      media ?? void 0
    );
    const stream = await source.getStream();
    if (!stillWanted()) {
      if (!(source instanceof CustomStreamSource)) source.stop();
      return null;
    }
    this._source = source;
    this.stream = stream;
    this.cameraTrack = stream.getVideoTracks()[0] ?? null;
    this.applyMute();
    return stream;
  }
  /** Stops what we opened (a CustomStreamSource's tracks stay running) and forgets the stream. */
  release() {
    if (this._source) this._source.stop();
    else if (this._ownsStream) stopTracks(this.stream);
    this._source = null;
    this._ownsStream = false;
    this.stream = null;
    this.cameraTrack = null;
  }
  /** Muting disables the outgoing tracks: the remote side receives silence and black frames. */
  applyMute() {
    if (!this.stream) return;
    for (const t of this.stream.getAudioTracks()) t.enabled = !this.audioMuted;
    for (const t of this.stream.getVideoTracks()) t.enabled = !this.videoMuted;
    if (this.cameraTrack) this.cameraTrack.enabled = !this.videoMuted;
  }
  /**
   * Puts `screen` in the local stream in place of the camera.
   * @param {MediaStreamTrack} screen
   * @param {() => void} onEnded the user stopped sharing from the browser's own controls
   * @returns {{camera: MediaStreamTrack | null, stream: MediaStream}}
   */
  useScreen(screen, onEnded) {
    if (!this.stream) {
      this.stream = new MediaStream();
      this._ownsStream = true;
    }
    const stream = this.stream;
    const camera = this.cameraTrack;
    if (camera) stream.removeTrack(camera);
    stream.addTrack(screen);
    this.screenTrack = screen;
    screen.enabled = !this.videoMuted;
    if (!screen.contentHint) screen.contentHint = "detail";
    screen.addEventListener("ended", () => {
      if (this.screenTrack === screen) onEnded();
    });
    return { camera, stream };
  }
  /** Ends the screen track and takes it out of the local stream. */
  stopScreen() {
    const screen = this.screenTrack;
    if (!screen) return;
    this.screenTrack = null;
    screen.stop();
    if (this.stream) this.stream.removeTrack(screen);
  }
  /**
   * Puts the camera back into the local stream after a screen share.
   * @returns {MediaStreamTrack | null} the camera track, if there is one
   */
  restoreCamera() {
    const camera = this.cameraTrack;
    if (this.stream && camera) this.stream.addTrack(camera);
    return camera;
  }
};

// js/client/src/iceservers.js
var REFRESH_MARGIN = 0.2;
var MIN_LEAD_MS = 1e3;
var RETRY_MS = 5e3;
var MAX_TIMER_MS = 2 ** 31 - 1;
var MAX_HURRIED = 3;
function serverIceServers(value) {
  if (!Array.isArray(value)) return null;
  for (const item of value) {
    if (!item || typeof item !== "object") return null;
    const urls = (
      /** @type {{urls?: unknown}} */
      item.urls
    );
    const list = typeof urls === "string" ? [urls] : urls;
    if (!Array.isArray(list) || list.length === 0) return null;
    if (!list.every((u) => typeof u === "string")) return null;
  }
  return (
    /** @type {RTCIceServer[]} */
    value
  );
}
function credentialsExpireAt(servers) {
  let earliest = null;
  for (const server of servers) {
    const head = typeof server.username === "string" ? server.username.split(":")[0] : "";
    if (!/^\d+$/.test(head)) continue;
    const at = Number(head);
    if (earliest === null || at < earliest) earliest = at;
  }
  return earliest;
}
function iceServersUrl(signalUrl) {
  const url = new URL(signalUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = url.pathname.replace(/\/$/, "") + "/ice-servers";
  url.hash = "";
  return url.href;
}
var IceServerRefresh = class {
  /**
   * @param {string} signalUrl the ws(s) URL (its query carries the token)
   * @param {(servers: RTCIceServer[]) => void} apply called with each fresh list
   * @param {(error: Error) => void} warn a refresh failed (the call goes on)
   */
  constructor(signalUrl, apply, warn) {
    this._url = iceServersUrl(signalUrl);
    this._apply = apply;
    this._warn = warn;
    this._timer = null;
    this._stopped = false;
    this._hurried = 0;
  }
  /**
   * Plan the refresh for credentials that expire at `expiresAt` (unix seconds; null: never).
   * @param {number | null} expiresAt
   */
  schedule(expiresAt) {
    this._clear();
    if (this._stopped || expiresAt === null) return;
    const left = expiresAt * 1e3 - Date.now();
    this._hurried = left <= MIN_LEAD_MS ? this._hurried + 1 : 0;
    if (this._hurried > MAX_HURRIED) {
      this._warn(new Error("TURN credentials expire before they can be refreshed: check the clock"));
      return;
    }
    const wait = Math.max(MIN_LEAD_MS, Math.min(left * (1 - REFRESH_MARGIN), left - MIN_LEAD_MS));
    this._timer = setTimeout(() => this._refresh(expiresAt), Math.min(wait, MAX_TIMER_MS));
  }
  /** @param {number} expiresAt */
  async _refresh(expiresAt) {
    this._timer = null;
    try {
      const response = await fetch(this._url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      const servers = serverIceServers(body && body.iceServers);
      if (servers === null) throw new Error("the answer has no iceServers list");
      if (this._stopped) return;
      this._apply(servers);
      this.schedule(typeof body.expiresAt === "number" ? body.expiresAt : null);
    } catch (err) {
      if (this._stopped) return;
      this._warn(
        new Error(`could not refresh the TURN credentials from <signal path>/ice-servers: ${err}`)
      );
      if (expiresAt * 1e3 - Date.now() > RETRY_MS) {
        this._timer = setTimeout(() => this._refresh(expiresAt), RETRY_MS);
      }
    }
  }
  _clear() {
    if (this._timer !== null) clearTimeout(this._timer);
    this._timer = null;
  }
  stop() {
    this._stopped = true;
    this._clear();
  }
};

// js/client/src/recording.js
var STOP_RECORDING_TIMEOUT_MS = 5e3;
var VIDEO_MIME_TYPES = [
  "video/webm;codecs=vp9,opus",
  "video/webm;codecs=vp8,opus",
  "video/webm",
  "video/mp4"
];
var AUDIO_MIME_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg"];
var RecordingHandle = class {
  /**
   * @param {string} streamId
   * @param {MediaRecorder} recorder
   * @param {string} mimeType
   * @param {(handle: RecordingHandle) => void} onFinish
   */
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
  /** @returns {RecordingState} */
  get state() {
    return this._recorder.state;
  }
  pause() {
    if (this._recorder.state === "recording") this._recorder.pause();
  }
  resume() {
    if (this._recorder.state === "paused") this._recorder.resume();
  }
  /**
   * Stops the recorder and resolves with everything recorded (empty Blob if nothing was).
   * @returns {Promise<Blob>}
   */
  stop() {
    if (!this._stopped) {
      this._stopped = new Promise((resolve) => {
        const finish = () => {
          this._onFinish(this);
          resolve(new Blob(this._chunks, { type: this.mimeType }));
        };
        if (this._recorder.state === "inactive") {
          finish();
          return;
        }
        this._recorder.addEventListener("stop", finish, { once: true });
        this._recorder.stop();
      });
    }
    return this._stopped;
  }
};
var Recordings = class {
  constructor() {
    this._handles = /* @__PURE__ */ new Map();
  }
  /**
   * Record `stream` as `streamId`; null if there is no stream or no format to record it in.
   * @param {string} streamId 'local' or a remote peer id
   * @param {MediaStream | null} stream
   * @param {RecordingOptions} options
   * @returns {RecordingHandle | null}
   */
  start(streamId, stream, options) {
    const existing = this._handles.get(streamId);
    if (existing && existing.state !== "inactive") return existing;
    if (!stream) return null;
    const mimeType = pickMimeType(stream, options.mimeType);
    if (!mimeType) return null;
    const init = { mimeType };
    if (options.audioBitsPerSecond) init.audioBitsPerSecond = options.audioBitsPerSecond;
    if (options.videoBitsPerSecond) init.videoBitsPerSecond = options.videoBitsPerSecond;
    const recorder = new MediaRecorder(stream, init);
    const sink = streamId !== "local" && stream.getAudioTracks().length > 0 ? playMuted(stream) : null;
    const handle = new RecordingHandle(streamId, recorder, mimeType, (h) => {
      if (sink) sink.srcObject = null;
      if (this._handles.get(streamId) === h) this._handles.delete(streamId);
    });
    this._handles.set(streamId, handle);
    recorder.start(1e3);
    return handle;
  }
  /** @param {string} streamId */
  isRecording(streamId) {
    return this._handles.get(streamId)?.state === "recording";
  }
  /**
   * Stop every recording; a recorder that does not finish within 5 s is left out.
   * @returns {Promise<Map<string, Blob>>}
   */
  async stopAll() {
    const blobs = /* @__PURE__ */ new Map();
    const pending = [...this._handles.values()].map(async (handle) => {
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
    this._handles.clear();
    return blobs;
  }
};
function pickMimeType(stream, wanted) {
  if (typeof MediaRecorder === "undefined") return null;
  if (wanted && MediaRecorder.isTypeSupported(wanted)) return wanted;
  const candidates = stream.getVideoTracks().length > 0 ? VIDEO_MIME_TYPES : stream.getAudioTracks().length > 0 ? AUDIO_MIME_TYPES : [];
  return candidates.find((type) => MediaRecorder.isTypeSupported(type)) ?? null;
}
function playMuted(stream) {
  const element = document.createElement("audio");
  element.muted = true;
  element.srcObject = stream;
  element.play().catch(() => {
  });
  return element;
}

// js/client/src/refusals.js
var AUTH_HINTS = /* @__PURE__ */ new Map([
  [4401, "this server requires a join token: pass the token option or ?token= in signalUrl"],
  [4402, "the token is not a join token (a JWT with the rtcroom claims)"],
  [4403, "the token was signed with another secret or key than the server's"],
  [4404, "token expired: get a new one from your app"],
  [4405, "the token is not valid yet (its nbf is in the future; check the clocks)"],
  [4406, "the server's auth refused this client"],
  [1011, "the server's auth check failed (a server fault; see the server's log)"]
]);
var OTHER_FINAL = /* @__PURE__ */ new Map([
  [4409, "another client with the same identity joined the room and replaced this one"],
  [1008, "this client sent more frames than the server allows"]
]);
function finalCloseError(code, reason) {
  const shown = redact(reason) || "(no reason given)";
  const hint = AUTH_HINTS.get(code) ?? OTHER_FINAL.get(code);
  if (hint === void 0) return null;
  const name = AUTH_HINTS.has(code) ? "AuthError" : "SignalingClosedError";
  const error = (
    /** @type {Error & {code: number, reason: string}} */
    namedError(name, `${shown} (close code ${code}): ${hint}`)
  );
  error.code = code;
  error.reason = shown;
  return error;
}
function redact(text) {
  return String(text).replace(/([?&;]token=)[^&#\s'"]*/gi, "$1REDACTED");
}
function withToken(url, token) {
  if (token === void 0 || token === null) return url;
  if (typeof token !== "string" || token === "") {
    throw new TypeError("token must be a non-empty string (a join token from your app)");
  }
  const parsed = new URL(url);
  if (parsed.searchParams.has("token")) {
    throw new TypeError("the token is given twice: as the token option and as ?token= in signalUrl");
  }
  parsed.searchParams.set("token", token);
  return parsed.href;
}

// js/client/src/ping.js
var PING_CHANNEL_LABEL = "rtcroom-ping";
var PING_INTERVAL_MS = 1e3;
var MAX_UNANSWERED_PINGS = 30;
function answerRttPings(channel) {
  channel.binaryType = "arraybuffer";
  let timer = null;
  let sent = 0;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const ping = () => {
    if (channel.readyState !== "open" || sent >= MAX_UNANSWERED_PINGS) return stop();
    const message = new Uint8Array(9);
    message[0] = 80;
    new DataView(message.buffer).setBigUint64(1, BigInt(++sent));
    channel.send(message);
  };
  const opened = () => {
    ping();
    timer = setInterval(ping, PING_INTERVAL_MS);
  };
  channel.onopen = opened;
  channel.onclose = stop;
  channel.onmessage = (event) => {
    if (!(event.data instanceof ArrayBuffer) || event.data.byteLength !== 9) return;
    const message = new Uint8Array(event.data);
    if (message[0] === 80 && channel.readyState === "open") {
      stop();
      message[0] = 79;
      channel.send(message);
    } else if (message[0] === 79) {
      stop();
    }
  };
  if (channel.readyState === "open") opened();
}

// js/client/src/quality.js
function selectedPair(stats) {
  for (const report of stats.values()) {
    if (report.type === "transport" && report.selectedCandidatePairId) {
      return stats.get(report.selectedCandidatePairId) ?? null;
    }
  }
  for (const report of stats.values()) {
    if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") {
      return report;
    }
  }
  return null;
}
function rate(current, previous, field) {
  if (!previous || current[field] === void 0 || previous[field] === void 0) return void 0;
  const seconds = (current.timestamp - previous.timestamp) / 1e3;
  if (!(seconds > 0)) return void 0;
  return Math.max(0, (current[field] - previous[field]) * 8 / seconds);
}
function qualitySummary(stats, previous = null) {
  const summary = { timestamp: Date.now() };
  const bitrate = {};
  const setRate = (kind, direction, value) => {
    if (value === void 0) return;
    bitrate[kind] = bitrate[kind] || {};
    bitrate[kind][direction] = (bitrate[kind][direction] ?? 0) + value;
  };
  let lost = 0;
  let received = 0;
  let sawInbound = false;
  const pair = selectedPair(stats);
  if (pair) {
    if (pair.currentRoundTripTime !== void 0) summary.rtt = pair.currentRoundTripTime * 1e3;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    summary.candidatePair = {
      localType: local?.candidateType,
      remoteType: remote?.candidateType,
      protocol: local?.protocol,
      usingRelay: local?.candidateType === "relay" || remote?.candidateType === "relay"
    };
  }
  for (const report of stats.values()) {
    const before = previous?.get(report.id);
    if (report.type === "inbound-rtp") {
      if (report.kind === "audio" && report.jitter !== void 0) summary.jitter = report.jitter * 1e3;
      if (report.kind === "video") {
        summary.video = {
          framesPerSecond: report.framesPerSecond,
          framesDropped: report.framesDropped,
          frameWidth: report.frameWidth,
          frameHeight: report.frameHeight
        };
      }
      if (report.packetsLost !== void 0 && report.packetsReceived !== void 0) {
        sawInbound = true;
        lost += Math.max(0, report.packetsLost - (before?.packetsLost ?? 0));
        received += Math.max(0, report.packetsReceived - (before?.packetsReceived ?? 0));
      }
      setRate(report.kind, "inbound", rate(report, before, "bytesReceived"));
    } else if (report.type === "outbound-rtp") {
      setRate(report.kind, "outbound", rate(report, before, "bytesSent"));
    }
  }
  if (sawInbound && lost + received > 0) summary.packetLossPercent = lost / (lost + received) * 100;
  else if (sawInbound && previous) summary.packetLossPercent = 0;
  if (Object.keys(bitrate).length > 0) summary.bitrate = bitrate;
  return summary;
}

// js/client/src/session.js
var MAX_ICE_RESTARTS = 1;
var PeerSession = class {
  /**
   * @param {string} remoteId
   * @param {number} epoch the signaling epoch (one per joined socket) that creates the session
   * @param {boolean} isOfferer the newcomer offers; the other side waits for its offer
   * @param {SessionSettings} settings
   * @param {SessionOwner} owner
   */
  constructor(remoteId, epoch, isOfferer, settings, owner) {
    this.remoteId = remoteId;
    this.pc = new RTCPeerConnection({
      iceServers: settings.iceServers,
      iceTransportPolicy: settings.iceTransportPolicy
    });
    this.epoch = epoch;
    this.channels = /* @__PURE__ */ new Map();
    this.remoteStream = null;
    this.pendingCandidates = [];
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.mayOffer = isOfferer;
    this.offerWhenConnected = false;
    this.iceRestarts = 0;
    this.gatherTimer = null;
    this.addedSenders = [];
    this.lastStats = null;
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
      owner.emit("onIceCandidate", remoteId, candidate);
      owner.signal({ t: "ice", from: owner.localId(), to: remoteId, candidate });
    };
    pc.onnegotiationneeded = () => {
      if (!this.mayOffer || this.closed) return;
      if (pc.remoteDescription && ["new", "connecting"].includes(pc.connectionState)) {
        this.offerWhenConnected = true;
        return;
      }
      this.makeOffer().catch((err) => owner.fail(asError(err)));
    };
    pc.oniceconnectionstatechange = () => {
      if (this.closed) return;
      const state = pc.iceConnectionState;
      owner.emit("onIceStateChange", remoteId, state);
      if (state === "failed") this._onIceFailed();
      owner.changed();
    };
    pc.onconnectionstatechange = () => {
      if (this.closed) return;
      if (this.offerWhenConnected && pc.connectionState === "connected") {
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
            `rtcroom: no ICE candidate for peer ${remoteId} after ${gatheringTimeout} ms; check iceServers and the network`
          );
        }
      }, gatheringTimeout);
    }
  }
  get connected() {
    const ice = this.pc.iceConnectionState;
    return this.pc.connectionState === "connected" || ice === "connected" || ice === "completed";
  }
  /** Ends the connection; its remote tracks are reported removed. */
  close() {
    this.closed = true;
    if (this.gatherTimer !== null) clearTimeout(this.gatherTimer);
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
    if (this.remoteStream) {
      for (const track of this.remoteStream.getTracks()) {
        this._owner.emit("onTrackRemoved", this.remoteId, track);
      }
    }
    const pc = this.pc;
    pc.ontrack = pc.ondatachannel = pc.onicecandidate = pc.onnegotiationneeded = null;
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = null;
    pc.close();
  }
  // -- negotiation --------------------------------------------------------------------------
  async makeOffer() {
    if (this.makingOffer || this.closed || this.pc.signalingState !== "stable") return;
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
    const isOffer = description.type === "offer";
    const collision = isOffer && (this.makingOffer || pc.signalingState !== "stable");
    this.ignoreOffer = !this._owner.polite(this.remoteId) && collision;
    if (this.ignoreOffer) return false;
    if (description.type === "answer" && pc.signalingState !== "have-local-offer") return false;
    this._owner.negotiating(this.remoteId);
    await pc.setRemoteDescription(description);
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
    if (!candidate.candidate) return;
    if (!this.pc.remoteDescription) this.pendingCandidates.push(candidate);
    else await this._addCandidate(candidate);
  }
  _signalDescription() {
    const owner = this._owner;
    owner.signal({
      t: "sdp",
      from: owner.localId(),
      to: this.remoteId,
      description: this.pc.localDescription
    });
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
    if (this.iceRestarts < MAX_ICE_RESTARTS) {
      this.iceRestarts++;
      this.pc.restartIce();
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
      stream.addEventListener("removetrack", (e) => {
        if (!this.closed) owner.emit("onTrackRemoved", this.remoteId, e.track);
      });
      owner.emit("onRemoteStream", this.remoteId, stream);
    }
    owner.emit("onTrackAdded", this.remoteId, event.track, stream);
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
    const sender = this.pc.getSenders().find((x) => x.track && (x.track === camera || x.track.kind === "video"));
    if (sender) await sender.replaceTrack(screen);
    else this.addedSenders.push(this.pc.addTrack(screen, stream));
  }
  /**
   * Stops sending the screen: the camera goes back where it was, added senders are removed.
   * @param {MediaStreamTrack} screen
   * @param {MediaStreamTrack | null} camera
   * @returns {Promise<void>[]} the pending replaceTrack calls
   */
  stopScreen(screen, camera) {
    const pc = this.pc;
    const tasks = [];
    for (const sender of pc.getSenders()) {
      if (sender.track !== screen && !this.addedSenders.includes(sender)) continue;
      if (this.addedSenders.includes(sender)) pc.removeTrack(sender);
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
    this._adoptChannel(channel);
    return channel;
  }
  /** @param {RTCDataChannel} channel */
  _adoptChannel(channel) {
    const owner = this._owner;
    const { label } = channel;
    channel.binaryType = "arraybuffer";
    this.channels.set(label, channel);
    channel.onopen = () => {
      owner.emit("onDataChannelOpen", this.remoteId, label);
      owner.changed();
    };
    channel.onclose = () => {
      if (this.channels.get(label) === channel) this.channels.delete(label);
      owner.emit("onDataChannelClose", this.remoteId, label);
    };
    channel.onerror = (event) => {
      const error = (
        /** @type {any} */
        event
      );
      const message = error?.error?.message ?? error?.message ?? "Data channel error";
      owner.emit("onDataChannelError", this.remoteId, label, new Error(message));
    };
    channel.onmessage = (event) => {
      owner.emit("onDataChannelMessage", this.remoteId, label, messageData(event.data));
    };
  }
};

// js/client/src/signaling.js
var RECONNECT_BASE_MS = 1e3;
var RECONNECT_MAX_MS = 3e4;
function resolveSignalUrl(signalUrl) {
  if (typeof signalUrl !== "string" || signalUrl === "") {
    throw new TypeError("WebRTCCall needs signalUrl, e.g. '/api/call/signal'");
  }
  const url = new URL(signalUrl, globalThis.location ? globalThis.location.href : void 0);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  return url.href;
}
function reconnectDelay(attempt) {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
var SignalingSocket = class {
  /**
   * Opens the socket; throws as `new WebSocket()` does for a URL it refuses.
   * @param {string} url
   * @param {SignalingHandlers} handlers
   */
  constructor(url, handlers) {
    const ws = new WebSocket(url);
    this._ws = ws;
    ws.onopen = () => handlers.open();
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        handlers.invalid();
        return;
      }
      handlers.message(message);
    };
    ws.onerror = () => handlers.error();
    ws.onclose = (event) => handlers.close(event.code, event.reason);
  }
  /**
   * Sends one frame if the socket is open; false if it is not.
   * @param {object} message
   */
  send(message) {
    if (this._ws.readyState !== WebSocket.OPEN) return false;
    this._ws.send(JSON.stringify(message));
    return true;
  }
  close() {
    const ws = this._ws;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close();
    } catch {
    }
  }
};

// js/client/src/call.js
var DEFAULT_ICE_SERVERS = [
  { urls: "stun:stun.l.google.com:19302" },
  { urls: "stun:stun1.l.google.com:19302" }
];
var WebRTCCall = class {
  /** @param {WebRTCCallOptions} options */
  constructor(options) {
    if (!options || typeof options.roomId !== "string" || options.roomId === "") {
      throw new TypeError("WebRTCCall needs a roomId, e.g. new WebRTCCall({roomId: 'demo', ...})");
    }
    this.options = {
      autoConnect: true,
      autoReconnect: true,
      maxReconnectAttempts: 5,
      connectionTimeout: 3e4,
      iceGatheringTimeout: 1e4,
      ...options
    };
    this._signalUrl = withToken(resolveSignalUrl(options.signalUrl), options.token);
    this._serverIceServers = null;
    this._iceRefresh = null;
    this.callbacks = { ...options.callbacks || {} };
    this._state = "idle";
    this.error = null;
    this.peerId = null;
    this._sessions = /* @__PURE__ */ new Map();
    this._media = new LocalMedia();
    this._socket = null;
    this._joined = false;
    this._epoch = 0;
    this._signalEpoch = 0;
    this._queue = Promise.resolve();
    this._reconnectAttempts = 0;
    this._reconnectTimer = null;
    this._timeoutTimer = null;
    this._recordings = new Recordings();
    this._disposed = false;
    this._sessionOwner = {
      localId: () => this.peerId,
      signal: (message) => this._send(message),
      emit: (name, ...args) => this._emit(name, ...args),
      fail: (error) => this._fail(error),
      changed: () => this._updateConnectionState(),
      polite: (remoteId) => this._polite(remoteId),
      negotiating: (remoteId) => {
        if (this._state !== "signaling") return;
        this._setState("negotiating", "received SDP");
        this._emit("onNegotiationStart", remoteId);
      },
      iceFailed: (s) => {
        this._fail(new Error(`ICE connection failed for peer ${s.remoteId}`));
        this._closeSession(s.remoteId);
      }
    };
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
  /** @returns {WebRTCCallState} */
  getState() {
    return {
      state: this._state,
      peerId: this.peerId,
      remotePeerIds: this.remotePeerIds,
      isAudioMuted: this.isAudioMuted,
      isVideoMuted: this.isVideoMuted,
      isScreenSharing: this.isScreenSharing
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
    const streams = /* @__PURE__ */ new Map();
    for (const [id, s] of this._sessions) if (s.remoteStream) streams.set(id, s.remoteStream);
    return streams;
  }
  // -- lifecycle ----------------------------------------------------------------------------
  /** Join the room. Never rejects: failures go to onError and the state returns to 'idle'. */
  async connect() {
    if (this._disposed) {
      this._fail(new Error("This WebRTCCall was disposed; create a new one to call again"));
      return;
    }
    if (this._state !== "idle") return;
    const epoch = ++this._epoch;
    this._reconnectAttempts = 0;
    this.error = null;
    this._setState("connecting", "connect() called");
    try {
      await this._ensureLocalStream(epoch);
    } catch (err) {
      if (epoch !== this._epoch) return;
      this._media.release();
      this._fail(asError(err));
      this._setState("idle", "error");
      return;
    }
    if (epoch !== this._epoch) return;
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
    this._setState("idle", "hangup");
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
    if (stream) this._emit("onLocalStream", stream);
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
    if (to === "connecting" || to === "negotiating") this._startTimeout();
    else this._clearTimeout();
    this._emit("onStateChange", from, to, reason);
    if (to === "connected") this._emit("onConnect");
    if (to === "idle") {
      this._stopIceRefresh();
      const why = reason === "hangup" ? "hangup" : reason.includes("timeout") ? "timeout" : "error";
      this._emit("onDisconnect", why);
    }
  }
  _updateConnectionState() {
    if (!this._joined || this._state === "idle") return;
    const sessions = [...this._sessions.values()];
    if (sessions.some((s) => s.connected)) this._setState("connected", "peer connected");
    else if (sessions.length === 0) {
      if (this._state !== "signaling") this._setState("signaling", "all peers left");
    } else if (this._state === "connected") this._setState("negotiating", "no connected peers");
  }
  _startTimeout() {
    this._clearTimeout();
    const ms = this.options.connectionTimeout;
    if (!(ms > 0)) return;
    const epoch = this._epoch;
    this._timeoutTimer = setTimeout(() => {
      this._timeoutTimer = null;
      if (epoch !== this._epoch) return;
      if (this._state !== "connecting" && this._state !== "negotiating") return;
      this._fail(new Error("WebRTC connection timed out"));
      this._epoch++;
      this._clearTimers();
      this._closeSocket();
      this._closeAllSessions();
      this.peerId = null;
      this._joined = false;
      this._setState("idle", "connection-timeout");
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
    if (typeof fn !== "function") return;
    try {
      fn(...args);
    } catch (err) {
      console.error(`rtcroom: callbacks.${name} threw`, err);
    }
  }
  /** @param {Error} error */
  _fail(error) {
    this.error = error;
    this._emit("onError", error, this._state);
  }
  // -- signaling socket ---------------------------------------------------------------------
  /** @param {number} epoch */
  _openSocket(epoch) {
    this._closeSocket();
    let socket;
    try {
      socket = new SignalingSocket(this._signalUrl, {
        open: () => {
          if (socket !== this._socket) return;
          const reconnecting = this._reconnectAttempts > 0;
          this._setState("signaling", "WebSocket opened");
          this._send({ t: "join", roomId: this.options.roomId });
          if (reconnecting) this._emit("onReconnected");
        },
        message: (msg) => {
          if (socket !== this._socket) return;
          this._queue = this._queue.then(() => epoch === this._epoch ? this._handleSignal(msg) : void 0).catch((err) => {
            if (epoch === this._epoch) this._fail(asError(err));
          });
        },
        invalid: () => {
          if (socket === this._socket) this._fail(new Error("Invalid signaling message"));
        },
        error: () => {
          if (socket === this._socket) this._fail(new Error("WebSocket connection error"));
        },
        close: (code, reason) => {
          if (socket !== this._socket) return;
          this._socket = null;
          const final = finalCloseError(code, reason);
          if (final) this._refused(epoch, final);
          else this._onSocketLost(epoch, "WebSocket closed");
        }
      });
    } catch (err) {
      this._fail(asError(err));
      this._onSocketLost(epoch, "WebSocket failed");
      return;
    }
    this._socket = socket;
  }
  _closeSocket() {
    const socket = this._socket;
    this._socket = null;
    if (socket) socket.close();
  }
  /** @param {object} msg */
  _send(msg) {
    return this._socket ? this._socket.send(msg) : false;
  }
  /**
   * The socket dropped. Peer connections stay up (media keeps flowing) until we rejoin.
   * @param {number} epoch
   * @param {string} reason
   */
  _onSocketLost(epoch, reason) {
    if (epoch !== this._epoch || this._state === "idle") return;
    this._joined = false;
    this.peerId = null;
    if (!this.options.autoReconnect) {
      this._epoch++;
      this._closeAllSessions();
      this._media.release();
      this._setState("idle", reason);
      return;
    }
    const attempt = this._reconnectAttempts + 1;
    if (attempt > this.options.maxReconnectAttempts) {
      this._epoch++;
      this._clearTimers();
      this._closeAllSessions();
      this._media.release();
      this._emit("onReconnectFailed");
      this._setState("idle", "reconnect-failed");
      return;
    }
    this._reconnectAttempts = attempt;
    const delay = reconnectDelay(attempt);
    this._emit("onReconnecting", attempt);
    this._setState("connecting", `reconnecting:${reason}`);
    if (this._reconnectTimer !== null) clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      if (epoch === this._epoch && this._state === "connecting") this._openSocket(epoch);
    }, delay);
  }
  /**
   * The server closed the socket for a reason no reconnect can fix (a refused token, a
   * replaced identity): report it and end the call.
   * @param {number} epoch
   * @param {Error} error
   */
  _refused(epoch, error) {
    if (epoch !== this._epoch || this._state === "idle") return;
    this._fail(error);
    this._epoch++;
    this._clearTimers();
    this._closeAllSessions();
    this._media.release();
    this.peerId = null;
    this._joined = false;
    this._setState("idle", "signaling-refused");
  }
  /** @param {any} msg a frame from the server */
  async _handleSignal(msg) {
    switch (msg && msg.t) {
      case "joined":
        return this._onJoined(msg);
      case "peer-joined":
        this._emit("onPeerJoined", msg.peerId);
        this._session(msg.peerId, false);
        return;
      case "peer-left":
        this._emit("onPeerLeft", msg.peerId);
        this._closeSession(msg.peerId, false);
        this._updateConnectionState();
        return;
      case "sdp":
        return this._onRemoteDescription(msg.from, msg.description);
      case "ice":
        return this._onRemoteCandidate(msg.from, msg.candidate);
      case "error":
        return this._onServerError(String(msg.message));
      default:
        return;
    }
  }
  /** @param {{peerId: string, peers?: unknown, iceServers?: unknown}} msg */
  async _onJoined(msg) {
    this.peerId = msg.peerId;
    this._useServerIceServers(serverIceServers(msg.iceServers));
    this._joined = true;
    this._reconnectAttempts = 0;
    this._signalEpoch++;
    for (const [id, s] of this._sessions) if (s.epoch !== this._signalEpoch) this._closeSession(id);
    const peers = Array.isArray(msg.peers) ? msg.peers : [];
    if (peers.length === 0) {
      this._updateConnectionState();
      return;
    }
    this._setState("negotiating", "creating offer");
    const epoch = this._epoch;
    for (const id of peers) {
      if (epoch !== this._epoch) return;
      this._emit("onPeerJoined", id);
      const session = this._session(id, true);
      this._emit("onNegotiationStart", id);
      await session.makeOffer();
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
    if (servers === null || this.options.iceServers !== void 0) return;
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
            console.warn("rtcroom: could not give a peer connection fresh ICE servers", err);
          }
        }
      },
      (error) => console.warn(`rtcroom: ${error.message}`)
    );
    this._iceRefresh.schedule(credentialsExpireAt(servers));
  }
  _stopIceRefresh() {
    if (this._iceRefresh) this._iceRefresh.stop();
    this._iceRefresh = null;
  }
  /** @param {string} message */
  _onServerError(message) {
    const error = namedError(
      message.startsWith("Room is full") ? "RoomFullError" : "SignalingError",
      message
    );
    this._fail(error);
    if (this._joined) return;
    this._epoch++;
    this._clearTimers();
    this._closeSocket();
    this._closeAllSessions();
    this._media.release();
    this._setState("idle", error.name === "RoomFullError" ? "room-full" : "join-rejected");
  }
  /**
   * @param {unknown} from
   * @param {any} description
   */
  async _onRemoteDescription(from, description) {
    if (typeof from !== "string" || !description || typeof description.type !== "string") return;
    const isOffer = description.type === "offer";
    if (!isOffer && !this._sessions.has(from)) return;
    const s = this._session(from, false);
    if (await s.acceptDescription(description)) this._emit("onNegotiationComplete", from);
  }
  /**
   * @param {string} from
   * @param {unknown} candidate
   */
  async _onRemoteCandidate(from, candidate) {
    const s = this._sessions.get(from);
    if (!s || !candidate || typeof candidate !== "object") return;
    await s.addRemoteCandidate(candidate);
  }
  // -- peer sessions ------------------------------------------------------------------------
  /** @param {string} remoteId */
  _polite(remoteId) {
    if (typeof this.options.polite === "boolean") return this.options.polite;
    return !/** @type {string} */
    (this.peerId > remoteId);
  }
  /**
   * The session with `remoteId`, created if there is none.
   * @param {string} remoteId
   * @param {boolean} isOfferer
   */
  _session(remoteId, isOfferer) {
    const existing = this._sessions.get(remoteId);
    if (existing) return existing;
    const settings = {
      iceServers: this.options.iceServers ?? this._serverIceServers ?? DEFAULT_ICE_SERVERS,
      iceTransportPolicy: this.options.iceTransportPolicy ?? "all",
      iceGatheringTimeout: this.options.iceGatheringTimeout,
      localStream: this._media.stream
    };
    const s = new PeerSession(remoteId, this._signalEpoch, isOfferer, settings, this._sessionOwner);
    this._sessions.set(remoteId, s);
    if (isOfferer) {
      for (const config of this.options.dataChannels || []) s.openChannel(config);
    }
    return s;
  }
  /**
   * @param {string} remoteId
   * @param {boolean} [announce] fire onPeerLeft
   */
  _closeSession(remoteId, announce = true) {
    const s = this._sessions.get(remoteId);
    if (!s) return;
    this._sessions.delete(remoteId);
    s.close();
    if (announce) this._emit("onPeerLeft", remoteId);
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
    const created = /* @__PURE__ */ new Map();
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
    const labels = /* @__PURE__ */ new Set();
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
    if (this._state === "idle") {
      throw new Error("startScreenShare() needs a call: connect() first");
    }
    const screen = await captureScreen(options);
    if (
      /** @type {WebRTCConnectionState} */
      this._state === "idle"
    ) {
      screen.stop();
      return;
    }
    const { camera, stream } = this._media.useScreen(screen, () => this.stopScreenShare());
    await Promise.all([...this._sessions.values()].map((s) => s.sendScreen(camera, screen, stream)));
    this._emit("onScreenShareStart");
  }
  async stopScreenShare() {
    const screen = this._media.screenTrack;
    if (!screen) return;
    this._media.stopScreen();
    const camera = this._media.restoreCamera();
    const tasks = [...this._sessions.values()].flatMap((s) => s.stopScreen(screen, camera));
    await Promise.all(tasks);
    this._emit("onScreenShareStop");
  }
  // -- quality ------------------------------------------------------------------------------
  /** @param {string} peerId */
  async getRawStats(peerId) {
    const s = this._sessions.get(peerId);
    return s ? s.pc.getStats() : null;
  }
  async getAllRawStats() {
    const all = /* @__PURE__ */ new Map();
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
    const all = /* @__PURE__ */ new Map();
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
    const stream = streamId === "local" ? this._media.stream : this.getRemoteStream(streamId);
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
};
export {
  CustomStreamSource,
  DisplayMediaSource,
  UserMediaSource,
  WebRTCCall,
  qualitySummary
};
