// Repairing a peer connection whose network path broke, without leaving the room.
//
// Toward a browser: restartIce() (fresh ICE credentials, same connection, channels survive).
// Toward a Python peer (aiortc cannot restart ICE; its descriptions say rtcroomIceRestart:
// false): a *rebuild*, a fresh connection to the same peer id whose offer carries
// rtcroomRebuild = N, the offerer re-creating every channel under its label and options. The
// impolite side (greater peer id) rebuilds at once, the polite side only if no rebuild offer
// came within POLITE_WAIT_MS; a greater N replaces the connection, glare at the same N is won
// by the impolite offer. Each attempt that is not up within ATTEMPT_TIMEOUT_MS is retried with
// backoff for as long as the peer is in the room. The app sees onPeerReconnecting, then
// onPeerReconnected; never onPeerLeft. (docs/protocol.md, "Repairing a broken path".)

/**
 * @typedef {import('./session.js').PeerSession} PeerSession
 * @typedef {import('./session.js').Emit} Emit
 */

export const DISCONNECTED_GRACE_MS = 2000;
export const POLITE_WAIT_MS = 5000;
export const ATTEMPT_TIMEOUT_MS = 15000;
const MAX_BACKOFF_MS = 10000;

/**
 * Milliseconds before repair `attempt` (0 = the first): at once, then 1, 2, 4 ... 10 s; a
 * polite side that rebuilds waits POLITE_WAIT_MS more, so the impolite side's offer wins.
 * @param {number} attempt
 * @param {boolean} politeRebuild
 */
export function repairDelay(attempt, politeRebuild) {
  const backoff = attempt === 0 ? 0 : Math.min(1000 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return backoff + (politeRebuild ? POLITE_WAIT_MS : 0);
}

/**
 * What PeerRecovery needs from the call.
 * @typedef {object} RecoveryOwner
 * @property {Map<string, PeerSession>} sessions remote id -> its current session
 * @property {(old: PeerSession, rebuild: number, isOfferer: boolean) => PeerSession} replace
 *   close `old` and put a fresh connection numbered `rebuild` in its place
 * @property {(remoteId: string) => boolean} polite
 * @property {Emit} emit
 */

/** @typedef {{attempts: number, timer: ReturnType<typeof setTimeout> | null}} Repair */

export class PeerRecovery {
  /** @param {RecoveryOwner} owner */
  constructor(owner) {
    this._owner = owner;
    /** @type {Map<string, Repair>} */
    this._repairs = new Map();
  }

  /** @param {string} remoteId */
  has(remoteId) {
    return this._repairs.has(remoteId);
  }

  /**
   * The path of `session` broke (ICE failed, or disconnected for DISCONNECTED_GRACE_MS).
   * @param {PeerSession} session
   */
  broken(session) {
    const id = session.remoteId;
    if (this._owner.sessions.get(id) !== session) return;
    const repair = this._start(id);
    const politeRebuild = !session.remoteRestartsIce && this._owner.polite(id);
    this._schedule(repair, repairDelay(repair.attempts, politeRebuild), () => {
      if (this._owner.sessions.get(id) !== session) return; // rebuilt by the other side
      repair.attempts++;
      if (session.remoteRestartsIce) {
        session.restartIce();
        this._watch(repair, session);
      } else this._watch(repair, this._owner.replace(session, session.rebuild + 1, true));
    });
  }

  /**
   * The session a description tagged `rtcroomRebuild` belongs to (a fresh one for a greater
   * N), or null to drop it (an older connection's, or a glare the other side wins).
   * @param {PeerSession} session
   * @param {{type: string, rtcroomRebuild?: unknown}} description
   * @returns {PeerSession | null}
   */
  target(session, description) {
    const n = description.rtcroomRebuild;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return session;
    if (n < session.rebuild || (description.type === 'answer' && n > session.rebuild)) return null;
    if (description.type !== 'offer') return session;
    const glare = n === session.rebuild && session.rebuildOfferPending;
    if (glare && !this._owner.polite(session.remoteId)) return null; // ours wins
    if (n === session.rebuild && !glare) return session; // a renegotiation
    const repair = this._start(session.remoteId);
    repair.attempts++;
    const fresh = this._owner.replace(session, n, false);
    this._watch(repair, fresh);
    return fresh;
  }

  /** After any state change: a repaired peer is announced. */
  update() {
    for (const id of [...this._repairs.keys()]) {
      const session = this._owner.sessions.get(id);
      if (session && session.repaired) {
        this.end(id);
        this._owner.emit('onPeerReconnected', id);
      }
    }
  }

  /** @param {string} remoteId */
  end(remoteId) {
    const repair = this._repairs.get(remoteId);
    if (!repair) return;
    if (repair.timer !== null) clearTimeout(repair.timer);
    this._repairs.delete(remoteId);
  }

  endAll() {
    for (const id of [...this._repairs.keys()]) this.end(id);
  }

  /** @param {string} remoteId */
  _start(remoteId) {
    let repair = this._repairs.get(remoteId);
    if (!repair) {
      repair = { attempts: 0, timer: null };
      this._repairs.set(remoteId, repair);
      this._owner.emit('onPeerReconnecting', remoteId);
    }
    return repair;
  }

  /**
   * An attempt not up within ATTEMPT_TIMEOUT_MS counts as broken again.
   * @param {Repair} repair
   * @param {PeerSession} session
   */
  _watch(repair, session) {
    this._schedule(repair, ATTEMPT_TIMEOUT_MS, () => {
      if (!session.repaired) this.broken(session);
    });
  }

  /**
   * @param {Repair} repair
   * @param {number} ms
   * @param {() => void} action
   */
  _schedule(repair, ms, action) {
    if (repair.timer !== null) clearTimeout(repair.timer);
    repair.timer = setTimeout(() => {
      repair.timer = null;
      if ([...this._repairs.values()].includes(repair)) action();
    }, ms);
  }
}
