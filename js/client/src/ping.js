// rtcroom's RTT ping (README "Media for Python peers"): a Python peer that makes the offer also
// opens a channel labelled 'rtcroom-ping' and waits for a first ping before it measures. The app
// never sees this channel: we ping until the peer shows it speaks the protocol, and answer its
// pings ('P' + 8-byte sequence -> 'O' + the same 8 bytes), so the Python side gets an RTT.

export const PING_CHANNEL_LABEL = 'rtcroom-ping';
const PING_INTERVAL_MS = 1000;
const MAX_UNANSWERED_PINGS = 30; // a peer that never answers is not pinged forever

/** @param {RTCDataChannel} channel the remote peer's 'rtcroom-ping' channel */
export function answerRttPings(channel) {
  channel.binaryType = 'arraybuffer';
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null;
  let sent = 0;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const ping = () => {
    if (channel.readyState !== 'open' || sent >= MAX_UNANSWERED_PINGS) return stop();
    const message = new Uint8Array(9);
    message[0] = 0x50; // 'P'
    new DataView(message.buffer).setBigUint64(1, BigInt(++sent));
    channel.send(message);
  };
  const opened = () => {
    ping();
    timer = setInterval(ping, PING_INTERVAL_MS);
  };
  channel.onopen = opened;
  channel.onclose = stop;
  channel.onmessage = (event) => {
    if (!(event.data instanceof ArrayBuffer) || event.data.byteLength !== 9) return;
    const message = new Uint8Array(event.data);
    if (message[0] === 0x50 && channel.readyState === 'open') {
      stop(); // the peer pings on its own now: it needs no more pings of ours
      message[0] = 0x4f; // 'O'
      channel.send(message);
    } else if (message[0] === 0x4f) {
      stop();
    }
  };
  if (channel.readyState === 'open') opened();
}
