"""A peer command whose pip extra is missing prints the pip line and exits 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from rtcroom.testing import this_rtcroom_env


def rtcroom_without(modules: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    """``rtcroom ARGS`` in an interpreter where ``modules`` look uninstalled."""
    code = textwrap.dedent(
        f"""
        import sys

        class _NotInstalled:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {modules!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, _NotInstalled())
        from rtcroom.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, env=this_rtcroom_env(), timeout=60, check=False,
    )


BASE = ("aiortc", "aioice", "numpy", "av", "rich")
URL = ("--url", "ws://127.0.0.1:9/api/call/signal")


@pytest.mark.parametrize(
    ("blocked", "args", "extra", "missing"),
    [
        (BASE, ("join", "lobby", *URL), "client,cli", "aiortc"),
        (BASE, ("send", __file__, "--room", "r", *URL), "client,cli", "aiortc"),
        (BASE, ("recv", "--room", "r", *URL), "client,cli", "aiortc"),
        (BASE, ("record", "r", *URL), "media,cli", "aiortc"),
        (BASE, ("join", "lobby", "--video", "pattern", *URL), "media,cli", "aiortc"),
        (BASE, ("doctor", *URL), "client", "aiortc"),
        (("rich",), ("send", __file__, "--room", "r", *URL), "cli", "rich"),
        (("rich",), ("record", "r", *URL), "cli", "rich"),
    ],
)
def test_the_pip_line_and_status_2(
    blocked: tuple[str, ...], args: tuple[str, ...], extra: str, missing: str
) -> None:
    done = rtcroom_without(blocked, *args)
    assert done.returncode == 2, done
    assert done.stderr.strip() == (
        f"rtcroom: rtcroom {args[0]} needs {missing!r}, which is not installed; "
        f"run: pip install 'rtcroom[{extra}]'"
    ), done.stderr
