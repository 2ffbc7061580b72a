// "Client: Data Channels" from Agentuity's "Using WebRTC" page, as printed there but for the
// import line ('@agentuity/react' -> '@rtcroom/react').
import { useWebRTCCall } from '@rtcroom/react';
 
function DataChat({ roomId }: { roomId: string }) {
  const {
    state,
    peerId,
    remotePeerIds,
    connect,
    hangup,
    sendString,
  } = useWebRTCCall({
    roomId,
    signalUrl: '/api/call/signal',
    media: false, 
    dataChannels: [{ label: 'chat', ordered: true }], 
    autoConnect: false,
    callbacks: {
      onDataChannelMessage: (from, label, data) => {
        console.log(`[${from}] ${data}`);
      },
    },
  });
 
  return (
    <div>
      <p>State: {state}</p>
      <button onClick={state === 'idle' ? connect : hangup}>
        {state === 'idle' ? 'Join' : 'Leave'}
      </button>
      <button onClick={() => sendString('chat', 'Hello!')}>
        Send
      </button>
    </div>
  );
}

export default DataChat;
