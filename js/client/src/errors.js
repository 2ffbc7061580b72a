// Errors the call reports through onError.

/**
 * An Error whose name says what failed, so an app can branch on error.name
 * ('RoomFullError', 'SignalingError', 'NotSupportedError').
 * @param {string} name
 * @param {string} message
 * @returns {Error}
 */
export function namedError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Anything thrown, as an Error (a rejected promise may carry any value).
 * @param {unknown} value
 * @returns {Error}
 */
export function asError(value) {
  return value instanceof Error ? value : new Error(String(value));
}
