// useWebRTCCall over the real rtcroom.js; the test plays the signaling server through
// FakeWebSocket. What a component sees: states, peers, one socket per mounted call.

import { StrictMode, useState } from 'react';
import type { ReactNode } from 'react';
import { act, render, renderHook, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CustomStreamSource,
  DisplayMediaSource,
  RTCRoomProvider,
  UserMediaSource,
  WebRTCCall,
  useWebRTCCall,
} from '../src/index.js';
import type { UseWebRTCCallOptions, UseWebRTCCallResult } from '../src/index.js';
import { FakePeerConnection, FakeWebSocket, fakeStream } from './fakes.js';

const SIGNAL = '/api/call/signal';

/** Let the hook's microtasks and effects run (deferred connect, refreshes). */
async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  });
}

function only(): FakeWebSocket {
  const live = FakeWebSocket.live();
  expect(live).toHaveLength(1);
  return live[0]!;
}

beforeEach(() => {
  FakeWebSocket.reset();
  FakePeerConnection.all = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('connecting', () => {
  it('joins on mount and shows its peer id while alone in the room', async () => {
    const { result } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers: [] }),
    );
    expect(result.current.state).toBe('idle');
    await settle();
    const ws = only();
    expect(ws.url).toBe('ws://127.0.0.1:5173/api/call/signal');
    expect(result.current.state).toBe('connecting');
    await act(async () => ws.join('peer-1'));
    await settle();
    expect(ws.sent).toEqual([{ t: 'join', roomId: 'r1', resume: true }]);
    expect(result.current.state).toBe('signaling');
    expect(result.current.peerId).toBe('peer-1');
    expect(result.current.isDataOnly).toBe(true);
  });

  it('waits for connect() when autoConnect is false, and hangs up on hangup()', async () => {
    const { result } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, autoConnect: false, iceServers: [] }),
    );
    await settle();
    expect(FakeWebSocket.all).toHaveLength(0);
    act(() => result.current.connect());
    await settle();
    await act(async () => only().join('peer-1'));
    await settle();
    expect(result.current.state).toBe('signaling');
    act(() => result.current.hangup());
    await settle();
    expect(FakeWebSocket.live()).toHaveLength(0);
    expect(result.current.state).toBe('idle');
    expect(result.current.peerId).toBeNull();
  });

  it('shows peers joining and leaving in remotePeerIds', async () => {
    const { result } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers: [] }),
    );
    await settle();
    const ws = only();
    await act(async () => ws.join('peer-1'));
    await act(async () => ws.deliver({ t: 'peer-joined', peerId: 'peer-2' }));
    await settle();
    expect(result.current.remotePeerIds).toEqual(['peer-2']);
    expect(FakePeerConnection.all[0]!.config).toEqual({ iceServers: [] });
    await act(async () => ws.deliver({ t: 'peer-left', peerId: 'peer-2' }));
    await settle();
    expect(result.current.remotePeerIds).toEqual([]);
    expect(FakePeerConnection.all[0]!.closed).toBe(true);
  });

  it('turns an invalid option into `error` instead of crashing the tree, then recovers', async () => {
    const { result, rerender } = renderHook((roomId: string) =>
      useWebRTCCall({ roomId, signalUrl: SIGNAL, media: false, iceServers: [] }),
    { initialProps: '' });
    await settle();
    expect(result.current.error?.message).toMatch(/roomId/);
    expect(result.current.sendString('chat', 'x')).toBe(false);
    expect(FakeWebSocket.all).toHaveLength(0);
    rerender('r1');
    await settle();
    expect(result.current.error).toBeNull();
    expect(only().url).toContain(SIGNAL);
  });
});

