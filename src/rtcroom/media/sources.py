"""Track sources: where a Python peer's outgoing audio and video come from.

Each source has Agentuity's shape (``type``, ``stop()``) with ``get_tracks()`` in place of
``getStream()``: a list of aiortc tracks, at most one audio and one video. The call subscribes to
them through a :class:`aiortc.contrib.media.MediaRelay`, so one source feeds every peer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer

from .devices import Constraint, DeviceInput, display_media_plan, user_media_plan
from .errors import MediaSourceError
from .patterns import TestPatternVideoTrack, ToneAudioTrack
from .push import PushAudioTrack, PushVideoTrack


@runtime_checkable
class TrackSource(Protocol):
    """What ``WebRTCCall(media=...)`` accepts: ``get_tracks()`` gives the local tracks (at most
    one audio and one video) once per ``connect()``, ``stop()`` releases them at hangup. A
    ``type`` string (Agentuity's, e.g. ``"user-media"``) is optional; the sources here have one.
    This is the one definition; ``rtcroom.client.TrackSource`` is the same object."""

    async def get_tracks(self) -> list[MediaStreamTrack]: ...

    def stop(self) -> None: ...


def _open_player(plan: DeviceInput, what: str) -> MediaPlayer:
    if plan.format not in av.formats_available:
        raise MediaSourceError(
            f"cannot open the {what}: this FFmpeg (from PyAV {av.__version__}) has no "
            f"{plan.format!r} input device. PyAV wheels leave some devices out; install PyAV "
            "against your system FFmpeg (pip install av --no-binary av) or send media from "
            "a file, numpy frames or a test pattern instead"
        )
    try:
        return MediaPlayer(plan.file, format=plan.format, options=plan.options or None)
    except (OSError, av.FFmpegError) as exc:
        raise MediaSourceError(
            f"cannot open the {what} {plan.file!r} ({plan.format}, options {plan.options}): "
            f"{exc}. Check that the device exists and that this user may open it"
        ) from exc


class _PlayerSource:
    """Shared lifetime handling for sources backed by MediaPlayer objects."""

    type = "custom"

    def __init__(self) -> None:
        self._tracks: list[MediaStreamTrack] | None = None

    def _open(self) -> list[MediaStreamTrack]:
        raise NotImplementedError

    async def get_tracks(self) -> list[MediaStreamTrack]:
        """Open the input on first use; later calls return the same tracks."""
        if self._tracks is None or all(t.readyState == "ended" for t in self._tracks):
            self._tracks = self._open()
        return list(self._tracks)

    def stop(self) -> None:
        for track in self._tracks or []:
            track.stop()
        self._tracks = None


class UserMediaSource(_PlayerSource):
    """Camera and microphone through FFmpeg capture devices (Agentuity's default source).

    ``video``/``audio`` take ``True``, ``False`` or browser-style constraints:
    ``{"width": 1280, "height": 720, "frameRate": 30, "deviceId": "/dev/video2"}`` and
    ``{"sampleRate": 48000, "channelCount": 1, "deviceId": "default"}``.
    """

    type = "user-media"

    def __init__(self, video: Constraint = True, audio: Constraint = True) -> None:
        super().__init__()
        self.plan = user_media_plan(video, audio)
        if not self.plan:
            raise ValueError("UserMediaSource needs video or audio (both are False)")

    def _open(self) -> list[MediaStreamTrack]:
        tracks: list[MediaStreamTrack] = []
        for plan in self.plan:
            what = " and ".join("camera" if k == "video" else "microphone" for k in plan.kinds)
            player = _open_player(plan, what)
            for kind in plan.kinds:
                track = player.video if kind == "video" else player.audio
                if track is None:
                    raise MediaSourceError(f"the {what} {plan.file!r} gave no {kind} stream")
                tracks.append(track)
        return tracks


class DisplayMediaSource(_PlayerSource):
    """The screen: FFmpeg's x11grab (Linux, needs ``DISPLAY``), avfoundation, gdigrab."""

    type = "display-media"

    def __init__(self, video: Constraint = True, display: str | None = None) -> None:
        super().__init__()
        self.plan = display_media_plan(video, display)

    def _open(self) -> list[MediaStreamTrack]:
        player = _open_player(self.plan, "screen")
        if player.video is None:
            raise MediaSourceError(f"screen capture {self.plan.file!r} gave no video stream")
        return [player.video]


class MediaFileSource(_PlayerSource):
    """Audio and video from a media file or URL FFmpeg can read, sent at its own pace."""

    type = "file"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        loop: bool = False,
        format: str | None = None,
        options: dict[str, str] | None = None,
        audio: bool = True,
        video: bool = True,
    ) -> None:
        super().__init__()
        self.path = os.fspath(path)
        if "://" not in self.path and not Path(self.path).exists():
            raise MediaSourceError(f"media file {self.path!r} does not exist")
        self.loop, self.format, self.options = loop, format, options
        self.audio, self.video = audio, video

    def _open(self) -> list[MediaStreamTrack]:
        try:
            player = MediaPlayer(
                self.path, format=self.format, options=self.options, loop=self.loop
            )
        except (OSError, av.FFmpegError) as exc:
            raise MediaSourceError(f"cannot read media file {self.path!r}: {exc}") from exc
        except AssertionError as exc:
            raise MediaSourceError(
                f"cannot loop {self.path!r}: looping needs a seekable file with a known duration"
            ) from exc
        tracks = [
            t
            for t, wanted in ((player.audio, self.audio), (player.video, self.video))
            if t is not None and wanted
        ]
        if not tracks:
            raise MediaSourceError(f"media file {self.path!r} has no audio or video to send")
        return tracks


class CustomStreamSource:
    """Any aiortc tracks the program already has (its own MediaStreamTrack subclasses).

    Like Agentuity's, ``stop()`` stops the tracks it was given; pass ``stop_tracks=False`` to
    keep them running after the call.
    """

    type = "custom"

    def __init__(self, tracks: Iterable[MediaStreamTrack], *, stop_tracks: bool = True) -> None:
        self.tracks = list(tracks)
        for track in self.tracks:
            if not isinstance(track, MediaStreamTrack):
                raise TypeError(
                    f"CustomStreamSource takes aiortc MediaStreamTrack objects, got {track!r}"
                )
        kinds = [t.kind for t in self.tracks]
        if kinds.count("audio") > 1 or kinds.count("video") > 1:
            raise ValueError("CustomStreamSource takes at most one audio and one video track")
        self.stop_tracks = stop_tracks

    async def get_tracks(self) -> list[MediaStreamTrack]:
        return list(self.tracks)

    def stop(self) -> None:
        if self.stop_tracks:
            for track in self.tracks:
                track.stop()


class TestPatternSource:
    """Synthetic media: moving colour bars with a frame-number stamp, and a sine tone."""

    __test__ = False
    type = "test-pattern"

    def __init__(
        self,
        video: bool | dict[str, Any] = True,
        audio: bool | dict[str, Any] = True,
    ) -> None:
        self._video_args = (video if isinstance(video, dict) else {}) if video else None
        self._audio_args = (audio if isinstance(audio, dict) else {}) if audio else None
        if self._video_args is None and self._audio_args is None:
            raise ValueError("TestPatternSource needs video or audio (both are False)")
        self._tracks: list[MediaStreamTrack] | None = None

    async def get_tracks(self) -> list[MediaStreamTrack]:
        if self._tracks is None:
            tracks: list[MediaStreamTrack] = []
            if self._audio_args is not None:
                tracks.append(ToneAudioTrack(**self._audio_args))
            if self._video_args is not None:
                tracks.append(TestPatternVideoTrack(**self._video_args))
            self._tracks = tracks
        return list(self._tracks)

    def stop(self) -> None:
        for track in self._tracks or []:
            track.stop()
        self._tracks = None


class PushSource:
    """Media the program produces: push numpy frames to ``.video`` and samples to ``.audio``."""

    type = "push"

    def __init__(
        self,
        video: bool | dict[str, Any] = True,
        audio: bool | dict[str, Any] = True,
    ) -> None:
        self.video = PushVideoTrack(**(video if isinstance(video, dict) else {})) if video else None
        self.audio = PushAudioTrack(**(audio if isinstance(audio, dict) else {})) if audio else None
        if self.video is None and self.audio is None:
            raise ValueError("PushSource needs video or audio (both are False)")

    async def get_tracks(self) -> list[MediaStreamTrack]:
        return [t for t in (self.audio, self.video) if t is not None]

    def stop(self) -> None:
        for track in (self.audio, self.video):
            if track is not None:
                track.stop()
