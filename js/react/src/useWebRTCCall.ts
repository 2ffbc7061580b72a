// useWebRTCCall: the hook of Agentuity's React package (same options and return names) over
// rtcroom.js. What it adds: options compared by value (inline literals never reconnect), the
// app's callbacks always from the latest render, one socket under StrictMode, a hangup on
// unmount, and a room switch when roomId changes.

import {
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { callKey } from './call-key.js';
import { CallStore } from './call-store.js';
import { WebRTCCall } from './client.js';
import type {
  ConnectionQualitySummary,
  DataChannelConfig,
  DataChannelState,
  RecordingHandle,
  RecordingOptions,
  SignalingState,
  WebRTCCallOptions,
  WebRTCConnectionState,
} from './client.js';
import { DefaultsContext } from './defaults.js';

/** The options of rtcroom's WebRTCCall (and of Agentuity's hook). `autoConnect` (default true)
 * connects on mount and after every change of room. */
export type UseWebRTCCallOptions = WebRTCCallOptions;

export interface UseWebRTCCallResult {
  /** Give it to a `<video muted autoPlay playsInline>`: it shows the local stream. (A plain
   * `{ current }` object: the ref type both React 18's and 19's `<video ref>` accept.) */
  localVideoRef: { current: HTMLVideoElement | null };
  state: WebRTCConnectionState;
  /** 'lost' while the signaling socket is down and the call goes on without it (resuming in the
   * background, same peer id); 'open' otherwise. Not in Agentuity's hook. */
  signalingState: SignalingState;
  /** The last error; cleared by the next connect. */
  error: Error | null;
  /** Ours, from the moment the server assigns it. */
  peerId: string | null;
  remotePeerIds: string[];
  remoteStreams: Map<string, MediaStream>;
  isAudioMuted: boolean;
  isVideoMuted: boolean;
  /** True when `media: false`. */
  isDataOnly: boolean;
  isScreenSharing: boolean;
  connect(): void;
  hangup(): void;
  muteAudio(muted: boolean): void;
  muteVideo(muted: boolean): void;
  startScreenShare(options?: DisplayMediaStreamOptions): Promise<void>;
  stopScreenShare(): Promise<void>;
  createDataChannel(config: DataChannelConfig): Map<string, RTCDataChannel>;
  getDataChannelLabels(): string[];
  getDataChannelState(peerId: string, label: string): DataChannelState | null;
  sendString(label: string, data: string): boolean;
  sendStringTo(peerId: string, label: string, data: string): boolean;
  sendJSON(label: string, data: unknown): boolean;
  sendJSONTo(peerId: string, label: string, data: unknown): boolean;
  sendBinary(label: string, data: ArrayBuffer | ArrayBufferView): boolean;
  sendBinaryTo(peerId: string, label: string, data: ArrayBuffer | ArrayBufferView): boolean;
  closeDataChannel(label: string): boolean;
  getQualitySummary(peerId: string): Promise<ConnectionQualitySummary | null>;
  getAllQualitySummaries(): Promise<Map<string, ConnectionQualitySummary>>;
  startRecording(streamId: string, options?: RecordingOptions): RecordingHandle | null;
  isRecording(streamId: string): boolean;
  stopAllRecordings(): Promise<Map<string, Blob>>;
}

type Methods = Omit<
  UseWebRTCCallResult,
  | 'localVideoRef'
  | 'state'
  | 'signalingState'
  | 'error'
  | 'peerId'
  | 'remotePeerIds'
  | 'remoteStreams'
  | 'isAudioMuted'
  | 'isVideoMuted'
  | 'isDataOnly'
  | 'isScreenSharing'
>;

// Effects that must see this render's values before any event does; no-op on the server.
const useCommitEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

export function useWebRTCCall(options: UseWebRTCCallOptions): UseWebRTCCallResult {
  const defaults = useContext(DefaultsContext);
  const merged: WebRTCCallOptions = {
    ...defaults,
    ...withoutUndefined(options),
    roomId: options.roomId,
    signalUrl: options.signalUrl,
  };
  const key = callKey(merged);
  const localVideoRef = useRef<HTMLVideoElement | null>(null);
  const [store] = useState(() => new CallStore(localVideoRef));
  const resume = useRef(false); // the previous call was in use when this one replaced it

  useCommitEffect(() => {
    store.callbacks = options.callbacks;
  });

  useEffect(() => {
    let call: WebRTCCall;
    try {
      call = new WebRTCCall({ ...merged, autoConnect: false, callbacks: undefined });
    } catch (err) {
      // A bad option (an empty roomId while the user types one) shows as `error`, not a crash.
      store.show(null, err instanceof Error ? err : new Error(String(err)));
      return undefined;
    }
    const connectNow = merged.autoConnect !== false || resume.current;
    resume.current = false;
    return start(store, call, connectNow, resume);
    // `key` stands for every option that shapes the call, compared by value.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, key]);

  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot);

  useEffect(() => {
    // A <video> that mounts after the stream arrived (or a stream that changed) still shows it.
    const video = localVideoRef.current;
    if (video && video.srcObject !== snapshot.localStream) video.srcObject = snapshot.localStream;
  });

  const methods = useMemo(() => bindMethods(store), [store]);
  const isDataOnly = merged.media === false;
  return useMemo(
    () => ({
      localVideoRef,
      state: snapshot.state,
      signalingState: snapshot.signalingState,
      error: snapshot.error,
      peerId: snapshot.peerId,
      remotePeerIds: snapshot.remotePeerIds,
      remoteStreams: snapshot.remoteStreams,
      isAudioMuted: snapshot.isAudioMuted,
      isVideoMuted: snapshot.isVideoMuted,
      isDataOnly,
      isScreenSharing: snapshot.isScreenSharing,
      ...methods,
    }),
    [snapshot, isDataOnly, methods],
  );
}

/** Show `call` and connect it if asked; the cleanup leaves the room for good. */
function start(
  store: CallStore,
  call: WebRTCCall,
  connectNow: boolean,
  resume: { current: boolean },
): () => void {
  call.callbacks = store.callbacksFor(call);
  // A new room keeps the microphone and camera as muted as they were in the old one.
  const before = store.getSnapshot();
  if (before.isAudioMuted) call.muteAudio(true);
  if (before.isVideoMuted) call.muteVideo(true);
  store.show(call);
  let cancelled = false;
  if (connectNow) {
    // After the commit: StrictMode's trial unmount comes first and cancels this, so the trial
    // mount never opens the camera or a socket.
    queueMicrotask(() => {
      if (!cancelled && store.call === call) void call.connect();
    });
  }
  return () => {
    cancelled = true;
    resume.current = call.state !== 'idle'; // in a call: the next room is joined at once
    store.forget(call); // methods called after an unmount find no call, not a disposed one
    call.dispose();
  };
}

/** The hook's methods, stable for the component's life: each acts on the call shown now. */
function bindMethods(store: CallStore): Methods {
  const after = <T>(value: T): T => {
    store.refresh();
    return value;
  };
  const noCall = (): Error =>
    new Error('useWebRTCCall has no call: the component is not mounted or its options are invalid');
  return {
    connect: () => void store.call?.connect(),
    hangup: () => after(store.call?.hangup()),
    muteAudio: (muted) => after(store.call?.muteAudio(muted)),
    muteVideo: (muted) => after(store.call?.muteVideo(muted)),
    startScreenShare: async (options) => {
      if (!store.call) throw noCall();
      return after(await store.call.startScreenShare(options));
    },
    stopScreenShare: async () => after(await store.call?.stopScreenShare()),
    createDataChannel: (config) => store.call?.createDataChannel(config) ?? new Map(),
    getDataChannelLabels: () => store.call?.getDataChannelLabels() ?? [],
    getDataChannelState: (peerId, label) => store.call?.getDataChannelState(peerId, label) ?? null,
    sendString: (label, data) => store.call?.sendString(label, data) ?? false,
    sendStringTo: (peerId, label, data) => store.call?.sendStringTo(peerId, label, data) ?? false,
    sendJSON: (label, data) => store.call?.sendJSON(label, data) ?? false,
    sendJSONTo: (peerId, label, data) => store.call?.sendJSONTo(peerId, label, data) ?? false,
    sendBinary: (label, data) => store.call?.sendBinary(label, data) ?? false,
    sendBinaryTo: (peerId, label, data) => store.call?.sendBinaryTo(peerId, label, data) ?? false,
    closeDataChannel: (label) => store.call?.closeDataChannel(label) ?? false,
    getQualitySummary: async (peerId) => (await store.call?.getQualitySummary(peerId)) ?? null,
    getAllQualitySummaries: async () => (await store.call?.getAllQualitySummaries()) ?? new Map(),
    startRecording: (streamId, options) => store.call?.startRecording(streamId, options) ?? null,
    isRecording: (streamId) => store.call?.isRecording(streamId) ?? false,
    stopAllRecordings: async () => (await store.call?.stopAllRecordings()) ?? new Map(),
  };
}

/** `{ iceServers: undefined }` means "not given": the provider's default still applies. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  const given: Partial<T> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) (given as Record<string, unknown>)[name] = value;
  }
  return given;
}
