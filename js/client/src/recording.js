// Recording a local or remote stream with MediaRecorder.

/** @typedef {import('../../../src/rtcroom/web/rtcroom.js').RecordingOptions} RecordingOptions */
/** @typedef {import('../../../src/rtcroom/web/rtcroom.js').RecordingState} RecordingState */

const STOP_RECORDING_TIMEOUT_MS = 5000;
const VIDEO_MIME_TYPES = [
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm',
  'video/mp4',
];
const AUDIO_MIME_TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg'];

/** One running MediaRecorder and the chunks it has produced. */
class RecordingHandle {
  /**
   * @param {string} streamId
   * @param {MediaRecorder} recorder
   * @param {string} mimeType
   * @param {(handle: RecordingHandle) => void} onFinish
   */
  constructor(streamId, recorder, mimeType, onFinish) {
    this.streamId = streamId;
    this.mimeType = mimeType;
    this._recorder = recorder;
    /** @type {Blob[]} */
    this._chunks = [];
    this._onFinish = onFinish;
    /** @type {Promise<Blob> | null} */
    this._stopped = null;
    recorder.ondataavailable = (event) => {
      if (event.data && event.data.size > 0) this._chunks.push(event.data);
    };
  }

  /** @returns {RecordingState} */
  get state() {
    return this._recorder.state;
  }

  pause() {
    if (this._recorder.state === 'recording') this._recorder.pause();
  }

  resume() {
    if (this._recorder.state === 'paused') this._recorder.resume();
  }

  /**
   * Stops the recorder and resolves with everything recorded (empty Blob if nothing was).
   * @returns {Promise<Blob>}
   */
  stop() {
    if (!this._stopped) {
      this._stopped = new Promise((resolve) => {
        const finish = () => {
          this._onFinish(this);
          resolve(new Blob(this._chunks, { type: this.mimeType }));
        };
        if (this._recorder.state === 'inactive') {
          finish();
          return;
        }
        this._recorder.addEventListener('stop', finish, { once: true });
        this._recorder.stop();
      });
    }
    return this._stopped;
  }
}

/** The recordings of one call, at most one running per stream id. */
export class Recordings {
  constructor() {
    /** @type {Map<string, RecordingHandle>} */
    this._handles = new Map(); // streamId -> RecordingHandle
  }

  /**
   * Record `stream` as `streamId`; null if there is no stream or no format to record it in.
   * @param {string} streamId 'local' or a remote peer id
   * @param {MediaStream | null} stream
   * @param {RecordingOptions} options
   * @returns {RecordingHandle | null}
   */
  start(streamId, stream, options) {
    const existing = this._handles.get(streamId);
    if (existing && existing.state !== 'inactive') return existing;
    if (!stream) return null;
    const mimeType = pickMimeType(stream, options.mimeType);
    if (!mimeType) return null;
    /** @type {MediaRecorderOptions} */
    const init = { mimeType };
    if (options.audioBitsPerSecond) init.audioBitsPerSecond = options.audioBitsPerSecond;
    if (options.videoBitsPerSecond) init.videoBitsPerSecond = options.videoBitsPerSecond;
    const recorder = new MediaRecorder(stream, init);
    // Chrome decodes remote audio only for a playing media element; without one the recorder
    // waits for audio forever and returns an empty Blob. A muted element keeps it flowing.
    const sink = streamId !== 'local' && stream.getAudioTracks().length > 0 ? playMuted(stream) : null;
    const handle = new RecordingHandle(streamId, recorder, mimeType, (h) => {
      if (sink) sink.srcObject = null;
      if (this._handles.get(streamId) === h) this._handles.delete(streamId);
    });
    this._handles.set(streamId, handle);
    recorder.start(1000);
    return handle;
  }

  /** @param {string} streamId */
  isRecording(streamId) {
    return this._handles.get(streamId)?.state === 'recording';
  }

  /**
   * Stop every recording; a recorder that does not finish within 5 s is left out.
   * @returns {Promise<Map<string, Blob>>}
   */
  async stopAll() {
    /** @type {Map<string, Blob>} */
    const blobs = new Map();
    const pending = [...this._handles.values()].map(async (handle) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      /** @type {Promise<null>} */
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, STOP_RECORDING_TIMEOUT_MS, null);
      });
      const blob = await Promise.race([handle.stop(), timeout]);
      clearTimeout(timer);
      if (blob) blobs.set(handle.streamId, blob);
      else console.warn(`rtcroom: recording ${handle.streamId} did not stop within 5 s`);
    });
    await Promise.all(pending);
    this._handles.clear();
    return blobs;
  }
}

/**
 * The recording format: `wanted` if the browser can, else the first it can for the stream's kind.
 * @param {MediaStream} stream
 * @param {string | undefined} wanted
 * @returns {string | null}
 */
function pickMimeType(stream, wanted) {
  if (typeof MediaRecorder === 'undefined') return null;
  if (wanted && MediaRecorder.isTypeSupported(wanted)) return wanted;
  const candidates =
    stream.getVideoTracks().length > 0
      ? VIDEO_MIME_TYPES
      : stream.getAudioTracks().length > 0
        ? AUDIO_MIME_TYPES
        : [];
  return candidates.find((type) => MediaRecorder.isTypeSupported(type)) ?? null;
}

/** @param {MediaStream} stream */
function playMuted(stream) {
  const element = document.createElement('audio');
  element.muted = true;
  element.srcObject = stream;
  element.play().catch(() => {});
  return element;
}
