"""Typed errors for the media package: each message says what to do next."""

from __future__ import annotations


class MediaError(Exception):
    """Base class for every media error rtcroom raises."""


class MediaSourceError(MediaError):
    """A track source could not produce tracks (no device, no file, unsupported input)."""


class RecordingError(MediaError):
    """A recording could not be started, written or finished."""


class ScreenShareError(MediaError):
    """Screen sharing could not start (no display, no video track)."""