describe('renders', () => {
  it('settles after a join with inline options and never opens a second socket', async () => {
    let renders = 0;
    const { result, rerender } = renderHook(() => {
      renders++;
      return useWebRTCCall({
        roomId: 'r1',
        signalUrl: SIGNAL,
        media: false,
        dataChannels: [{ label: 'chat', ordered: true }],
        iceServers: [],
        callbacks: { onStateChange: () => {} },
      });
    });
    await settle();
    await act(async () => only().join('peer-1'));
    await settle();
    await act(async () => only().deliver({ t: 'peer-joined', peerId: 'peer-2' }));
    await settle();
    const afterJoin = renders;
    expect(afterJoin).toBeLessThan(12); // one render per change: connecting, signaling, id, peer
    await settle();
    expect(renders).toBe(afterJoin); // nothing renders without a change
    for (let i = 0; i < 20; i++) rerender();
    await settle();
    expect(FakeWebSocket.all).toHaveLength(1);
    expect(only().sent).toEqual([{ t: 'join', roomId: 'r1', resume: true }]);
    expect(result.current.state).toBe('signaling');
    expect(result.current.remotePeerIds).toEqual(['peer-2']);
  });

  it('keeps the call when media is a new but equal TrackSource or constraint object each render', async () => {
    const getDisplayMedia = vi.fn(async () => fakeStream());
    const getUserMedia = vi.fn(async () => fakeStream());
    vi.stubGlobal('navigator', { mediaDevices: { getDisplayMedia, getUserMedia } });
    const screenCall = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: new DisplayMediaSource(), iceServers: [] }),
    );
    const cameraCall = renderHook(() =>
      useWebRTCCall({ roomId: 'r2', signalUrl: SIGNAL, media: { audio: true, video: { width: 640 } }, iceServers: [] }),
    );
    await settle();
    for (let i = 0; i < 5; i++) {
      screenCall.rerender();
      cameraCall.rerender();
    }
    await settle();
    expect(getDisplayMedia).toHaveBeenCalledTimes(1);
    expect(getUserMedia).toHaveBeenCalledTimes(1);
    expect(getUserMedia).toHaveBeenCalledWith({ audio: true, video: { width: 640 } });
    expect(FakeWebSocket.live()).toHaveLength(2);
    expect(FakeWebSocket.all).toHaveLength(2);
  });

  it('replaces the call when an option changes in value', async () => {
    const { rerender } = renderHook(
      (iceServers: RTCIceServer[]) =>
        useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers }),
      { initialProps: [] as RTCIceServer[] },
    );
    await settle();
    const first = only();
    rerender([]); // same value, new array
    await settle();
    expect(only()).toBe(first);
    rerender([{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }]);
    await settle();
    expect(first.readyState).toBe(FakeWebSocket.CLOSED);
    expect(only()).not.toBe(first);
  });
});

describe('callbacks', () => {
  it('always calls the callbacks of the latest render', async () => {
    const first = vi.fn();
    const latest = vi.fn();
    const { rerender } = renderHook(
      (onError: (e: Error) => void) =>
        useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers: [], callbacks: { onError } }),
      { initialProps: first as (e: Error) => void },
    );
    await settle();
    await act(async () => only().join('peer-1'));
    rerender(latest);
    await act(async () => only().deliver({ t: 'error', message: 'Not in a room' }));
    await settle();
    expect(first).not.toHaveBeenCalled();
    expect(latest).toHaveBeenCalledTimes(1);
    expect(latest.mock.calls[0]![0]).toMatchObject({ name: 'SignalingError', message: 'Not in a room' });
    expect(FakeWebSocket.all).toHaveLength(1); // new callbacks are not a new call
  });

  it('passes every callback the app gives, with the state already updated', async () => {
    const seen: string[] = [];
    let latestResult: UseWebRTCCallResult | null = null;
    const { result } = renderHook(() => {
      const r = useWebRTCCall({
        roomId: 'r1',
        signalUrl: SIGNAL,
        media: false,
        iceServers: [],
        callbacks: {
          onStateChange: (from, to, reason) => seen.push(`${from}->${to}:${reason}`),
          onPeerJoined: (id) => seen.push(`joined ${id}`),
        },
      });
      latestResult = r;
      return r;
    });
    await settle();
    await act(async () => only().join('peer-1'));
    await act(async () => only().deliver({ t: 'peer-joined', peerId: 'peer-2' }));
    await settle();
    expect(seen).toEqual([
      'idle->connecting:connect() called',
      'connecting->signaling:WebSocket opened',
      'joined peer-2',
    ]);
    expect(result.current).toBe(latestResult);
  });
});

