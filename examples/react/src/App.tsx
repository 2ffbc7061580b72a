import { useState } from 'react';
import { RTCRoomProvider } from '@rtcroom/react';
import DataChat from './DataChat';
import VideoCall from './VideoCall';

// The page's address chooses what to show: ?room=<id>&view=chat|video (default: both), and
// optionally ?iceServers=<JSON array> (e.g. [] on a machine without internet access); without
// it, rtcroom.js uses its default STUN servers.
const params = new URLSearchParams(window.location.search);
const view = params.get('view');
const iceServers = params.has('iceServers')
  ? (JSON.parse(params.get('iceServers') ?? '[]') as RTCIceServer[])
  : undefined;

export function App() {
  const [roomId, setRoomId] = useState(params.get('room') ?? 'demo');
  return (
    <RTCRoomProvider defaults={{ iceServers }}>
      <h1>rtcroom + React</h1>
      <label>
        Room <input value={roomId} onChange={(e) => setRoomId(e.target.value)} />
      </label>
      {view !== 'video' && (
        <section>
          <h2>Data channel chat</h2>
          <DataChat roomId={roomId} />
        </section>
      )}
      {view !== 'chat' && (
        <section>
          <h2>Video call</h2>
          <VideoCall roomId={roomId} />
        </section>
      )}
    </RTCRoomProvider>
  );
}
