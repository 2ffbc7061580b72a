"""The hub's side of resume: peers going away, timing out, and coming back.

A dropped socket of an opted-in peer makes it away (:func:`step_away`, kept in
:class:`rtcroom.away.AwayPeers`); past the grace window it leaves with reason ``"timeout"``.
``join`` with a ``resumeToken`` brings it back under its old id (:func:`resume`).

The token is checked (signature, room, expiry, identity), the backend re-admits the peer id for
this process (:meth:`rtcroom.backends.base.Backend.rejoin`), and the peer is handed to the new
socket: from an away entry here (its buffered frames follow ``joined`` in order), from an older
socket still attached here (closed with 4410, no leave), or from nothing (a restarted server,
or another process: the frames are lost and the peer is told to renegotiate).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from . import protocol
from .backends.base import BackendUnavailable, PeerEnded
from .protocol import ProtocolError
from .resume import ResumeRefused

if TYPE_CHECKING:
    from .hub import Session, SignalingHub

log = logging.getLogger("rtcroom.hub")


async def resume(hub: SignalingHub, session: Session, room_id: str, token: str) -> None:
    """Handle ``join`` with ``resumeToken`` on a socket that has not joined yet."""
    try:
        claims = _check(hub, session, room_id, token)
    except ResumeRefused as exc:
        await _refuse(hub, session, room_id, exc)
        return
    peer_id, max_peers = claims.peer_id, claims.max_peers
    hub._room_members[room_id] = hub._room_members.get(room_id, 0) + 1  # held while rejoining
    try:
        readmission = await hub.backend.rejoin(room_id, peer_id, max_peers)
    except PeerEnded:
        hub._forget_member(room_id)
        await _refuse(hub, session, room_id, ResumeRefused(protocol.RESUME_ENDED, "resume_ended"))
        return
    except NotImplementedError:  # a backend without resume support
        hub._forget_member(room_id)
        await _refuse(hub, session, room_id, ResumeRefused(protocol.RESUME_OFF, "resume_off"))
        return
    except BackendUnavailable as exc:
        hub._forget_member(room_id)
        hub.telemetry.join_refused("backend_unavailable", room_id, session)
        await session._send(protocol.error(str(exc)))
        await hub._fire("on_error", exc, None, room_id)
        return
    if readmission is None:
        hub._forget_member(room_id)
        full = ResumeRefused(protocol.resume_room_full(max_peers), "resume_room_full")
        await _refuse(hub, session, room_id, full)
        return
    # Whatever held the peer here (an away entry, an older socket) now only buffers for the
    # new socket, which owns the entry until it has caught up; then it is attached.
    older = hub._local.pop(peer_id, None)
    if older is not None:
        older._closed = True  # its close announces nothing,
        older.peer_id = None  # and what it still sends is not relayed as the peer
    if older is not None or peer_id in hub._away:
        hub._forget_member(room_id)  # counted once already, by the join this resumes
    session.peer_id, session.room_id, session.resumable = peer_id, room_id, True
    if session._join_timer is not None:
        session._join_timer.cancel()
        session._join_timer = None
    if session.identity is not None:
        hub._identities[peer_id] = session.identity
    entry = hub._away.hold(peer_id, session, None, _never)
    entry.lost = entry.lost or readmission.frames_lost
    if older is not None:
        await _close_older(older, peer_id)
    if session._closed and session.peer_id is not None:
        # The new socket died before it was handed the peer: away from the start.
        entry.lost = True
        step_away(hub, session)
        return
    if not readmission.was_member:  # this process had forgotten it: a join, as far as it knows
        hub.telemetry.peer_joined(session, readmission.room_created)
        if readmission.room_created:
            await hub._fire("on_room_created", room_id)
        await hub._fire("on_peer_join", peer_id, room_id)
    await session._send(hub._joined(session, readmission.peers, max_peers, resumed=True))
    while entry.frames and not session._closed:  # later frames keep arriving into the entry
        text = entry.frames.popleft()
        entry.size -= len(text)
        await session._send(text)
    if session._closed:  # its close made it away again (or left): what it missed is lost
        again = hub._away.get(peer_id)
        if again is not None:
            again.lost = True
        return
    hub._away.release(peer_id)
    hub._local[peer_id] = session
    log.info("peer %s resumed in room %r", peer_id, room_id)
    if entry.lost:
        await session._send(protocol.error(protocol.FRAMES_LOST))
    if not readmission.was_member:
        announce = protocol.peer_joined(peer_id, resumed=True)
        await hub.backend.publish(room_id, peer_id, None, announce)


def step_away(hub: SignalingHub, session: Session) -> bool:
    """The socket of an opted-in peer died: keep the peer as a member for the grace window.
    ``False`` when there is nothing to keep (not joined, or already handed on)."""
    peer_id, room_id = session.peer_id, session.room_id
    if peer_id is None or room_id is None or not hub.resume.enabled:
        return False
    if hub._local.get(peer_id) is session:
        del hub._local[peer_id]
    else:
        catching_up = hub._away.get(peer_id)  # a resume still handing it its frames
        if catching_up is None or catching_up.session is not session:
            return False
    grace = hub.resume.grace
    hub._away.hold(peer_id, session, grace, functools.partial(_expired, hub))
    log.info(
        "peer %s of room %r is away (its socket dropped); it may resume within %g s",
        peer_id,
        room_id,
        grace,
    )
    return True


def _expired(hub: SignalingHub, peer_id: str, session: Session) -> None:
    entry = hub._away.get(peer_id)
    if entry is None or entry.session is not session:
        return
    entry.timer = None
    log.info("peer %s did not resume within %g s: it leaves", peer_id, hub.resume.grace)
    task = asyncio.ensure_future(hub._leave(session, "timeout"))
    hub._tasks.add(task)
    task.add_done_callback(hub._tasks.discard)


async def detach(hub: SignalingHub, peer_id: str) -> bool:
    """The peer resumed on another process: let go of it here without a leave (the
    backend's ``detach`` hook)."""
    session = hub._local.pop(peer_id, None)
    if session is not None:
        if session.room_id is not None:
            hub._forget_member(session.room_id)
        session._closed = True
        session.peer_id = None
        hub._identities.pop(peer_id, None)
        await _close_older(session, peer_id)
        return True
    away = hub._away.release(peer_id)
    if away is None:
        return False
    if away.session.room_id is not None:
        hub._forget_member(away.session.room_id)
    hub._identities.pop(peer_id, None)
    return True


def _check(hub: SignalingHub, session: Session, room_id: str, token: str) -> _Claims:
    if not hub.resume.enabled:
        raise ResumeRefused(protocol.RESUME_OFF, "resume_off")
    claims = hub.resume.verify(token, room_id)
    sub = session.identity.sub if session.identity is not None else None
    if sub != claims.sub:
        raise ResumeRefused(protocol.RESUME_OTHER_IDENTITY, "resume_identity")
    room_limit = hub._join_limit(session, room_id, rate=False)
    if room_limit is not None:
        raise ResumeRefused(protocol.RESUME_REFUSED_PREFIX + room_limit, "too_many_rooms")
    return claims


async def _refuse(hub: SignalingHub, session: Session, room_id: str, exc: ResumeRefused) -> None:
    hub.telemetry.join_refused(exc.reason, room_id, session)
    log.info("refused a resume into room %r: %s", room_id, exc.message)
    await session._reject(ProtocolError(exc.message), report=False, room_id=room_id)


async def _close_older(older: Session, peer_id: str) -> None:
    try:
        await older.conn.close(protocol.RESUMED_CLOSE_CODE, protocol.RESUMED_REASON)
    except Exception as exc:
        log.debug("closing the older socket of %s failed: %r", peer_id, exc)


def _never(peer_id: str, session: Session) -> None:
    """The expiry of a hold without a timer: never called."""


if TYPE_CHECKING:
    from .resume import ResumeToken as _Claims