describe('signaling lost and resumed', () => {
  /** Joined as peer-1 with a resume token; peer-2's connection is up (ICE connected). */
  async function inACall(onSignalingLost = vi.fn(), onSignalingRestored = vi.fn()) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const rendered = renderHook(() =>
      useWebRTCCall({
        roomId: 'r1',
        signalUrl: SIGNAL,
        media: false,
        iceServers: [],
        callbacks: { onSignalingLost, onSignalingRestored },
      }),
    );
    await settle();
    const ws = only();
    await act(async () => {
      ws.accept();
      ws.deliver({ t: 'joined', peerId: 'peer-1', roomId: 'r1', peers: [], resumeToken: 'T1', resumeGrace: 30 });
      ws.deliver({ t: 'peer-joined', peerId: 'peer-2' });
    });
    await settle();
    const pc = FakePeerConnection.all[0]!;
    await act(async () => {
      pc.iceConnectionState = 'connected';
      (pc.oniceconnectionstatechange as unknown as () => void)();
    });
    await settle();
    expect(rendered.result.current.state).toBe('connected');
    return { ...rendered, ws, pc };
  }

  it('keeps the call while signaling is away and resumes under the same peer id', async () => {
    const onSignalingLost = vi.fn();
    const onSignalingRestored = vi.fn();
    const { result, ws, pc } = await inACall(onSignalingLost, onSignalingRestored);
    expect(result.current.signalingState).toBe('open');
    await act(async () => ws.drop());
    await settle();
    expect(result.current.signalingState).toBe('lost');
    expect(result.current.state).toBe('connected');
    expect(result.current.peerId).toBe('peer-1');
    expect(result.current.remotePeerIds).toEqual(['peer-2']);
    expect(onSignalingLost).toHaveBeenCalledTimes(1);
    expect(pc.closed).toBe(false);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1_100);
    });
    const next = only();
    expect(next).not.toBe(ws);
    await act(async () => next.accept());
    expect(next.sent).toEqual([{ t: 'join', roomId: 'r1', resumeToken: 'T1' }]);
    await act(async () =>
      next.deliver({ t: 'joined', peerId: 'peer-1', roomId: 'r1', peers: ['peer-2'], resumed: true, resumeToken: 'T2' }),
    );
    await settle();
    expect(result.current.signalingState).toBe('open');
    expect(result.current.state).toBe('connected');
    expect(result.current.remotePeerIds).toEqual(['peer-2']);
    expect(onSignalingRestored).toHaveBeenCalledWith(true);
    expect(FakePeerConnection.all).toHaveLength(1); // no new peer connection
  });

  it('falls back to a fresh join on the same socket when the server refuses the resume', async () => {
    const onSignalingRestored = vi.fn();
    const { result, ws, pc } = await inACall(vi.fn(), onSignalingRestored);
    await act(async () => ws.drop());
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1_100);
    });
    const next = only();
    await act(async () => next.accept());
    await act(async () =>
      next.deliver({ t: 'error', message: 'Resume refused: this peer already left the room' }),
    );
    await settle();
    expect(next.sent).toEqual([
      { t: 'join', roomId: 'r1', resumeToken: 'T1' },
      { t: 'join', roomId: 'r1', resume: true },
    ]);
    expect(pc.closed).toBe(true);
    expect(result.current.remotePeerIds).toEqual([]);
    expect(result.current.signalingState).toBe('open');
    expect(onSignalingRestored).toHaveBeenCalledWith(false);
    await act(async () => next.deliver({ t: 'joined', peerId: 'peer-9', roomId: 'r1', peers: [] }));
    await settle();
    expect(result.current.peerId).toBe('peer-9');
    expect(result.current.state).toBe('signaling');
  });

  it('without a resume token a lost socket reconnects as before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const onSignalingLost = vi.fn();
    const { result } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers: [], callbacks: { onSignalingLost } }),
    );
    await settle();
    const ws = only();
    await act(async () => ws.join('peer-1'));
    await act(async () => ws.drop());
    await settle();
    expect(result.current.state).toBe('connecting');
    expect(result.current.signalingState).toBe('open');
    expect(result.current.peerId).toBeNull();
    expect(onSignalingLost).not.toHaveBeenCalled();
  });
});

