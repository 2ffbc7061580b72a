// "Client: Video Calls" from Agentuity's "Using WebRTC" page, as printed there but for the
// import lines ('@agentuity/react' -> '@rtcroom/react', and RemoteVideo, which the page uses
// without showing it) and ONE added line, marked below: the page's component destructures
// `connect` but never calls it, so with `autoConnect: false` it could never join a call.
import { useWebRTCCall } from '@rtcroom/react';
import { RemoteVideo } from './RemoteVideo';
 
function VideoCall({ roomId }: { roomId: string }) {
  const {
    localVideoRef,
    state,
    remotePeerIds,
    remoteStreams,
    isAudioMuted,
    isVideoMuted,
    connect,
    hangup,
    muteAudio,
    muteVideo,
  } = useWebRTCCall({
    roomId,
    signalUrl: '/api/call/signal',
    autoConnect: false,
  });
 
  return (
    <div>
      <video ref={localVideoRef} autoPlay muted playsInline />
 
      {remotePeerIds.map((id) => (
        <RemoteVideo key={id} stream={remoteStreams.get(id)} />
      ))}
 
      <button onClick={connect} disabled={state !== 'idle'}>Join</button>{/* the added line */}
      <button onClick={() => muteAudio(!isAudioMuted)}>
        {isAudioMuted ? 'Unmute' : 'Mute'}
      </button>
      <button onClick={() => muteVideo(!isVideoMuted)}>
        {isVideoMuted ? 'Show Video' : 'Hide Video'}
      </button>
      <button onClick={hangup}>Hang Up</button>
    </div>
  );
}

export default VideoCall;
