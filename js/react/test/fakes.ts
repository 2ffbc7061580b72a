// Stand-ins for the two browser objects happy-dom lacks, so the real rtcroom.js runs under the
// hook: a WebSocket the test plays the server for, and the few RTCPeerConnection members a
// passive peer session touches before any SDP (enough for peers to join and leave).

export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  /** Every socket made since the last reset(), oldest first. */
  static all: FakeWebSocket[] = [];

  readyState = FakeWebSocket.CONNECTING;
  readonly sent: Record<string, unknown>[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }

  static reset(): void {
    FakeWebSocket.all = [];
  }

  /** Sockets the client has not closed. */
  static live(): FakeWebSocket[] {
    return FakeWebSocket.all.filter((ws) => ws.readyState !== FakeWebSocket.CLOSED);
  }

  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send() on a socket that is not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(): void {
    this.readyState = FakeWebSocket.CLOSED;
  }

  // -- the server's side ---------------------------------------------------------------------

  accept(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  /** Accept, answer the client's join with `peerId`, and report the room's other peers. */
  join(peerId: string, peers: string[] = []): void {
    this.accept();
    const join = this.sent.find((m) => m.t === 'join');
    if (!join) throw new Error('the client did not send join');
    this.deliver({ t: 'joined', peerId, roomId: join.roomId, peers });
  }

  deliver(message: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({});
  }
}

export class FakePeerConnection {
  static all: FakePeerConnection[] = [];
  iceConnectionState = 'new';
  connectionState = 'new';
  signalingState = 'stable';
  remoteDescription = null;
  closed = false;
  ontrack = null;
  ondatachannel = null;
  onicecandidate = null;
  onnegotiationneeded = null;
  oniceconnectionstatechange = null;
  onconnectionstatechange = null;

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.all.push(this);
  }

  addTrack(): void {}

  getSenders(): [] {
    return [];
  }

  close(): void {
    this.closed = true;
  }
}

/** A track-less MediaStream: happy-dom's own (its <video>.srcObject takes no other), given the
 * getTracks() that happy-dom leaves out. */
export function fakeStream(): MediaStream {
  const stream = new MediaStream();
  stream.getTracks ??= () => [...stream.getAudioTracks(), ...stream.getVideoTracks()];
  return stream;
}
