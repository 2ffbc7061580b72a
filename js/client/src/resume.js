// Resume: what a call keeps so that a lost signaling socket does not end it. The server's
// `joined` carries a resume token; after a socket loss the call rejoins with it under the same
// peer id while the peer connections go on. Frames made meanwhile wait in a bounded outbox.

/** The server's error after a resume when frames addressed to us were dropped. */
export const FRAMES_LOST = 'Signaling frames were lost while you were away; renegotiate with your peers';
/** The start of the server's error for a resume it refuses (then we join afresh). */
export const RESUME_REFUSED_PREFIX = 'Resume refused: ';
/** Frames kept while away; past it the oldest go and the peers are renegotiated after resume. */
export const OUTBOX_LIMIT = 256;
/** Seconds to wait for an unlisted peer when the server did not say (its default grace). */
const DEFAULT_GRACE_S = 30;

export class ResumeState {
  constructor() {
    /** @type {string | null} the newest token from `joined`; null: the server offers no resume */
    this.token = null;
    /** seconds the server holds an away peer (from `joined.resumeGrace`) */
    this.grace = DEFAULT_GRACE_S;
    /** the socket is lost and the call goes on, resuming in the background */
    this.away = false;
    /** @type {object[]} */
    this._outbox = [];
    /** the outbox dropped frames */
    this.overflowed = false;
    /** @type {Map<string, ReturnType<typeof setTimeout>>} peers a resume did not list */
    this._unlisted = new Map();
    /** @type {Set<string>} the peers the call had when it last resumed (what a repair covers) */
    this.kept = new Set();
  }

  /**
   * Keeps the token and grace of a `joined` frame (each `joined` brings a fresh token).
   * @param {unknown} token
   * @param {unknown} grace
   */
  remember(token, grace) {
    this.token = typeof token === 'string' && token !== '' ? token : null;
    if (typeof grace === 'number' && Number.isFinite(grace) && grace >= 0) this.grace = grace;
  }

  /**
   * Queues a frame for after the resume; always true (the frame is not lost, or an older one
   * made room for it and the peers are renegotiated after the resume).
   * @param {object} frame
   */
  enqueue(frame) {
    if (this._outbox.length >= OUTBOX_LIMIT) {
      this._outbox.shift();
      this.overflowed = true;
    }
    this._outbox.push(frame);
    return true;
  }

  /** The queued frames, oldest first; the outbox is empty afterwards. */
  takeOutbox() {
    const frames = this._outbox;
    this.clearOutbox();
    return frames;
  }

  clearOutbox() {
    this._outbox = [];
    this.overflowed = false;
  }

  /**
   * A peer the resumed `joined` did not list: `drop` runs unless it reappears within the grace.
   * @param {string} peerId
   * @param {() => void} drop
   */
  unlisted(peerId, drop) {
    this.listed(peerId);
    const timer = setTimeout(() => {
      this._unlisted.delete(peerId);
      drop();
    }, this.grace * 1000);
    this._unlisted.set(peerId, timer);
  }

  /**
   * The peer is accounted for (it reappeared, left, or its session ended).
   * @param {unknown} peerId
   */
  listed(peerId) {
    if (typeof peerId !== 'string') return;
    const timer = this._unlisted.get(peerId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this._unlisted.delete(peerId);
  }

  unlistedIds() {
    return [...this._unlisted.keys()];
  }

  /** Forget everything: the call ended, or the server refused the resume. */
  reset() {
    this.token = null;
    this.away = false;
    this.clearOutbox();
    for (const timer of this._unlisted.values()) clearTimeout(timer);
    this._unlisted.clear();
    this.kept = new Set();
  }
}
