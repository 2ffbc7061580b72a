"""``rtcroom serve``'s resume options, and the secret that lets a restarted server resume peers.

Resume tokens must verify after a restart, so the key cannot be per-process: it is derived from
the deployment secret when one is configured (``RTCROOM_SECRET`` / ``--secret-file``), else
generated once and kept in a state file (``<state dir>/resume-secret``, mode 0600).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .cli_security import OptionError, _secret
from .resume import DEFAULT_GRACE, Resume, derive_secret

SECRET_FILE_NAME = "resume-secret"
_ELSEWHERE = (
    "pass --state-dir with a writable directory, set RTCROOM_SECRET, or turn resume off with "
    "--resume-grace 0"
)


def default_state_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/rtcroom``, else ``~/.local/state/rtcroom``."""
    base = env.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".local" / "state"
    return root / "rtcroom"


class StateUnavailable(OptionError):
    """The state directory cannot be read or written (as opposed to holding a bad key)."""


@dataclass(slots=True, frozen=True)
class ResumeSetup:
    resume: Resume
    where: str
    """Where the key comes from, for the banner (never the key itself)."""
    problem: str = ""
    """Why the key could not be kept in the default state directory (then it is per process)."""
    configured: bool = False
    """The key comes from the operator's secret: every process already shares it."""

    def banner(self) -> str:
        if not self.resume.enabled:
            return "rtcroom: resume off (--resume-grace 0): a dropped socket leaves at once"
        if self.problem:
            return (
                f"rtcroom: resume on within this process only (grace {self.resume.grace:g} s): "
                f"{self.problem}"
            )
        return (
            f"rtcroom: resume on (grace {self.resume.grace:g} s; key {self.where}): peers that "
            "opt in keep their id across dropped sockets and restarts"
        )


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group(
        "resume",
        "Peers that opt in (rtcroom's clients do) keep their peer id when their socket drops or "
        "the server restarts, if they come back within the grace window.",
    )
    group.add_argument(
        "--resume-grace",
        type=float,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help=f"how long an away peer stays in its room (default {DEFAULT_GRACE:g}; 0 turns "
        "resume off)",
    )
    group.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where the resume key is kept when no join-token secret is set (default "
        "$XDG_STATE_HOME/rtcroom or ~/.local/state/rtcroom; file resume-secret, mode 0600)",
    )


def from_serve_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ResumeSetup:
    """The hub's :class:`Resume`; raises :class:`OptionError` with what to fix."""
    env = os.environ if env is None else env
    grace = args.resume_grace
    if not (math.isfinite(grace) and grace >= 0):
        raise OptionError(
            f"--resume-grace must be a number of seconds >= 0 (0 turns resume off), got {grace}"
        )
    if grace == 0:
        return ResumeSetup(Resume.off(), "")
    master, source = _secret(args, env, required=False)
    if master is not None:
        return ResumeSetup(
            Resume(derive_secret(master), grace=grace), f"derived from {source}", configured=True
        )
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir(env)
    path = state_dir / SECRET_FILE_NAME
    try:
        return ResumeSetup(Resume(load_or_create_secret(path), grace=grace), f"in {path}")
    except StateUnavailable as exc:
        if args.state_dir:  # asked for: say so and stop
            raise
        # The default place is not writable (a read-only home, say): serve anyway.
        return ResumeSetup(Resume(grace=grace), "per process", str(exc).replace(": pass", "; pass"))


def load_or_create_secret(path: Path) -> bytes:
    """The key kept in ``path``, made (mode 0600, atomically) when the file is missing."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = _private_temp(path)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temp, path)  # fails if another process made it first: then use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    except OSError as exc:
        raise StateUnavailable(
            f"cannot keep the resume key in {path} ({exc.strerror or exc}): {_ELSEWHERE}"
        ) from None
    return _read_secret(path)


def _private_temp(path: Path) -> tuple[int, str]:
    for _ in range(10):
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        with contextlib.suppress(FileExistsError):
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(temp)
    raise OSError(f"cannot create a temporary file beside {path}")


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StateUnavailable(
            f"cannot read the resume key {path} ({exc.strerror or exc}): {_ELSEWHERE}"
        ) from None
    if len(text) < 32 or any(c not in "0123456789abcdef" for c in text):
        raise OptionError(
            f"{path} is not a resume key rtcroom wrote (64 hex digits); delete it to make a new "
            "one (peers then cannot resume tokens signed with the old one)"
        )
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise OptionError(
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):o}); anyone who reads "
            f"it can take over peers' sessions: chmod 600 {path}"
        )
    return bytes.fromhex(text) if len(text) % 2 == 0 else text.encode()
