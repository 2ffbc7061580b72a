import { useEffect, useRef } from 'react';

/** One remote peer's camera (and sound). The stream is undefined until their media arrives. */
export function RemoteVideo({ stream }: { stream: MediaStream | undefined }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = stream ?? null;
  }, [stream]);
  return <video className="remote-video" ref={ref} autoPlay playsInline />;
}
