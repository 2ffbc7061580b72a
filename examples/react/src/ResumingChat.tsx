// Not on Agentuity's page: rtcroom's resume. When the signaling server goes away (a deploy, a
// crash, a dropped socket), the call goes on peer to peer and `signalingState` says so; the
// hook resumes in the background under the same peer id.
import { useWebRTCCall } from '@rtcroom/react';

function ResumingChat({ roomId }: { roomId: string }) {
  const { state, signalingState, peerId, sendString } = useWebRTCCall({
    roomId,
    signalUrl: '/api/call/signal',
    media: false,
    dataChannels: [{ label: 'chat', ordered: true }],
    callbacks: {
      onDataChannelMessage: (from, label, data) => console.log(`[${from}] ${data}`),
      onSignalingLost: (reason) => console.log(`signaling lost (${reason})`),
      onSignalingRestored: (resumed) => console.log(`signaling restored, resumed: ${resumed}`),
    },
  });

  return (
    <div>
      <p>State: {state}</p>
      <p>Peer: {peerId}</p>
      {signalingState === 'lost' && <p role="status">Signaling lost — call continues</p>}
      <button onClick={() => sendString('chat', `Hello from ${peerId}`)}>Say hello</button>
    </div>
  );
}

export default ResumingChat;