describe('lifecycle', () => {
  it('StrictMode double mount leaves exactly one socket, joined once', async () => {
    const getUserMedia = vi.fn(async () => fakeStream());
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia } });
    const { result } = renderHook(
      () => useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, iceServers: [] }),
      { wrapper: StrictMode },
    );
    await settle();
    expect(FakeWebSocket.all).toHaveLength(1); // the trial mount opened nothing
    expect(getUserMedia).toHaveBeenCalledTimes(1); // nor the camera
    await act(async () => only().join('peer-1'));
    await settle();
    expect(only().sent).toEqual([{ t: 'join', roomId: 'r1', resume: true }]);
    expect(result.current.state).toBe('signaling');
    expect(result.current.peerId).toBe('peer-1');
  });

  it('StrictMode with autoConnect false: connect() opens one socket', async () => {
    const { result } = renderHook(
      () => useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, autoConnect: false, iceServers: [] }),
      { wrapper: StrictMode },
    );
    await settle();
    act(() => result.current.connect());
    await settle();
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it('unmount hangs up: the socket closes and nothing reconnects', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const onDisconnect = vi.fn();
    const { unmount } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers: [], callbacks: { onDisconnect } }),
    );
    await settle();
    const ws = only();
    await act(async () => ws.join('peer-1'));
    unmount();
    expect(ws.readyState).toBe(FakeWebSocket.CLOSED);
    expect(onDisconnect).toHaveBeenCalledWith('hangup');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(120_000);
    });
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it('methods called after unmount find no call', async () => {
    const onError = vi.fn();
    const { result, unmount } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, iceServers: [], callbacks: { onError } }),
    );
    await settle();
    unmount();
    result.current.connect();
    expect(result.current.sendString('chat', 'x')).toBe(false);
    await expect(result.current.startScreenShare()).rejects.toThrow(/not mounted/);
    expect(onError).not.toHaveBeenCalled();
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it('unmount while the camera is opening releases it and opens no socket', async () => {
    let grant: (s: MediaStream) => void = () => {};
    const stop = vi.fn();
    const camera = fakeStream();
    camera.getTracks = () => [{ stop } as unknown as MediaStreamTrack];
    vi.stubGlobal('navigator', {
      mediaDevices: { getUserMedia: () => new Promise<MediaStream>((resolve) => (grant = resolve)) },
    });
    const { unmount } = renderHook(() => useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, iceServers: [] }));
    await settle();
    unmount();
    await act(async () => grant(camera));
    await settle();
    expect(FakeWebSocket.all).toHaveLength(0);
    expect(stop).toHaveBeenCalled();
  });

  it('a new roomId leaves the old room and joins the new one', async () => {
    const { result, rerender } = renderHook(
      (roomId: string) => useWebRTCCall({ roomId, signalUrl: SIGNAL, media: false, iceServers: [] }),
      { initialProps: 'r1' },
    );
    await settle();
    const old = only();
    await act(async () => old.join('peer-1'));
    rerender('r2');
    await settle();
    expect(old.readyState).toBe(FakeWebSocket.CLOSED);
    const next = only();
    await act(async () => next.join('peer-9'));
    await settle();
    expect(next.sent).toEqual([{ t: 'join', roomId: 'r2', resume: true }]);
    expect(result.current.peerId).toBe('peer-9');
    expect(result.current.state).toBe('signaling');
  });

  it('with autoConnect false, a new roomId rejoins only if the user was in a call', async () => {
    const { result, rerender } = renderHook(
      (roomId: string) =>
        useWebRTCCall({ roomId, signalUrl: SIGNAL, media: false, autoConnect: false, iceServers: [] }),
      { initialProps: 'r1' },
    );
    await settle();
    rerender('r2'); // idle: stays idle
    await settle();
    expect(FakeWebSocket.all).toHaveLength(0);
    act(() => result.current.connect());
    await settle();
    await act(async () => only().join('peer-1'));
    rerender('r3'); // in a call: follows the room
    await settle();
    expect(only().sent).toEqual([]);
    await act(async () => only().accept());
    expect(only().sent).toEqual([{ t: 'join', roomId: 'r3', resume: true }]);
    expect(FakeWebSocket.all).toHaveLength(2);
  });

  it('a new room keeps the microphone and camera muted', async () => {
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: async () => fakeStream() } });
    const { result, rerender } = renderHook(
      (roomId: string) => useWebRTCCall({ roomId, signalUrl: SIGNAL, iceServers: [] }),
      { initialProps: 'r1' },
    );
    await settle();
    act(() => result.current.muteAudio(true));
    expect(result.current.isAudioMuted).toBe(true);
    expect(result.current.isVideoMuted).toBe(false);
    rerender('r2');
    await settle();
    expect(result.current.isAudioMuted).toBe(true);
    act(() => result.current.muteAudio(false));
    expect(result.current.isAudioMuted).toBe(false);
  });
});

