// Server closes that end a call: a refused token, a replaced identity, a frame flood. A reconnect
// with the same token would be refused again, so these end the call instead of the reconnect loop.

import { namedError } from './errors.js';

/** Close codes of a socket refused by the server's auth, with what the user can do. */
const AUTH_HINTS = new Map([
  [4401, 'this server requires a join token: pass the token option or ?token= in signalUrl'],
  [4402, 'the token is not a join token (a JWT with the rtcroom claims)'],
  [4403, "the token was signed with another secret or key than the server's"],
  [4404, 'token expired: get a new one from your app'],
  [4405, 'the token is not valid yet (its nbf is in the future; check the clocks)'],
  [4406, "the server's auth refused this client"],
  [1011, "the server's auth check failed (a server fault; see the server's log)"],
]);

/** Closes after which a blind reconnect would only repeat what happened. */
const OTHER_FINAL = new Map([
  [4000, "the server's app kicked this client out of the room"],
  [4409, 'another client with the same identity joined the room and replaced this one'],
  [1008, 'this client sent more frames than the server allows'],
  [4410, 'this call was resumed on another connection (another tab, or a newer socket of this one)'],
]);

/**
 * The error that ends the call for this close, or null if a reconnect may help.
 * `AuthError` (4401-4406, 1011) or `SignalingClosedError` (4000, 4409, 4410, 1008), with `code` and `reason`.
 * @param {number} code
 * @param {string} reason
 * @returns {(Error & {code: number, reason: string}) | null}
 */
export function finalCloseError(code, reason) {
  const shown = redact(reason) || '(no reason given)';
  const hint = AUTH_HINTS.get(code) ?? OTHER_FINAL.get(code);
  if (hint === undefined) return null;
  const name = AUTH_HINTS.has(code) ? 'AuthError' : 'SignalingClosedError';
  const error = /** @type {Error & {code: number, reason: string}} */ (
    namedError(name, `${shown} (close code ${code}): ${hint}`)
  );
  error.code = code;
  error.reason = shown;
  return error;
}

/**
 * `text` without the value of any `token=` (a token is a credential).
 * @param {string} text
 */
export function redact(text) {
  return String(text).replace(/([?&;]token=)[^&#\s'"]*/gi, '$1REDACTED');
}

/**
 * The signal URL with `token` in its query (browsers cannot send an Authorization header on a
 * WebSocket). A token already in the URL is kept; giving both is a mistake.
 * @param {string} url a ws(s):// URL
 * @param {string | undefined} token
 */
export function withToken(url, token) {
  if (token === undefined || token === null) return url;
  if (typeof token !== 'string' || token === '') {
    throw new TypeError('token must be a non-empty string (a join token from your app)');
  }
  const parsed = new URL(url);
  if (parsed.searchParams.has('token')) {
    throw new TypeError('the token is given twice: as the token option and as ?token= in signalUrl');
  }
  parsed.searchParams.set('token', token);
  return parsed.href;
}
