// What React renders from a WebRTCCall. rtcroom.js tells us about changes through its callbacks;
// the store turns those into snapshots for useSyncExternalStore. A snapshot is a new object only
// when something the hook returns changed, so the component renders once per real change and
// never in a loop.

import { WebRTCCall } from './client.js';
import type { SignalingState, WebRTCClientCallbacks, WebRTCConnectionState } from './client.js';

export interface CallSnapshot {
  readonly state: WebRTCConnectionState;
  readonly error: Error | null;
  readonly peerId: string | null;
  readonly remotePeerIds: string[];
  readonly remoteStreams: Map<string, MediaStream>;
  readonly localStream: MediaStream | null;
  readonly isAudioMuted: boolean;
  readonly isVideoMuted: boolean;
  readonly isScreenSharing: boolean;
  readonly signalingState: SignalingState;
}

type Callbacks = Partial<WebRTCClientCallbacks>;
type AnyCallback = (...args: unknown[]) => void;

const IDLE: CallSnapshot = {
  state: 'idle',
  error: null,
  peerId: null,
  remotePeerIds: [],
  remoteStreams: new Map(),
  localStream: null,
  isAudioMuted: false,
  isVideoMuted: false,
  isScreenSharing: false,
  signalingState: 'open',
};

export class CallStore {
  /** The call the component shows; null before the first effect and after unmount. */
  call: WebRTCCall | null = null;
  /** The app's callbacks from the latest render. */
  callbacks: Callbacks | undefined;
  private snapshot: CallSnapshot = IDLE;
  private readonly listeners = new Set<() => void>();
  private refreshQueued = false;

  constructor(private readonly localVideoRef: { current: HTMLVideoElement | null }) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): CallSnapshot => this.snapshot;

  getServerSnapshot = (): CallSnapshot => IDLE;

  /** Callbacks for `call`: each one updates the snapshot (if `call` is still the shown one)
   * and then runs the app's callback of the same name from the latest render. */
  callbacksFor(call: WebRTCCall): Callbacks {
    const forwarders = new Map<string, AnyCallback>();
    return new Proxy({} as Callbacks, {
      get: (_target, name) => {
        if (typeof name !== 'string') return undefined;
        let forward = forwarders.get(name);
        if (!forward) {
          forward = (...args: unknown[]) => {
            if (call === this.call) this.onEvent(name, args);
            const callback = this.callbacks?.[name as keyof Callbacks] as AnyCallback | undefined;
            if (typeof callback === 'function') callback(...args);
          };
          forwarders.set(name, forward);
        }
        return forward;
      },
    });
  }

  /** Show `call` from now on (null: none), with `error` if making it failed. */
  show(call: WebRTCCall | null, error: Error | null = null): void {
    this.call = call;
    if (call) watchPeerId(call, () => call === this.call && this.queueRefresh());
    this.update(call ? read(call) : { ...IDLE, error });
  }

  /** Stop showing `call` (being disposed); the snapshot stays until the next call is shown. */
  forget(call: WebRTCCall): void {
    if (this.call === call) this.call = null;
  }

  /** Re-read the call now (after a method that changes what the hook returns). */
  refresh(): void {
    if (this.call) this.update(read(this.call));
  }

  private onEvent(name: string, args: unknown[]): void {
    if (name === 'onLocalStream') {
      // Straight away, as a plain <video ref={localVideoRef}> expects; the hook's effect also
      // catches a <video> that mounts later.
      const video = this.localVideoRef.current;
      if (video) video.srcObject = args[0] as MediaStream;
    }
    // rtcroom.js fires some callbacks just before it updates what they announce (onPeerJoined
    // comes before the peer's session exists): read the call once the current task is done.
    this.queueRefresh();
  }

  private queueRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      this.refresh();
    });
  }

  private update(next: CallSnapshot): void {
    if (sameSnapshot(this.snapshot, next)) return;
    this.snapshot = next;
    for (const listener of [...this.listeners]) listener();
  }
}

function read(call: WebRTCCall): CallSnapshot {
  return {
    state: call.state,
    error: call.error,
    peerId: call.peerId,
    remotePeerIds: call.remotePeerIds,
    remoteStreams: call.getRemoteStreams(),
    localStream: call.getLocalStream(),
    isAudioMuted: call.isAudioMuted,
    isVideoMuted: call.isVideoMuted,
    isScreenSharing: call.isScreenSharing,
    signalingState: call.signalingState,
  };
}

function sameSnapshot(a: CallSnapshot, b: CallSnapshot): boolean {
  return (
    a.state === b.state &&
    a.error === b.error &&
    a.peerId === b.peerId &&
    a.localStream === b.localStream &&
    a.isAudioMuted === b.isAudioMuted &&
    a.isVideoMuted === b.isVideoMuted &&
    a.isScreenSharing === b.isScreenSharing &&
    a.signalingState === b.signalingState &&
    a.remotePeerIds.length === b.remotePeerIds.length &&
    a.remotePeerIds.every((id, i) => id === b.remotePeerIds[i]) &&
    a.remoteStreams.size === b.remoteStreams.size &&
    [...a.remoteStreams].every(([id, stream]) => b.remoteStreams.get(id) === stream)
  );
}

/** rtcroom.js announces no event when the server assigns our peer id: a peer alone in its room
 * stays in 'signaling' with no callback. So that `peerId` shows while waiting, watch the public
 * `peerId` field itself, but only while it is a plain data field (anything else is left alone
 * and the id shows with the next callback). */
function watchPeerId(call: WebRTCCall, changed: () => void): void {
  const field = Object.getOwnPropertyDescriptor(call, 'peerId');
  if (!field || !('value' in field) || !field.writable || !field.configurable) return;
  let value: unknown = field.value;
  Object.defineProperty(call, 'peerId', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (next: unknown) => {
      if (next === value) return;
      value = next;
      changed();
    },
  });
}
