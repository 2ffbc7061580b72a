"""Browser client load benchmark: how long a page takes to import ``/rtcroom.js``.

    unshare -n sh -c 'ip link set lo up; .venv/bin/python bench/client_load_bench.py'

Each sample is a fresh Chromium context (an empty cache, as on a first visit) opening a page
whose module script awaits ``import('/rtcroom.js')``; the time is the page's own clock from
navigation start to the import resolving. ``--latency`` adds Chromium's emulated per-request
latency (DevTools network conditions), to see what each request costs on a real network.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics

from playwright.async_api import async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from rtcroom.asgi import browser_client
from rtcroom.testing import run_uvicorn
from rtcroom.testing.browser import CHROMIUM_FLAGS

PAGE = """<!doctype html><title>load</title><script type="module">
await import('/rtcroom.js');
window.loadedAt = performance.now();
</script>"""


def load_app(client_route: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", page), Route(client_route, browser_client())])


async def measure(samples: int, latency_ms: float, client_route: str) -> list[float]:
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    times: list[float] = []
    async with run_uvicorn(load_app(client_route)) as port, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            for _ in range(samples):
                context = await browser.new_context()
                try:
                    page = await context.new_page()
                    cdp = await context.new_cdp_session(page)
                    await cdp.send("Network.enable")
                    await cdp.send(
                        "Network.emulateNetworkConditions",
                        {
                            "offline": False,
                            "latency": latency_ms,
                            "downloadThroughput": -1,
                            "uploadThroughput": -1,
                        },
                    )
                    await page.goto(f"http://127.0.0.1:{port}/")
                    await page.wait_for_function("window.loadedAt !== undefined", timeout=10_000)
                    times.append(await page.evaluate("window.loadedAt"))
                finally:
                    await context.close()
        finally:
            await browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--latency", type=float, nargs="*", default=[0.0, 50.0], help="ms")
    parser.add_argument("--route", default="/rtcroom.js", help="where browser_client() is routed")
    args = parser.parse_args()
    for latency in args.latency:
        times = asyncio.run(measure(args.samples, latency, args.route))
        q = statistics.quantiles(times, n=4)
        print(
            f"latency {latency:>4.0f} ms: median {statistics.median(times):6.1f} ms "
            f"(quartiles {q[0]:.1f}-{q[2]:.1f}, min {min(times):.1f}, max {max(times):.1f}, "
            f"n={len(times)})"
        )


if __name__ == "__main__":
    main()
