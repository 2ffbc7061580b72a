"""What the tests do and look at in the apps' pages: buttons by their label, the state text,
console lines, and what the page's peer connections decode."""

from __future__ import annotations

import asyncio
import re
import uuid

from rtcroom.testing.browser import WAIT_MS, wait_for

from .conftest import AppPage


def new_room() -> str:
    return f"react-{uuid.uuid4().hex[:8]}"


def app_url(base: str, room: str, view: str) -> str:
    """A page of an app in ``room``; ICE servers explicitly none (loopback only)."""
    return f"{base}/?view={view}&room={room}&iceServers=[]"


async def click(p: AppPage, label: str) -> None:
    await p.page.get_by_role("button", name=label, exact=True).click(timeout=WAIT_MS)


async def wait_state(p: AppPage, state: str) -> None:
    await wait_for(p.page, "(s) => document.body.innerText.includes('State: ' + s)", state)


async def wait_logged(p: AppPage, pattern: str, timeout: float = WAIT_MS / 1000) -> str:
    """The first console line of ``p`` matching ``pattern`` (a regex), waiting at most
    ``timeout`` seconds."""
    regex = re.compile(pattern)
    for _ in range(int(timeout / 0.05)):
        for line in p.logs:
            if regex.fullmatch(line):
                return line
        await asyncio.sleep(0.05)
    raise AssertionError(f"no console line matching {pattern!r}; the page logged {p.logs!r}")


async def send_until_logged(sender: AppPage, button: str, receiver: AppPage, pattern: str) -> str:
    """Click ``button`` (a Send) until ``receiver`` logs ``pattern``. 'connected' means ICE is
    up; the data channel opens a moment later, and a send before that is dropped, so one
    click may not be enough (at most 40, 0.5 s apart)."""
    for _ in range(40):
        await click(sender, button)
        try:
            return await wait_logged(receiver, pattern, timeout=0.5)
        except AssertionError:
            continue
    raise AssertionError(f"{pattern!r} never arrived; receiver logged {receiver.logs!r}")


def page_errors(p: AppPage) -> list[str]:
    return [line for line in p.logs if line.startswith("[page error]") or "Invalid hook" in line]


async def ice_servers_used(p: AppPage) -> list[object]:
    """The ICE servers of every peer connection the page made (the tests give none)."""
    servers: list[object] = await p.page.evaluate(
        "window.__pcs.flatMap((pc) => pc.getConfiguration().iceServers)"
    )
    return servers


# Statistics of the page's recorded RTCPeerConnections (see conftest.RECORD_CONNECTIONS).
INBOUND = """async (kind) => {
  let best = null;
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    for (const r of (await pc.getStats()).values()) {
      if (r.type === 'inbound-rtp' && r.kind === kind) {
        best = { framesDecoded: r.framesDecoded ?? 0, totalAudioEnergy: r.totalAudioEnergy ?? 0,
                 bytesReceived: r.bytesReceived ?? 0 };
      }
    }
  }
  return best;
}"""

# Mean brightness (0-255) of the first remote <video> as drawn on the page.
BRIGHTNESS = """() => {
  const video = document.querySelector('video.remote-video');
  if (!video || video.videoWidth === 0) return -1;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 48;
  const g = canvas.getContext('2d');
  g.drawImage(video, 0, 0, 64, 48);
  const px = g.getImageData(0, 0, 64, 48).data;
  let sum = 0;
  for (let i = 0; i < px.length; i += 4) sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
  return sum / (px.length / 4);
}"""


async def inbound(p: AppPage, kind: str) -> dict[str, float] | None:
    result: dict[str, float] | None = await p.page.evaluate(INBOUND, kind)
    return result


async def wait_bright(p: AppPage) -> None:
    """The remote video shows the fake camera's test pattern."""
    await wait_for(p.page, f"() => ({BRIGHTNESS})() > 20")


async def wait_black(p: AppPage) -> None:
    """The remote video shows black frames (the sender muted its camera)."""
    await wait_for(p.page, f"() => {{ const v = ({BRIGHTNESS})(); return v >= 0 && v < 3; }}")


async def audio_energy_rise(p: AppPage, seconds: float = 2.0) -> float:
    """How much the received audio energy grows in ``seconds``."""
    before = await inbound(p, "audio")
    await asyncio.sleep(seconds)
    after = await inbound(p, "audio")
    assert before is not None and after is not None, "no inbound audio"
    return after["totalAudioEnergy"] - before["totalAudioEnergy"]


async def remote_video_plays(p: AppPage) -> None:
    """A remote <video> shows decoded frames (framesDecoded > 0 and a picture size)."""
    await wait_for(p.page, f"async () => ((await ({INBOUND})('video')) || {{}}).framesDecoded > 0")
    await wait_for(
        p.page,
        "() => [...document.querySelectorAll('video.remote-video')].some((v) => v.videoWidth > 0)",
    )


async def signal_sockets(p: AppPage) -> int:
    """How many signaling WebSockets the page has opened so far."""
    count: int = await p.page.evaluate("window.__signalSockets.length")
    return count
