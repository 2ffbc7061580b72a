// STUN/TURN servers handed out by the server (rtcroom's `joined.iceServers` extension), and
// fresh TURN credentials before the old ones expire on a long call.
//
// TURN credentials in coturn's REST scheme carry their expiry in the username
// (`<unix seconds>:<identity>`). Before that moment the call fetches `<signal path>/ice-servers`
// (same token as the socket) and gives the new list to every peer connection
// (setConfiguration); new connections and ICE restarts then use the fresh credentials.

const REFRESH_MARGIN = 0.2; // refresh when 80 % of the lifetime is used up...
const MIN_LEAD_MS = 1000; // ...and at least this long before the expiry
const RETRY_MS = 5000;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once past this
const MAX_HURRIED = 3; // refreshes in a row that came too late: this device's clock is off

/**
 * The server's list if it is a usable RTCIceServer[], else null (the field is an extension).
 * @param {unknown} value
 * @returns {RTCIceServer[] | null}
 */
export function serverIceServers(value) {
  if (!Array.isArray(value)) return null;
  for (const item of value) {
    if (!item || typeof item !== 'object') return null;
    const urls = /** @type {{urls?: unknown}} */ (item).urls;
    const list = typeof urls === 'string' ? [urls] : urls;
    if (!Array.isArray(list) || list.length === 0) return null;
    if (!list.every((u) => typeof u === 'string')) return null;
  }
  return /** @type {RTCIceServer[]} */ (value);
}

/**
 * Unix seconds when the earliest TURN credential in `servers` expires, or null if none does.
 * @param {RTCIceServer[]} servers
 */
export function credentialsExpireAt(servers) {
  let earliest = null;
  for (const server of servers) {
    const head = typeof server.username === 'string' ? server.username.split(':')[0] : '';
    if (!/^\d+$/.test(head)) continue;
    const at = Number(head);
    if (earliest === null || at < earliest) earliest = at;
  }
  return earliest;
}

/**
 * `GET <signal path>/ice-servers` beside a ws(s) signal URL, with its query (the token).
 * @param {string} signalUrl
 */
export function iceServersUrl(signalUrl) {
  const url = new URL(signalUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = url.pathname.replace(/\/$/, '') + '/ice-servers';
  url.hash = '';
  return url.href;
}

/** Schedules refreshes of server-issued credentials; `stop()` ends them. */
export class IceServerRefresh {
  /**
   * @param {string} signalUrl the ws(s) URL (its query carries the token)
   * @param {(servers: RTCIceServer[]) => void} apply called with each fresh list
   * @param {(error: Error) => void} warn a refresh failed (the call goes on)
   */
  constructor(signalUrl, apply, warn) {
    this._url = iceServersUrl(signalUrl);
    this._apply = apply;
    this._warn = warn;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this._timer = null;
    this._stopped = false;
    this._hurried = 0;
  }

  /**
   * Plan the refresh for credentials that expire at `expiresAt` (unix seconds; null: never).
   * @param {number | null} expiresAt
   */
  schedule(expiresAt) {
    this._clear();
    if (this._stopped || expiresAt === null) return;
    const left = expiresAt * 1000 - Date.now();
    this._hurried = left <= MIN_LEAD_MS ? this._hurried + 1 : 0;
    if (this._hurried > MAX_HURRIED) {
      this._warn(new Error('TURN credentials expire before they can be refreshed: check the clock'));
      return;
    }
    const wait = Math.max(MIN_LEAD_MS, Math.min(left * (1 - REFRESH_MARGIN), left - MIN_LEAD_MS));
    this._timer = setTimeout(() => this._refresh(expiresAt), Math.min(wait, MAX_TIMER_MS));
  }

  /** @param {number} expiresAt */
  async _refresh(expiresAt) {
    this._timer = null;
    try {
      const response = await fetch(this._url, { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      const servers = serverIceServers(body && body.iceServers);
      if (servers === null) throw new Error('the answer has no iceServers list');
      if (this._stopped) return;
      this._apply(servers);
      this.schedule(typeof body.expiresAt === 'number' ? body.expiresAt : null);
    } catch (err) {
      if (this._stopped) return;
      this._warn(
        new Error(`could not refresh the TURN credentials from <signal path>/ice-servers: ${err}`),
      );
      if (expiresAt * 1000 - Date.now() > RETRY_MS) {
        this._timer = setTimeout(() => this._refresh(expiresAt), RETRY_MS);
      }
    }
  }

  _clear() {
    if (this._timer !== null) clearTimeout(this._timer);
    this._timer = null;
  }

  stop() {
    this._stopped = true;
    this._clear();
  }
}
