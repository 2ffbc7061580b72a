"""The base install is the signaling server: it runs without aiortc, numpy, PyAV, Redis or
aiohttp, and a part whose extra is missing says which ``pip install`` fixes it.

Each check runs in a fresh interpreter (``sys.modules`` of this one is full of everything).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx

from rtcroom.testing import ServeProcess, this_rtcroom_env

from .support import SignalClient

OPTIONAL = ("aiortc", "aioice", "numpy", "av", "redis", "aiohttp", "prometheus_client", "rich")

# A meta-path finder that makes the optional dependencies look uninstalled.
BLOCK_OPTIONAL = textwrap.dedent(
    f"""
    import sys

    class _NotInstalled:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {OPTIONAL!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
    """
)


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=this_rtcroom_env(),
        timeout=60,
        check=False,
    )


def test_the_server_imports_no_optional_dependency() -> None:
    done = python(
        textwrap.dedent(
            f"""
            import sys
            import rtcroom, rtcroom.asgi, rtcroom.app, rtcroom.cli, rtcroom.testing
            rtcroom.app.create_app()
            rtcroom.cli.build_parser().parse_args(["serve"])
            print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))
            """
        )
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"the server imported {done.stdout.strip()}"


async def test_rtcroom_serve_runs_without_the_optional_dependencies() -> None:
    launcher = [
        sys.executable,
        "-c",
        BLOCK_OPTIONAL + "from rtcroom.cli import main\nsys.exit(main(sys.argv[1:]))",
    ]
    async with ServeProcess(launcher=launcher) as server:
        a = await SignalClient.connect(server.url)
        joined = await a.join("base-install")
        b = await SignalClient.connect(server.url)
        await b.join("base-install")
        assert joined["t"] == "joined"
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        await a.close()
        await b.close()
        assert "Traceback" not in server.output(), server.output()


def test_a_part_whose_extra_is_missing_names_the_pip_install() -> None:
    for module, extra, missing in (
        ("rtcroom.client", "client", "aiortc"),
        ("rtcroom.ice", "client", "aiortc"),
        ("rtcroom.media", "media", "aiortc"),
        ("rtcroom.backends.redis", "redis", "redis"),
        ("rtcroom.aiohttp", "aiohttp", "aiohttp"),
        ("rtcroom.loadtest", "aiohttp", "aiohttp"),
        ("rtcroom.aiohttp_ops", "aiohttp", "aiohttp"),
    ):
        done = python(
            BLOCK_OPTIONAL
            + textwrap.dedent(
                f"""
                import importlib
                from rtcroom import MissingExtraError
                try:
                    importlib.import_module({module!r})
                except ImportError as exc:
                    assert isinstance(exc, MissingExtraError), repr(exc)
                    print(exc)
                else:
                    print("imported")
                """
            )
        )
        assert done.returncode == 0, done.stderr
        message = done.stdout.strip()
        assert message == (
            f"{module} needs {missing!r}, which is not installed; "
            f"run: pip install 'rtcroom[{extra}]'"
        ), message


def test_redis_backend_is_imported_on_first_use() -> None:
    done = python(
        BLOCK_OPTIONAL
        + textwrap.dedent(
            """
            import rtcroom
            try:
                rtcroom.RedisBackend
            except ImportError as exc:
                print(exc)
            """
        )
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'rtcroom[redis]'" in done.stdout, done.stdout


def test_serve_on_aiohttp_without_it_names_the_pip_install() -> None:
    done = python(
        BLOCK_OPTIONAL
        + "import sys, rtcroom.cli\n"
        + "sys.exit(rtcroom.cli.main(['serve', '--server', 'aiohttp', '--port', '0']))\n"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("rtcroom: --server aiohttp needs aiohttp: pip install 'rtcroom[fast]'\n")


async def test_metrics_without_the_extra_say_which_one_to_install() -> None:
    """``serve --metrics`` says at start that /metrics needs rtcroom[metrics]; /metrics then
    answers 404 with the same line; signaling works as ever."""
    launcher = [
        sys.executable,
        "-c",
        BLOCK_OPTIONAL + "from rtcroom.cli import main\nsys.exit(main(sys.argv[1:]))",
    ]
    async with ServeProcess("--metrics", launcher=launcher, log_level="info") as server:
        install = "pip install 'rtcroom[metrics]'"
        assert (
            f"--metrics: metrics need prometheus-client, which is not installed; run: {install}"
            in (server.output())
        )
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{server.http_url}/metrics")
        assert answer.status_code == 404
        assert install in answer.text
        a = await SignalClient.connect(server.url)
        assert (await a.join("no-metrics"))["t"] == "joined"
        await a.close()
