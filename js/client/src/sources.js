// Track sources: where the local stream comes from.

import { namedError } from './errors.js';

/** @typedef {import('../../../src/rtcroom/web/rtcroom.js').TrackSource} TrackSource */

/** Camera and microphone through getUserMedia. */
export class UserMediaSource {
  /** @param {MediaStreamConstraints} [constraints] */
  constructor(constraints = { video: true, audio: true }) {
    /** @type {'user-media'} */
    this.type = 'user-media';
    this.constraints = constraints;
    /** @type {MediaStream | null} */
    this._stream = null;
  }
  async getStream() {
    this._stream = await mediaDevices().getUserMedia(this.constraints);
    return this._stream;
  }
  stop() {
    stopTracks(this._stream);
    this._stream = null;
  }
}

/** A screen, window or tab through getDisplayMedia. */
export class DisplayMediaSource {
  /** @param {DisplayMediaStreamOptions} [constraints] */
  constructor(constraints = { video: true, audio: false }) {
    /** @type {'display-media'} */
    this.type = 'display-media';
    this.constraints = constraints;
    /** @type {MediaStream | null} */
    this._stream = null;
  }
  async getStream() {
    this._stream = await mediaDevices().getDisplayMedia(this.constraints);
    return this._stream;
  }
  stop() {
    stopTracks(this._stream);
    this._stream = null;
  }
}

/** A stream you already have (canvas, WebAudio, a <video>). Its tracks stay yours: stop()
 * does not end them, so you can keep using the stream after a hangup. */
export class CustomStreamSource {
  /** @param {MediaStream} stream */
  constructor(stream) {
    if (!stream || typeof stream.getTracks !== 'function') {
      throw new TypeError('CustomStreamSource needs a MediaStream, e.g. canvas.captureStream(30)');
    }
    /** @type {'custom'} */
    this.type = 'custom';
    this.stream = stream;
  }
  async getStream() {
    return this.stream;
  }
  stop() {}
}

/**
 * navigator.mediaDevices, or a clear error where browsers hide it (plain http from a host
 * other than localhost is not a secure context).
 * @returns {MediaDevices}
 */
export function mediaDevices() {
  if (!globalThis.navigator?.mediaDevices) {
    throw namedError(
      'NotSupportedError',
      'Camera, microphone and screen need a secure page: open it over https:// or from ' +
        'localhost (this page is plain http from another host)',
    );
  }
  return navigator.mediaDevices;
}

/** @param {MediaStream | null} stream */
export function stopTracks(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

/**
 * @param {unknown} media the `media` option
 * @returns {media is TrackSource}
 */
export function isTrackSource(media) {
  return (
    media !== null &&
    typeof media === 'object' &&
    typeof (/** @type {{getStream?: unknown}} */ (media).getStream) === 'function'
  );
}

/**
 * The video track of a screen, window or tab the user picks; its audio is not sent.
 * @param {DisplayMediaStreamOptions} options
 * @returns {Promise<MediaStreamTrack>}
 */
export async function captureScreen(options) {
  const display = await mediaDevices().getDisplayMedia(options);
  const screen = display.getVideoTracks()[0];
  for (const t of display.getAudioTracks()) t.stop(); // display audio is not sent
  if (!screen) throw new Error('Failed to get screen video track');
  return screen;
}
