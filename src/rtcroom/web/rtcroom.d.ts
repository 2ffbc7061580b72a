// Types for rtcroom.js, the rtcroom browser client (same names as Agentuity's useWebRTCCall).
// The code (js/client/src, bundled into rtcroom.js) is held to these declarations: js/tooling,
// `npm run typecheck`.

export type WebRTCConnectionState = 'idle' | 'connecting' | 'signaling' | 'negotiating' | 'connected';
export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';
export type WebRTCDisconnectReason = 'hangup' | 'error' | 'peer-left' | 'timeout';
export type RecordingState = 'inactive' | 'recording' | 'paused';
/**
 * 'lost': the signaling socket dropped and the call goes on without it (the peer connections,
 * media and data channels are untouched) while it resumes in the background under the same
 * peer id. 'open' otherwise.
 */
export type SignalingState = 'open' | 'lost';

export interface DataChannelConfig {
  label: string;
  /** Default true. */
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
}

export interface TrackSource {
  readonly type: 'user-media' | 'display-media' | 'custom';
  getStream(): Promise<MediaStream>;
  stop(): void;
}

/** Camera and microphone (getUserMedia); default `{video: true, audio: true}`. */
export declare class UserMediaSource implements TrackSource {
  readonly type: 'user-media';
  constructor(constraints?: MediaStreamConstraints);
  getStream(): Promise<MediaStream>;
  stop(): void;
}

/** Screen, window or tab (getDisplayMedia); default `{video: true, audio: false}`. */
export declare class DisplayMediaSource implements TrackSource {
  readonly type: 'display-media';
  constructor(constraints?: DisplayMediaStreamOptions);
  getStream(): Promise<MediaStream>;
  stop(): void;
}

/** A stream you own (canvas, WebAudio...). stop() leaves its tracks running. */
export declare class CustomStreamSource implements TrackSource {
  readonly type: 'custom';
  readonly stream: MediaStream;
  constructor(stream: MediaStream);
  getStream(): Promise<MediaStream>;
  stop(): void;
}

export interface WebRTCClientCallbacks {
  onStateChange(from: WebRTCConnectionState, to: WebRTCConnectionState, reason?: string): void;
  onConnect(): void;
  onDisconnect(reason: WebRTCDisconnectReason): void;
  onLocalStream(stream: MediaStream): void;
  onRemoteStream(peerId: string, stream: MediaStream): void;
  onTrackAdded(peerId: string, track: MediaStreamTrack, stream: MediaStream): void;
  onTrackRemoved(peerId: string, track: MediaStreamTrack): void;
  /** Also fired for the peers already in the room when we join. */
  onPeerJoined(peerId: string): void;
  /**
   * Fired when a peer's session ends: it left, it was replaced after a reconnect (or a refused
   * resume), it did not come back within the grace window after a resume, or you hung up.
   */
  onPeerLeft(peerId: string): void;
  onNegotiationStart(peerId: string): void;
  onNegotiationComplete(peerId: string): void;
  onIceCandidate(peerId: string, candidate: RTCIceCandidateInit): void;
  onIceStateChange(peerId: string, state: RTCIceConnectionState): void;
  /**
   * error.name is 'RoomFullError' or 'SignalingError' for server errors; 'AuthError' (the
   * token was refused) or 'SignalingClosedError' (replaced by the same identity, frame flood)
   * when the server closed the socket for good: see {@link SignalingClosedError}. Else the
   * browser's.
   */
  onError(error: Error | SignalingClosedError, state: WebRTCConnectionState): void;
  onDataChannelOpen(peerId: string, label: string): void;
  onDataChannelClose(peerId: string, label: string): void;
  /** Text that parses as JSON arrives parsed; binary arrives as an ArrayBuffer. */
  onDataChannelMessage(peerId: string, label: string, data: unknown): void;
  onDataChannelError(peerId: string, label: string, error: Error): void;
  onScreenShareStart(): void;
  onScreenShareStop(): void;
  /** Each attempt to reopen the signaling socket, with or without resume. */
  onReconnecting(attempt: number): void;
  /** The signaling socket opened again (before the server answered the join or resume). */
  onReconnected(): void;
  onReconnectFailed(): void;
  /**
   * The signaling socket dropped, and the call keeps its peers: `signalingState` is 'lost',
   * `state` stays 'connected' while any peer is connected, sends on data channels keep working.
   * Only with a server that gives resume tokens (rtcroom's); else a lost socket is a reconnect.
   */
  onSignalingLost(reason: string): void;
  /**
   * Signaling is back. `resumed` true: same peer id, same peers, nothing else happened.
   * false: the server refused the resume (token expired, the grace window passed): the call
   * joins afresh under a new peer id, and the app sees the old peers leave and the room's join.
   */
  onSignalingRestored(resumed: boolean): void;
  /**
   * The network path to this peer broke (ICE failed, or disconnected for 2 s); the call is
   * repairing it (ICE restart toward a browser, a rebuilt connection toward a Python peer). The
   * peer is still in the room and keeps its id; its data channels may close meanwhile.
   */
  onPeerReconnecting(peerId: string): void;
  /** The connection to this peer works again, its data channels open under the same labels. */
  onPeerReconnected(peerId: string): void;
}

