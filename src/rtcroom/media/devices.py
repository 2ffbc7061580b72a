"""How browser-style media constraints become FFmpeg capture devices, per operating system.

A plan is a list of ``DeviceInput(file, format, options)``: what :class:`aiortc.contrib.media.
MediaPlayer` opens. Kept separate from the sources so the mapping is easy to read and test.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

Constraint = bool | dict[str, Any]


@dataclass(frozen=True)
class DeviceInput:
    file: str
    format: str
    options: dict[str, str] = field(default_factory=dict)
    kinds: tuple[str, ...] = ("video",)


def _platform(platform: str | None) -> str:
    name = platform or sys.platform
    if name.startswith("linux"):
        return "linux"
    if name == "darwin":
        return "darwin"
    if name in ("win32", "cygwin"):
        return "win32"
    raise ValueError(f"no capture devices are known for platform {name!r}")


def _ideal(value: Any) -> Any:
    """Browser constraints allow ``{"ideal": x}`` / ``{"exact": x}``; FFmpeg wants a value."""
    if isinstance(value, dict):
        for key in ("exact", "ideal", "max", "min"):
            if key in value:
                return value[key]
        return None
    return value


def _as_dict(constraint: Constraint, kind: str) -> dict[str, Any] | None:
    if constraint is False or constraint is None:
        return None
    if constraint is True:
        return {}
    if isinstance(constraint, dict):
        return constraint
    raise TypeError(
        f"{kind} constraint must be True, False or a dict like {{'width': 640}}, got {constraint!r}"
    )


def _video_options(c: dict[str, Any]) -> dict[str, str]:
    options: dict[str, str] = {}
    width, height = _ideal(c.get("width")), _ideal(c.get("height"))
    if width and height:
        options["video_size"] = f"{int(width)}x{int(height)}"
    elif width or height:
        raise ValueError("give both width and height (FFmpeg devices take a full video_size)")
    rate = _ideal(c.get("frameRate"))
    if rate:
        options["framerate"] = str(rate)
    return options


def _audio_options(c: dict[str, Any]) -> dict[str, str]:
    options: dict[str, str] = {}
    if rate := _ideal(c.get("sampleRate")):
        options["sample_rate"] = str(int(rate))
    if channels := _ideal(c.get("channelCount")):
        options["channels"] = str(int(channels))
    return options


def user_media_plan(
    video: Constraint, audio: Constraint, platform: str | None = None
) -> list[DeviceInput]:
    """Camera and microphone inputs for ``getUserMedia``-style constraints.

    ``deviceId`` picks the device: a path such as ``/dev/video2`` or an ALSA/PulseAudio name on
    Linux, an index or name on macOS (avfoundation), a device name on Windows (dshow).
    """
    system = _platform(platform)
    v, a = _as_dict(video, "video"), _as_dict(audio, "audio")
    plan: list[DeviceInput] = []
    if system == "linux":
        if v is not None:
            plan.append(
                DeviceInput(_ideal(v.get("deviceId")) or "/dev/video0", "v4l2", _video_options(v))
            )
        if a is not None:
            fmt = "pulse" if os.environ.get("PULSE_SERVER") or _has_pulse() else "alsa"
            plan.append(
                DeviceInput(
                    _ideal(a.get("deviceId")) or "default", fmt, _audio_options(a), ("audio",)
                )
            )
    elif system == "darwin":
        # avfoundation opens camera and microphone together as "video:audio".
        if v is not None or a is not None:
            vid = (_ideal(v.get("deviceId")) or "0") if v is not None else "none"
            aid = (_ideal(a.get("deviceId")) or "0") if a is not None else "none"
            options = {**_video_options(v or {}), **_audio_options(a or {})}
            if v is not None:
                options.setdefault("framerate", "30")
            kinds = tuple(k for k, c in (("video", v), ("audio", a)) if c is not None)
            plan.append(DeviceInput(f"{vid}:{aid}", "avfoundation", options, kinds))
    else:
        parts = []
        if v is not None:
            parts.append(f"video={_ideal(v.get('deviceId')) or 'Integrated Camera'}")
        if a is not None:
            parts.append(f"audio={_ideal(a.get('deviceId')) or 'Microphone'}")
        if parts:
            options = {**_video_options(v or {}), **_audio_options(a or {})}
            kinds = tuple(k for k, c in (("video", v), ("audio", a)) if c is not None)
            plan.append(DeviceInput(":".join(parts), "dshow", options, kinds))
    return plan


def _has_pulse() -> bool:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return bool(runtime) and os.path.exists(os.path.join(runtime or "", "pulse", "native"))


def display_media_plan(
    video: Constraint = True, display: str | None = None, platform: str | None = None
) -> DeviceInput:
    """Screen capture input: x11grab on Linux, avfoundation on macOS, gdigrab on Windows.

    Constraints: ``width``/``height`` (capture region size), ``frameRate``, ``x``/``y``
    (region offset), ``cursor`` (draw the mouse pointer, default True).
    """
    system = _platform(platform)
    c = _as_dict(video, "video")
    if c is None:
        raise ValueError("screen capture needs video; DisplayMediaSource(video=False) is empty")
    options = _video_options(c)
    options.setdefault("framerate", "30")
    cursor = c.get("cursor", True)
    x, y = int(_ideal(c.get("x")) or 0), int(_ideal(c.get("y")) or 0)
    if system == "linux":
        name = display or os.environ.get("DISPLAY")
        if not name:
            raise ValueError(
                "no X display to capture: set DISPLAY (e.g. ':0') or pass display=':0'"
            )
        options["draw_mouse"] = "1" if cursor else "0"
        target = f"{name}+{x},{y}" if (x or y) else name
        return DeviceInput(target, "x11grab", options)
    if system == "darwin":
        options["capture_cursor"] = "1" if cursor else "0"
        return DeviceInput(f"{display or 'Capture screen 0'}:none", "avfoundation", options)
    options["draw_mouse"] = "1" if cursor else "0"
    if x or y:
        options["offset_x"], options["offset_y"] = str(x), str(y)
    return DeviceInput(display or "desktop", "gdigrab", options)
