// The signaling WebSocket: JSON frames to and from the server, and the reconnect backoff.

const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30000;

/**
 * ws(s):// URL for a signalUrl that may be a path, an http(s) URL or a ws(s) URL.
 * @param {unknown} signalUrl
 * @returns {string}
 */
export function resolveSignalUrl(signalUrl) {
  if (typeof signalUrl !== 'string' || signalUrl === '') {
    throw new TypeError("WebRTCCall needs signalUrl, e.g. '/api/call/signal'");
  }
  const url = new URL(signalUrl, globalThis.location ? globalThis.location.href : undefined);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.href;
}

/**
 * Milliseconds before reconnect attempt `attempt` (1, 2, ...). Exponential backoff with "equal
 * jitter": half fixed, half random, so a room of peers that lost the same server does not come
 * back in lockstep.
 * @param {number} attempt
 */
export function reconnectDelay(attempt) {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * @typedef {object} SignalingHandlers
 * @property {() => void} open
 * @property {(message: any) => void} message a parsed JSON frame
 * @property {() => void} invalid a frame that is not JSON
 * @property {() => void} error
 * @property {(code: number, reason: string) => void} close the server or the network closed
 *   the socket (1006 and '' when no close frame came)
 */

/** One signaling WebSocket. After close() it reports nothing more. */
export class SignalingSocket {
  /**
   * Opens the socket; throws as `new WebSocket()` does for a URL it refuses.
   * @param {string} url
   * @param {SignalingHandlers} handlers
   */
  constructor(url, handlers) {
    const ws = new WebSocket(url);
    this._ws = ws;
    ws.onopen = () => handlers.open();
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        handlers.invalid();
        return;
      }
      handlers.message(message);
    };
    ws.onerror = () => handlers.error();
    ws.onclose = (event) => handlers.close(event.code, event.reason);
  }

  /**
   * Sends one frame if the socket is open; false if it is not.
   * @param {object} message
   */
  send(message) {
    if (this._ws.readyState !== WebSocket.OPEN) return false;
    this._ws.send(JSON.stringify(message));
    return true;
  }

  /** Hangs up: a close frame with code 1000, so the server lets us leave at once (a socket
   * that dies without one leaves a resuming peer away, waiting for its return). */
  close() {
    const ws = this._ws;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close(1000, 'hangup');
    } catch {
      // already closed
    }
  }
}