/**
 * The server closed the signaling socket for a reason no reconnect can fix; the call went to
 * 'idle' without reconnecting. name 'AuthError': close codes 4401-4406 and 1011 (4404: the
 * token expired, get a new one); 'SignalingClosedError': 4000 (kicked by the server's app),
 * 4409 (replaced by another client with the same identity), 4410 (this call was resumed on
 * another connection) and 1008 (too many frames).
 */
export interface SignalingClosedError extends Error {
  name: 'AuthError' | 'SignalingClosedError';
  code: number;
  reason: string;
}

export interface WebRTCCallOptions {
  roomId: string;
  /** A path ('/api/call/signal'), an http(s) URL or a ws(s) URL. */
  signalUrl: string;
  /** Default `{video: true, audio: true}`; `false` for data-only. */
  media?: MediaStreamConstraints | TrackSource | false;
  dataChannels?: DataChannelConfig[];
  /** Default true: connect() runs right after construction. */
  autoConnect?: boolean;
  /** Default true. */
  autoReconnect?: boolean;
  /**
   * Default 5. While the signaling socket is lost but a peer is still connected (a resume,
   * see `resume`), attempts never run out and wait at most 10 s apart.
   */
  maxReconnectAttempts?: number;
  /**
   * Default true: ask the server for a resume token. When the signaling socket drops, the call
   * keeps its peer connections, reconnects with the token and gets back the same peer id
   * (`signalingState`, `onSignalingLost`, `onSignalingRestored`). Servers that give no token
   * (Agentuity's) see no difference. false: a lost socket rejoins as a new peer.
   */
  resume?: boolean;
  /** Default: decided per peer, the greater peer id is impolite. */
  polite?: boolean;
  /** Milliseconds in 'connecting'/'negotiating' before giving up. Default 30000. */
  connectionTimeout?: number;
  /** Milliseconds before warning that no ICE candidate was found. Default 10000. */
  iceGatheringTimeout?: number;
  /**
   * Default: the servers the rtcroom server sends in `joined` (with TURN credentials it
   * refreshes before they expire), else Google's public STUN servers, as Agentuity's client.
   * `[]` for none. A value given here always wins over the server's.
   */
  iceServers?: RTCIceServer[];
  /** 'relay': connect only through TURN relays. Default 'all'. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * A join token from your app, added to the signal URL as `?token=` (a token already in
   * signalUrl works too; giving both throws).
   */
  token?: string;
  callbacks?: Partial<WebRTCClientCallbacks>;
}

