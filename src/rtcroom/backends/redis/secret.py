"""One resume-token secret for every ``rtcroom serve`` process of a Redis deployment.

Without a configured secret each process would sign resume tokens with its own, and a client
whose process died could not resume on another. The first process stores its secret in Redis
(``SET NX``); every later one adopts the stored value, so any process accepts any process's
tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from ...resume import Resume
from .address import RedisAddress
from .liveness import REDIS_TROUBLE, describe
from .scripts import SECRET

if TYPE_CHECKING:
    from . import RedisBackend


async def share_secret(
    address: RedisAddress, key_prefix: str, proposed: str, timeout: float
) -> str:
    """The secret stored in Redis, ``proposed`` if there was none; raises the client's
    exception when Redis cannot be reached."""
    client = Redis(
        **{
            **address.options,
            "decode_responses": True,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
    )
    try:
        secret: str = await client.eval(SECRET, 0, key_prefix, proposed)
        return secret
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


def shared_secret(
    address: RedisAddress, key_prefix: str, proposed: str, *, wait: float = 5.0
) -> tuple[str, str | None]:
    """For start-up, before the event loop: the shared secret, or ``proposed`` and why Redis
    could not be asked (tried for up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return asyncio.run(share_secret(address, key_prefix, proposed, min(wait, 2.0))), None
        except REDIS_TROUBLE as exc:
            if time.monotonic() >= deadline:
                cause = exc.__context__  # redis-py wraps the socket's error in its own
                return proposed, describe(cause if isinstance(cause, OSError) else exc)
        time.sleep(0.5)


def share_resume_key(resume: Resume, backend: RedisBackend) -> tuple[Resume, str | None]:
    """``rtcroom serve --redis`` without a configured secret: the key every process of the
    deployment uses (this one's, if it is the first), and a warning when Redis could not be
    asked (this process then accepts only its own tokens until it restarts)."""
    key = resume.secret
    if key is None:  # no state file either: a fresh key, unless another process stored one
        key = os.urandom(32)
    proposed = key.hex() if isinstance(key, bytes) else key.encode().hex()
    stored, trouble = shared_secret(
        backend.address, backend.key_prefix, proposed, wait=backend.timeout
    )
    if trouble is not None:
        return resume, (
            f"could not share the resume key through Redis at {backend.address.display()} "
            f"({trouble}): until this process restarts with Redis reachable, peers can resume "
            "only on this process; set RTCROOM_SECRET on every process to avoid this"
        )
    backend.shared_resume_secret = stored
    try:
        return dataclasses.replace(resume, secret=bytes.fromhex(stored)), None
    except ValueError:
        return resume, (
            f"Redis at {backend.address.display()} holds a resume key rtcroom did not write "
            f"({backend.key_prefix}resume-secret); delete it, or set RTCROOM_SECRET"
        )
