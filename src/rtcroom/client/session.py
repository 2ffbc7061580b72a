"""One remote peer: its RTCPeerConnection, the offer/answer exchange, its data channels.

Everything that touches the connection's SDP runs on one worker task per peer, in the order the
signaling messages arrived; renegotiations queue behind it. (Agentuity's client handles frames
concurrently, which lets two SDP handlers overlap on one connection.)

Three aiortc facts shape this module:

* No trickle ICE: ``setLocalDescription`` gathers, and ``pc.localDescription`` then holds the
  candidates. So we send ``pc.localDescription`` after it returns, never the bare offer.
  Candidates trickled by browsers are applied (or buffered until a remote description exists).
* No ``negotiationneeded`` event: :meth:`PeerSession.renegotiate` is the explicit way to offer
  again, e.g. after adding a track.
* No SDP rollback. Glare (both sides offering at once) is resolved with the browsers' rule: the
  peer whose id is greater is impolite and ignores the colliding offer; the polite one drops its
  own pending offer, answers, then offers again (:func:`.aiortc_fixes.rollback` says why that is
  safe for a *re*-offer). Initial offers cannot collide: only the newcomer makes them.

aiortc cannot restart ICE either (one ICE agent per connection, credentials fixed at creation).
When the network path breaks (ICE ends ``failed`` or ``closed``), the session reports itself
*broken* and the mesh (``mesh.py``) replaces it with a fresh connection to the same peer: a
*rebuild*, counted by :attr:`PeerSession.rebuild` and sent in every description as
``rtcroomRebuild`` (docs/protocol.md). Each description also says ``rtcroomIceRestart: false``,
so a browser rebuilds toward us instead of calling ``restartIce()``.

Offers go through :func:`.aiortc_fixes.create_offer`, which keeps negotiated payload types, and
media added before DTLS is up is started by :func:`.aiortc_fixes.start_media` once connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from .. import ice
from ..media.ping import is_ping_channel
from . import aiortc_fixes
from . import state as reasons
from .candidates import RemoteCandidates
from .channels import DataChannelConfig, config_of, watch_channel
from .errors import CallError, NegotiationError
from .events import (
    CallEvent,
    IceStateChangeEvent,
    NegotiationCompleteEvent,
    TrackAddedEvent,
)
from .inbound import Candidate, Description
from .settings import SessionSettings
from .tracks import LocalTracks
from .tuning import grow_receive_buffers

log = logging.getLogger("rtcroom.client.session")

ICE_CONNECTED = ("connected", "completed")

_Item = tuple[str, Any]


class SessionOwner(Protocol):
    """What a :class:`PeerSession` tells the one that owns it (the call's peer mesh)."""

    def send_signal(self, kind: str, to: str, payload: dict[str, Any]) -> Awaitable[None]:
        """Send an ``sdp`` or ``ice`` frame to the remote peer through signaling."""

    def emit(self, event: CallEvent) -> None:
        """Report an event to the call's listeners."""

    def negotiation_started(self, session: PeerSession, reason: str) -> None:
        """An offer is being made or a remote description applied."""

    def session_changed(self, session: PeerSession) -> None:
        """ICE or a data channel of this session changed state."""

    def session_failed(self, session: PeerSession, error: CallError) -> None:
        """The connection to this peer is beyond repair; the owner drops it."""

    def session_broken(self, session: PeerSession) -> None:
        """The network path to this peer broke (ICE failed or closed); the owner rebuilds."""

    def label_seen(self, label: str) -> None:
        """A data channel with this label exists now (ours or the peer's)."""


class PeerSession:
    """The call's link to one remote peer. ``pc`` is the ``aiortc.RTCPeerConnection``."""

    def __init__(
        self,
        owner: SessionOwner,
        remote_id: str,
        pc: RTCPeerConnection,
        polite: bool,
        settings: SessionSettings,
        rebuild: int = 0,
    ) -> None:
        self.remote_id = remote_id
        self.rebuild = rebuild
        """0 for the first connection to this peer, N for its N-th rebuild."""
        self.remote_rebuilds = rebuild > 0
        """The peer runs an rtcroom client (its descriptions carry rtcroom's keys), so it
        understands a rebuild offer. Agentuity's client does not: a broken path to it fails."""
        self.channel_configs: dict[str, DataChannelConfig] = {}
        """Every application channel this connection has had, by label (a rebuild reopens
        them; the app's ``close_data_channel`` removes a label from the mesh, not from here)."""
        self.pc = pc
        self.polite = polite
        self.channels: dict[str, RTCDataChannel] = {}
        self.closed = False
        self.offerer = False
        self._closing = False
        self._owner = owner
        self._settings = settings
        self._inbox: asyncio.Queue[_Item] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._candidates = RemoteCandidates(pc, remote_id)
        self._offer_wanted = False
        self._waiting: list[asyncio.Future[None]] = []  # renegotiate() calls not yet offered
        self._inflight: list[asyncio.Future[None]] = []  # ... whose offer awaits its answer
        self._tracks_to_add: LocalTracks | None = None
        self._later_tracks: tuple[LocalTracks, list[Any]] | None = None
        self._was_connected = False
        self._media_starters: set[asyncio.Task[None]] = set()
        self._renegotiating = False
        self.offer_collisions = 0
        """How many times both sides offered at once (glare); for diagnostics."""
        pc.on("datachannel", self._register_channel)
        pc.on("iceconnectionstatechange", self._on_ice_state)
        pc.on("connectionstatechange", self._on_connection_state)
        pc.on("track", self._on_track)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(
        self,
        *,
        offerer: bool,
        tracks: LocalTracks | None,
        channels: Iterable[DataChannelConfig] | None = None,
    ) -> None:
        """Add local tracks, create data channels (offerer only: ``channels``, by default the
        call's ``data_channels``) and, as the offerer, offer."""
        self.offerer = offerer
        if offerer:
            if tracks is not None:
                tracks.add_to(self.pc)
            for config in self._settings.data_channels if channels is None else channels:
                self._register_channel(config.create_on(self.pc))
            self._offer_wanted = True
            self._inbox.put_nowait(("offer", None))
        else:
            self._tracks_to_add = tracks  # added around the first answer, see _apply_offer
        self._worker = asyncio.get_running_loop().create_task(self._run())

    def retire(self) -> None:
        """Report nothing more (the mesh replaced this connection); ``close()`` follows."""
        self.closed = True

    @property
    def rebuild_offer_pending(self) -> bool:
        """We offered this rebuilt connection and no answer came yet (glare is possible)."""
        return self.rebuild > 0 and self.offerer and self.pc.remoteDescription is None

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.closed = True
        for fut in self._waiting + self._inflight:
            if not fut.done():
                fut.set_exception(
                    NegotiationError(f"peer {self.remote_id} is gone", self.remote_id)
                )
                fut.exception()  # retrieved: nobody may be waiting
        for task in list(self._media_starters):
            task.cancel()
        if self._worker is not None and self._worker is not asyncio.current_task():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pc.close(), 5.0)

    @property
    def ice_connected(self) -> bool:
        # While a renegotiation adds m-lines, aiortc counts their not-yet-bundled transport in
        # its ICE state ("new"); the peer is still connected, so the call must not flap.
        state = self.pc.iceConnectionState
        return state in ICE_CONNECTED or (self._renegotiating and state in ("new", "checking"))

    def is_ready(self, labels: list[str]) -> bool:
        """ICE is connected and every channel in ``labels`` is open."""
        if not self.ice_connected:
            return False
        return all(
            (ch := self.channels.get(label)) is not None and ch.readyState == "open"
            for label in labels
        )

    # --- signaling input (called in arrival order) ---------------------------------------------

    def handle_sdp(self, description: Description) -> None:
        self._inbox.put_nowait(("sdp", description))

    def handle_ice(self, candidate: Candidate) -> None:
        self._inbox.put_nowait(("ice", candidate))

    async def renegotiate(self, timeout: float | None = None) -> None:
        """Offer again and wait until the answer is applied (``NegotiationError`` on failure or
        after ``timeout``, default the call's ``connection_timeout``). Use it after adding a
        track or when a peer must learn of new m-lines."""
        if self.closed:
            raise NegotiationError(
                f"peer {self.remote_id} is gone; cannot renegotiate", self.remote_id
            )
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(fut)
        self._offer_wanted = True
        self._inbox.put_nowait(("offer", None))
        limit = self._settings.negotiation_timeout if timeout is None else timeout
        try:
            await asyncio.wait_for(asyncio.shield(fut), limit)
        except TimeoutError:
            raise NegotiationError(
                f"renegotiation with peer {self.remote_id} got no answer within {limit:g} s",
                self.remote_id,
            ) from None

    async def send_local_description(self) -> None:
        """Send our current offer or answer again (the signaling server lost frames)."""
        if not self.closed and self.pc.localDescription is not None:
            await self._send_local_description()

    # --- the worker --------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self.closed:
            kind, payload = await self._inbox.get()
            try:
                if kind == "offer":
                    await self._make_offer()
                elif kind == "sdp":
                    await self._apply_description(payload)
                else:
                    await self._candidates.add(payload)
            except Exception as exc:
                if self.closed:
                    return
                self._owner.session_failed(self, _as_call_error(exc, self.remote_id))
                return

    async def _make_offer(self) -> None:
        if not self._offer_wanted:
            return
        if self.pc.signalingState != "stable":
            return  # an exchange is in flight; _settled() offers when it ends
        self._offer_wanted = False
        self._inflight.extend(self._waiting)
        self._waiting.clear()
        self._owner.negotiation_started(self, reasons.CREATING_OFFER)
        self._renegotiating = self._was_connected
        with ice.host_addresses(self._settings.ice_host_addresses):
            offer = await aiortc_fixes.create_offer(self.pc)
            await self._set_local(offer)
        await self._send_local_description()

    async def _set_local(self, description: RTCSessionDescription) -> None:
        limit = self._settings.ice_gathering_timeout
        try:
            await asyncio.wait_for(self.pc.setLocalDescription(description), limit)
        except TimeoutError:
            raise NegotiationError(
                f"ICE gathering for peer {self.remote_id} did not finish within {limit:g} s "
                "(ice_gathering_timeout); check ice_servers and ice_host_addresses",
                self.remote_id,
            ) from None
        grow_receive_buffers(self.pc, self._settings.udp_receive_buffer)

    async def _send_local_description(self) -> None:
        local = self.pc.localDescription
        payload: dict[str, Any] = {"type": local.type, "sdp": local.sdp, "rtcroomIceRestart": False}
        if self.rebuild:
            payload["rtcroomRebuild"] = self.rebuild
        await self._owner.send_signal("sdp", self.remote_id, payload)

    async def _apply_description(self, description: Description) -> None:
        if description.ice_restart is not None or description.rebuild is not None:
            self.remote_rebuilds = True
        try:
            if description.type == "offer":
                await self._apply_offer(description.sdp)
            else:
                await self._apply_answer(description.sdp)
        except CallError:
            raise
        except Exception as exc:  # aiortc refusing what the peer sent
            raise NegotiationError(
                f"could not apply the {description.type} from peer {self.remote_id}: "
                f"{type(exc).__name__}: {str(exc) or 'malformed SDP'}",
                self.remote_id,
            ) from exc

    async def _apply_offer(self, sdp: str) -> None:
        collision = self.pc.signalingState != "stable"
        self.offer_collisions += collision
        ignoring = collision and not self.polite
        self._candidates.quiet = ignoring
        if ignoring:
            log.debug("glare with %s: impolite, ignoring its offer", self.remote_id)
            return
        self._owner.negotiation_started(self, reasons.RECEIVED_SDP)
        self._renegotiating = self._was_connected
        if collision:
            log.debug("glare with %s: polite, dropping our offer to answer theirs", self.remote_id)
            aiortc_fixes.rollback(self.pc)
            self._offer_wanted = True
            self._waiting[:0] = self._inflight
            self._inflight.clear()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        aiortc_fixes.sit_out_answer(self.pc)
        await self._candidates.flush()
        later: list[Any] = []
        tracks, self._tracks_to_add = self._tracks_to_add, None
        if tracks is not None:
            later = tracks.add_answerable(self.pc)
        with ice.host_addresses(self._settings.ice_host_addresses):
            answer = await self.pc.createAnswer()
            await self._set_local(answer)
        await self._send_local_description()
        self._renegotiation_done()
        self._owner.emit(NegotiationCompleteEvent(self.remote_id))
        if tracks is not None and later:
            # Tracks the offer left out need our own offer. aiortc starts the senders of new
            # m-lines only if DTLS is up when that exchange ends, and a new transceiver would
            # hold the connection state below "connected": add them once connected.
            self._later_tracks = (tracks, later)
            self._on_connection_state()
        if self._has_unnegotiated_tracks():
            self._offer_wanted = True  # what negotiationneeded would do in a browser
        await self._settled()

    def _has_unnegotiated_tracks(self) -> bool:
        """A local track the remote offer left out (we answered; now we must offer)."""
        return any(t.mid is None and t.sender.track is not None for t in self.pc.getTransceivers())

    async def _apply_answer(self, sdp: str) -> None:
        if self.pc.signalingState != "have-local-offer":
            log.warning("ignored an answer from %s: no offer of ours is pending", self.remote_id)
            return
        self._owner.negotiation_started(self, reasons.RECEIVED_SDP)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        await self._candidates.flush()
        for fut in self._inflight:
            if not fut.done():
                fut.set_result(None)
        self._inflight.clear()
        self._renegotiation_done()
        self._owner.emit(NegotiationCompleteEvent(self.remote_id))
        await self._settled()

    def _renegotiation_done(self) -> None:
        if self._renegotiating:
            self._renegotiating = False
            self._owner.session_changed(self)

    async def _settled(self) -> None:
        """Back in ``stable``: make the offer that had to wait (or was rolled back)."""
        if self._offer_wanted or self._waiting:
            self._offer_wanted = True
            await self._make_offer()

    # --- connection and channel events ----------------------------------------------------------

    def _on_ice_state(self) -> None:
        if self.closed:
            return
        state = self.pc.iceConnectionState
        self._was_connected = self._was_connected or state in ICE_CONNECTED
        self._owner.emit(IceStateChangeEvent(self.remote_id, state))
        # aiortc has no "disconnected": a path that stops answering consent checks ends
        # "closed" (after ~30 s by default; aiortc_fixes.quicken_consent_checks), a path that
        # never worked "failed".
        # A first connection that never came up is not repaired: its ICE setup is wrong. Nor
        # is one to a client that cannot take part in a rebuild.
        repairable = (self._was_connected or self.rebuild) and self.remote_rebuilds
        if state in ("failed", "closed") and repairable:
            self._owner.session_broken(self)
        elif state == "failed" or (state == "closed" and self._was_connected):
            self._owner.session_failed(
                self,
                NegotiationError(
                    f"ICE connection {state} for peer {self.remote_id}"
                    + (" (its client cannot rebuild it)" if self._was_connected else ""),
                    self.remote_id,
                ),
            )
        else:
            self._owner.session_changed(self)

    def _on_connection_state(self) -> None:
        if self.closed:
            return
        if self.pc.connectionState == "failed" and self._was_connected and self.remote_rebuilds:
            self._owner.session_broken(self)  # DTLS failed over a path that had worked
        if self.pc.connectionState != "connected":
            return
        self._start_media()
        if self._later_tracks is not None:
            tracks, later = self._later_tracks
            self._later_tracks = None
            self._renegotiating = True
            tracks.add_to(self.pc, later)
            self._offer_wanted = True
        if self._offer_wanted:
            self._inbox.put_nowait(("offer", None))

    def _start_media(self) -> None:
        """Run aiortc's connect step again (not awaited by the event that calls us) so media that
        a renegotiation added while DTLS was still connecting starts; see ``start_media``."""
        task = asyncio.get_running_loop().create_task(self._run_start_media())
        self._media_starters.add(task)
        task.add_done_callback(self._media_starters.discard)

    async def _run_start_media(self) -> None:
        try:
            await aiortc_fixes.start_media(self.pc)
        except Exception as exc:  # the connection closing under us
            if not self.closed:
                log.warning("could not start media from %s: %s", self.remote_id, exc)

    def _on_track(self, track: Any) -> None:
        if not self.closed:
            self._owner.emit(TrackAddedEvent(self.remote_id, track))

    def create_channel(self, config: DataChannelConfig) -> RTCDataChannel:
        """A channel made after the first exchange; renegotiates if the connection had no data
        m-line yet (aiortc would otherwise never tell the peer)."""
        needs_offer = self.pc.sctp is None and self.pc.remoteDescription is not None
        channel = config.create_on(self.pc)
        self._register_channel(channel)
        if needs_offer:
            self._offer_wanted = True
            self._inbox.put_nowait(("offer", None))
        return channel

    def _register_channel(self, channel: RTCDataChannel) -> None:
        if is_ping_channel(channel):
            return  # rtcroom's RTT probe (client/media.py), not an application channel
        self._owner.label_seen(channel.label)
        self.channel_configs[channel.label] = config_of(channel)
        watch_channel(
            channel,
            self.channels,
            self.remote_id,
            emit=self._owner.emit,
            changed=lambda: self._owner.session_changed(self),
            live=lambda: not self.closed,
        )


def _as_call_error(exc: Exception, peer_id: str) -> CallError:
    """What the call reports: its own errors as they are, aiortc's wrapped with the peer."""
    if isinstance(exc, CallError):
        return exc
    error = NegotiationError(
        f"negotiation with peer {peer_id} failed: {type(exc).__name__}: {exc}", peer_id
    )
    error.__cause__ = exc
    return error
