"""Media for Python peers: track sources, mute, screen share, frames as numpy, recording, quality.

Everything here works on plain aiortc objects (tracks, ``RTCPeerConnection``), so it can be used
with or without :class:`rtcroom.client.WebRTCCall`.
"""

from .._extras import require

require("media", __name__, "aiortc", "av", "numpy")

from .errors import MediaError, MediaSourceError, RecordingError, ScreenShareError
from .frames import FrameStream, RemoteAudioFrame, RemoteVideoFrame, TrackTap
from .local import LocalMedia, replace_video_track, video_sender
from .mute import MutableTrack
from .patterns import TestPatternVideoTrack, ToneAudioTrack, read_frame_number
from .ping import PING_CHANNEL_LABEL, RttProbe, create_ping_channel, is_ping_channel
from .push import PushAudioTrack, PushVideoTrack
from .quality import (
    BitrateSummary,
    CandidatePairInfo,
    ConnectionQualitySummary,
    DirectionalBitrate,
    QualityMonitor,
    VideoQuality,
)
from .recording import (
    RecordingHandle,
    RecordingOptions,
    Recordings,
    choose_mime_type,
    is_type_supported,
)
from .sources import (
    CustomStreamSource,
    DisplayMediaSource,
    MediaFileSource,
    PushSource,
    TestPatternSource,
    TrackSource,
    UserMediaSource,
)

__all__ = [
    "PING_CHANNEL_LABEL",
    "BitrateSummary",
    "CandidatePairInfo",
    "ConnectionQualitySummary",
    "CustomStreamSource",
    "DirectionalBitrate",
    "DisplayMediaSource",
    "FrameStream",
    "LocalMedia",
    "MediaError",
    "MediaFileSource",
    "MediaSourceError",
    "MutableTrack",
    "PushAudioTrack",
    "PushSource",
    "PushVideoTrack",
    "QualityMonitor",
    "RecordingError",
    "RecordingHandle",
    "RecordingOptions",
    "Recordings",
    "RemoteAudioFrame",
    "RemoteVideoFrame",
    "RttProbe",
    "ScreenShareError",
    "TestPatternSource",
    "TestPatternVideoTrack",
    "ToneAudioTrack",
    "TrackSource",
    "TrackTap",
    "UserMediaSource",
    "VideoQuality",
    "choose_mime_type",
    "create_ping_channel",
    "is_ping_channel",
    "is_type_supported",
    "read_frame_number",
    "replace_video_track",
    "video_sender",
]
