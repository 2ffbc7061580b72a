import { useState } from 'react';
import { RTCRoomProvider } from '@rtcroom/react';
import DataChat from './DataChat';
import ResumingChat from './ResumingChat';
import VideoCall from './VideoCall';
import VideoCallWithErrorHandling from './VideoCallWithErrorHandling';

// The page's address chooses what to show: ?room=<id>&view=chat|video|errors|resume (default:
// chat and video; 'errors' is the page's error-handling call, which joins on mount; 'resume' a
// chat that shows when signaling is lost, also joining on mount), and
// optionally ?iceServers=<JSON array> (e.g. [] on a machine without internet access); without
// it, rtcroom.js uses its default STUN servers.
const params = new URLSearchParams(window.location.search);
const view = params.get('view') ?? 'chat,video';
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
      {view.includes('chat') && (
        <section>
          <h2>Data channel chat</h2>
          <DataChat roomId={roomId} />
        </section>
      )}
      {view.includes('video') && (
        <section>
          <h2>Video call</h2>
          <VideoCall roomId={roomId} />
        </section>
      )}
      {view.includes('resume') && (
        <section>
          <h2>Chat that outlives the signaling server</h2>
          <ResumingChat roomId={roomId} />
        </section>
      )}
      {view.includes('errors') && (
        <section>
          <h2>Video call that joins on mount</h2>
          <VideoCallWithErrorHandling roomId={roomId} />
        </section>
      )}
    </RTCRoomProvider>
  );
}