describe('local video and sources', () => {
  function LocalPreview({ show }: { show: boolean }): ReactNode {
    const { localVideoRef, state } = useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, iceServers: [] });
    return (
      <div>
        <p>State: {state}</p>
        {show && <video data-testid="local" ref={localVideoRef} autoPlay muted playsInline />}
      </div>
    );
  }

  it('shows the local stream in a <video> that mounts after the stream arrived', async () => {
    const camera = fakeStream();
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: async () => camera } });
    const { rerender } = render(<LocalPreview show={false} />);
    await settle();
    expect(screen.getByText('State: connecting')).toBeTruthy();
    rerender(<LocalPreview show />);
    await settle();
    const video = screen.getByTestId('local') as HTMLVideoElement;
    expect(video.srcObject).toBe(camera);
  });

  it('exports the three track sources of rtcroom.js', async () => {
    const stream = fakeStream();
    expect(new UserMediaSource().type).toBe('user-media');
    expect(new DisplayMediaSource().type).toBe('display-media');
    const custom = new CustomStreamSource(stream);
    expect(custom.type).toBe('custom');
    await expect(custom.getStream()).resolves.toBe(stream);
    expect(() => new CustomStreamSource(null as unknown as MediaStream)).toThrow(/MediaStream/);
  });

  it('takes app-wide defaults from RTCRoomProvider; the hook option wins', async () => {
    const wrapper = ({ children }: { children: ReactNode }) => (
      <RTCRoomProvider defaults={{ iceServers: [{ urls: 'stun:127.0.0.1:3478' }] }}>{children}</RTCRoomProvider>
    );
    const calls = renderHook(
      (options: Partial<UseWebRTCCallOptions>) =>
        useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, ...options }),
      { wrapper, initialProps: {} },
    );
    await settle();
    await act(async () => only().join('peer-1'));
    await act(async () => only().deliver({ t: 'peer-joined', peerId: 'peer-2' }));
    expect(FakePeerConnection.all[0]!.config).toEqual({ iceServers: [{ urls: 'stun:127.0.0.1:3478' }] });
    calls.rerender({ iceServers: [] });
    await settle();
    await act(async () => only().join('peer-3'));
    await act(async () => only().deliver({ t: 'peer-joined', peerId: 'peer-4' }));
    expect(FakePeerConnection.all[1]!.config).toEqual({ iceServers: [] });
  });
});

