from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .support import TRANSPORTS, RunningServer, signaling_server


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def server(transport: str) -> AsyncIterator[RunningServer]:
    """The default endpoint (max 2 peers) on each transport."""
    async with signaling_server(transport) as running:
        yield running
