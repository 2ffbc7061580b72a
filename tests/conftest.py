from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from .support import SERVE_LAYERS, TRANSPORTS, RunningServer, set_serve_layer, signaling_server


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def server(transport: str) -> AsyncIterator[RunningServer]:
    """The default endpoint (max 2 peers) on each transport."""
    async with signaling_server(transport) as running:
        yield running


@pytest.fixture(params=SERVE_LAYERS)
def serve_layer(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs a test once per ``--server`` layer of ``rtcroom serve``; the modules that use it
    (``pytestmark = pytest.mark.usefixtures("serve_layer")``) start serve with
    ``support.serve_layer_option()``."""
    set_serve_layer(request.param)
    yield request.param
    set_serve_layer("auto")