describe('a component as in the documentation', () => {
  function Switcher(): ReactNode {
    const [roomId, setRoomId] = useState('a');
    const { state } = useWebRTCCall({ roomId, signalUrl: SIGNAL, media: false, iceServers: [] });
    return <button onClick={() => setRoomId('b')}>{`${roomId}:${state}`}</button>;
  }

  it('switches rooms from a click', async () => {
    render(
      <StrictMode>
        <Switcher />
      </StrictMode>,
    );
    await settle();
    await act(async () => only().join('peer-1'));
    await settle();
    expect(screen.getByRole('button').textContent).toBe('a:signaling');
    act(() => screen.getByRole('button').click());
    await settle();
    expect(screen.getByRole('button').textContent).toBe('b:connecting');
    expect(FakeWebSocket.all).toHaveLength(2);
    await act(async () => only().join('peer-2'));
    expect(only().sent).toEqual([{ t: 'join', roomId: 'b', resume: true }]);
  });
});

describe('methods', () => {
  // Each hook method hands its arguments to the call's method of the same name and returns
  // what it returns (the data channel, quality and recording logic is rtcroom.js's).
  const CASES: [string, unknown[]][] = [
    ['createDataChannel', [{ label: 'extra', ordered: false }]],
    ['getDataChannelLabels', []],
    ['getDataChannelState', ['peer-2', 'chat']],
    ['sendString', ['chat', 'hi']],
    ['sendStringTo', ['peer-2', 'chat', 'hi']],
    ['sendJSON', ['state', { x: 1 }]],
    ['sendJSONTo', ['peer-2', 'state', { x: 1 }]],
    ['sendBinary', ['file', new Uint8Array([1, 2])]],
    ['sendBinaryTo', ['peer-2', 'file', new Uint8Array([1, 2])]],
    ['closeDataChannel', ['chat']],
    ['getQualitySummary', ['peer-2']],
    ['getAllQualitySummaries', []],
    ['startRecording', ['local', { mimeType: 'video/webm' }]],
    ['isRecording', ['local']],
    ['stopAllRecordings', []],
    ['startScreenShare', [{ video: true }]],
    ['stopScreenShare', []],
  ];

  it.each(CASES)('%s goes to the call', async (name, args) => {
    const marker = { from: name };
    const proto = WebRTCCall.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const spy = vi.spyOn(proto, name).mockImplementation(() => marker);
    const { result } = renderHook(() =>
      useWebRTCCall({ roomId: 'r1', signalUrl: SIGNAL, media: false, autoConnect: false, iceServers: [] }),
    );
    await settle();
    const method = (result.current as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    const returned = await method(...args);
    expect(spy).toHaveBeenCalledWith(...args);
    if (!['startScreenShare', 'stopScreenShare'].includes(name)) expect(returned).toBe(marker);
    spy.mockRestore();
  });

  it('answers without a call as rtcroom.js would with no peers', async () => {
    const { result } = renderHook(() => useWebRTCCall({ roomId: '', signalUrl: SIGNAL, iceServers: [] }));
    await settle();
    const r = result.current;
    expect(r.createDataChannel({ label: 'x' })).toEqual(new Map());
    expect(r.getDataChannelLabels()).toEqual([]);
    expect(r.getDataChannelState('p', 'x')).toBeNull();
    expect(r.sendJSON('x', 1)).toBe(false);
    expect(r.closeDataChannel('x')).toBe(false);
    await expect(r.getQualitySummary('p')).resolves.toBeNull();
    await expect(r.getAllQualitySummaries()).resolves.toEqual(new Map());
    expect(r.startRecording('local')).toBeNull();
    expect(r.isRecording('local')).toBe(false);
    await expect(r.stopAllRecordings()).resolves.toEqual(new Map());
    await expect(r.startScreenShare()).rejects.toThrow(/no call/);
  });
});
