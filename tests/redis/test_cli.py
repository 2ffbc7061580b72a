"""``rtcroom serve --redis``: bad settings stop it at once with a message that says what to fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rtcroom.testing import this_rtcroom_env


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redis", "http://127.0.0.1:6379"], "needs a redis:// or rediss:// URL"),
        (["--redis", "redis://127.0.0.1/x"], "must be a number, like /0"),
        (["--redis", "redis://127.0.0.1", "--redis-node-ttl", "0"], "must be positive"),
    ],
)
def test_bad_redis_settings_exit_with_a_clear_message(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rtcroom.cli", "serve", "--port", "1", *args],
        env=this_rtcroom_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert message in done.stderr