export interface ConnectionQualitySummary {
  /** Milliseconds, from the selected candidate pair. */
  rtt?: number;
  /** Over the interval since the previous summary for this peer (since the start, the first time). */
  packetLossPercent?: number;
  /** Milliseconds (audio). */
  jitter?: number;
  /** Bits per second over the interval since the previous summary; absent on the first call. */
  bitrate?: {
    audio?: { inbound?: number; outbound?: number };
    video?: { inbound?: number; outbound?: number };
  };
  video?: {
    framesPerSecond?: number;
    framesDropped?: number;
    frameWidth?: number;
    frameHeight?: number;
  };
  candidatePair?: { localType?: string; remoteType?: string; protocol?: string; usingRelay?: boolean };
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** The summary of a getStats() report; rates and loss over the time since `previous`. */
export declare function qualitySummary(
  stats: RTCStatsReport | Map<string, any>,
  previous?: RTCStatsReport | Map<string, any> | null,
): ConnectionQualitySummary;

export interface RecordingOptions {
  mimeType?: string;
  audioBitsPerSecond?: number;
  videoBitsPerSecond?: number;
}

export interface RecordingHandle {
  readonly streamId: string;
  readonly mimeType: string;
  readonly state: RecordingState;
  stop(): Promise<Blob>;
  pause(): void;
  resume(): void;
}

export interface WebRTCCallState {
  state: WebRTCConnectionState;
  peerId: string | null;
  remotePeerIds: string[];
  isAudioMuted: boolean;
  isVideoMuted: boolean;
  isScreenSharing: boolean;
  signalingState: SignalingState;
}

export declare class WebRTCCall {
  constructor(options: WebRTCCallOptions);
  readonly options: WebRTCCallOptions;
  /** Replace or add callbacks at any time. */
  callbacks: Partial<WebRTCClientCallbacks>;
  /**
   * 'connected' once a peer connection is up and the data channels this side knows of are
   * open. A channel the remote side opens arrives later: wait for onDataChannelOpen (or
   * getDataChannelState) before a send to it, as a send on a channel not yet open returns false.
   */
  readonly state: WebRTCConnectionState;
  /** See {@link SignalingState}. */
  readonly signalingState: SignalingState;
  readonly error: Error | null;
  readonly peerId: string | null;
  readonly remotePeerIds: string[];
  readonly remoteStreams: Map<string, MediaStream>;
  readonly localStream: MediaStream | null;
  readonly isAudioMuted: boolean;
  readonly isVideoMuted: boolean;
  readonly isScreenSharing: boolean;
  readonly isDataOnly: boolean;
  readonly peerCount: number;

  connect(): Promise<void>;
  hangup(): void;
  dispose(): void;
  getState(): WebRTCCallState;
  getLocalStream(): MediaStream | null;
  getRemoteStream(peerId: string): MediaStream | null;
  getRemoteStreams(): Map<string, MediaStream>;

  createDataChannel(config: DataChannelConfig): Map<string, RTCDataChannel>;
  getDataChannel(peerId: string, label: string): RTCDataChannel | undefined;
  getDataChannelLabels(): string[];
  getDataChannelState(peerId: string, label: string): DataChannelState | null;
  closeDataChannel(label: string): boolean;
  sendString(label: string, data: string): boolean;
  sendStringTo(peerId: string, label: string, data: string): boolean;
  sendJSON(label: string, data: unknown): boolean;
  sendJSONTo(peerId: string, label: string, data: unknown): boolean;
  sendBinary(label: string, data: ArrayBuffer | ArrayBufferView): boolean;
  sendBinaryTo(peerId: string, label: string, data: ArrayBuffer | ArrayBufferView): boolean;

  muteAudio(muted: boolean): void;
  muteVideo(muted: boolean): void;
  startScreenShare(options?: DisplayMediaStreamOptions): Promise<void>;
  stopScreenShare(): Promise<void>;

  getRawStats(peerId: string): Promise<RTCStatsReport | null>;
  getAllRawStats(): Promise<Map<string, RTCStatsReport>>;
  getQualitySummary(peerId: string): Promise<ConnectionQualitySummary | null>;
  getAllQualitySummaries(): Promise<Map<string, ConnectionQualitySummary>>;

  /** 'local' or a remote peer id. Returns the running handle if that stream is already recorded. */
  startRecording(streamId: string, options?: RecordingOptions): RecordingHandle | null;
  isRecording(streamId: string): boolean;
  stopAllRecordings(): Promise<Map<string, Blob>>;
}
