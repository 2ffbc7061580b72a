// "Handling Errors" from Agentuity's "Using WebRTC" page, as printed there but for the import
// line ('@agentuity/react' -> '@rtcroom/react'). It connects on mount (autoConnect defaults to
// true), so under StrictMode in development React mounts it twice: one call must remain.
import { useWebRTCCall } from '@rtcroom/react';
 
function VideoCallWithErrorHandling({ roomId }: { roomId: string }) {
  const { state, error } = useWebRTCCall({
    roomId,
    signalUrl: '/api/call/signal',
    callbacks: {
      onError: (err, currentState) => {
        if (err.name === 'NotAllowedError') {
          // User denied camera/mic permission
        }
      },
      onReconnecting: (attempt) => {
        console.log(`Reconnection attempt ${attempt}`);
      },
      onReconnectFailed: () => {
        console.log('Could not reconnect');
      },
    },
  });
 
  return <p>State: {state}</p>;
}

export default VideoCallWithErrorHandling;
