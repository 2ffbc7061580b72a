// What we send: the local stream, the source it comes from, mute, and the screen sent in place
// of the camera.

import { CustomStreamSource, UserMediaSource, isTrackSource, stopTracks } from './sources.js';

/**
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').WebRTCCallOptions} WebRTCCallOptions
 * @typedef {import('../../../src/rtcroom/web/rtcroom.js').TrackSource} TrackSource
 */

export class LocalMedia {
  constructor() {
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {MediaStreamTrack | null} */
    this.cameraTrack = null;
    /** @type {MediaStreamTrack | null} */
    this.screenTrack = null;
    this.audioMuted = false;
    this.videoMuted = false;
    /** @type {TrackSource | null} */
    this._source = null;
    this._ownsStream = false; // a stream made for screen share alone: its tracks are ours to stop
  }

  /**
   * Opens the stream the `media` option asks for (camera and microphone by default).
   * @param {WebRTCCallOptions['media']} media
   * @param {() => boolean} stillWanted false once the call has hung up meanwhile
   * @returns {Promise<MediaStream | null>} the new stream, or null if it is no longer wanted
   */
  async open(media, stillWanted) {
    const source = isTrackSource(media)
      ? media
      : new UserMediaSource(/** @type {MediaStreamConstraints | undefined} */ (media ?? undefined));
    const stream = await source.getStream();
    if (!stillWanted()) {
      if (!(source instanceof CustomStreamSource)) source.stop();
      return null;
    }
    this._source = source;
    this.stream = stream;
    this.cameraTrack = stream.getVideoTracks()[0] ?? null;
    this.applyMute();
    return stream;
  }

  /** Stops what we opened (a CustomStreamSource's tracks stay running) and forgets the stream. */
  release() {
    if (this._source) this._source.stop();
    else if (this._ownsStream) stopTracks(this.stream);
    this._source = null;
    this._ownsStream = false;
    this.stream = null;
    this.cameraTrack = null;
  }

  /** Muting disables the outgoing tracks: the remote side receives silence and black frames. */
  applyMute() {
    if (!this.stream) return;
    for (const t of this.stream.getAudioTracks()) t.enabled = !this.audioMuted;
    for (const t of this.stream.getVideoTracks()) t.enabled = !this.videoMuted;
    if (this.cameraTrack) this.cameraTrack.enabled = !this.videoMuted;
  }

  /**
   * Puts `screen` in the local stream in place of the camera.
   * @param {MediaStreamTrack} screen
   * @param {() => void} onEnded the user stopped sharing from the browser's own controls
   * @returns {{camera: MediaStreamTrack | null, stream: MediaStream}}
   */
  useScreen(screen, onEnded) {
    if (!this.stream) {
      this.stream = new MediaStream();
      this._ownsStream = true;
    }
    const stream = this.stream;
    const camera = this.cameraTrack;
    if (camera) stream.removeTrack(camera);
    stream.addTrack(screen);
    this.screenTrack = screen;
    screen.enabled = !this.videoMuted;
    // Text on a screen must stay sharp: lower the frame rate, not the resolution, under load.
    if (!screen.contentHint) screen.contentHint = 'detail';
    screen.addEventListener('ended', () => {
      if (this.screenTrack === screen) onEnded();
    });
    return { camera, stream };
  }

  /** Ends the screen track and takes it out of the local stream. */
  stopScreen() {
    const screen = this.screenTrack;
    if (!screen) return;
    this.screenTrack = null;
    screen.stop();
    if (this.stream) this.stream.removeTrack(screen);
  }

  /**
   * Puts the camera back into the local stream after a screen share.
   * @returns {MediaStreamTrack | null} the camera track, if there is one
   */
  restoreCamera() {
    const camera = this.cameraTrack;
    if (this.stream && camera) this.stream.addTrack(camera);
    return camera;
  }
}
