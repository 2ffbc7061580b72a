// A page on Agentuity's real useWebRTCCall (the npm package, untouched), for the end-to-end test
// that it and @rtcroom/react talk through `rtcroom serve`. ?room=<id>&view=chat|video.
// Options are module constants: Agentuity's hook rebuilds its call when an option object
// changes identity (the fault @rtcroom/react avoids), so inline literals would reconnect.
import { useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useWebRTCCall } from '@agentuity/react';

const params = new URLSearchParams(window.location.search);
const ROOM = params.get('room') ?? 'demo';
const VIDEO = params.get('view') === 'video';
const ICE_SERVERS = [];
const DATA_CHANNELS = [{ label: 'chat', ordered: true }];

function Remote({ stream }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = stream ?? null;
  }, [stream]);
  return <video className="remote-video" ref={ref} autoPlay playsInline muted />;
}

function AgentuityPeer() {
  const [messages, setMessages] = useState([]);
  const call = useWebRTCCall({
    roomId: ROOM,
    signalUrl: '/api/call/signal',
    media: VIDEO ? undefined : false,
    dataChannels: DATA_CHANNELS,
    iceServers: ICE_SERVERS,
    autoConnect: false,
    callbacks: {
      onDataChannelMessage: (from, label, data) => {
        console.log(`[${from}] ${data}`);
        setMessages((m) => [...m, `${label}:${from}:${data}`]);
      },
    },
  });
  window.agentuityCall = call; // the test reads peerId and sends through it
  return (
    <div>
      <p id="state">State: {call.state}</p>
      <button onClick={call.state === 'idle' ? call.connect : call.hangup}>
        {call.state === 'idle' ? 'Join' : 'Leave'}
      </button>
      <button onClick={() => call.sendString('chat', 'Hello from Agentuity!')}>Send</button>
      <ul id="messages">
        {messages.map((m, i) => (
          <li key={i}>{m}</li>
        ))}
      </ul>
      {call.remotePeerIds.map((id) => (
        <Remote key={id} stream={call.remoteStreams.get(id)} />
      ))}
    </div>
  );
}

createRoot(document.getElementById('root')).render(<AgentuityPeer />);
