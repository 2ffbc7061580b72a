"""The one codec for what crosses Redis between server processes, and the channels it takes.

A frame is five newline-separated fields, ``kind origin sender to text``; no field but the last
may hold a newline (peer ids and node ids never do), so the signaling text travels untouched.
Kinds: ``m`` a signaling frame for a room's members (``to`` empty for all but the sender),
``g`` the peer ``sender`` vanished with its process (members hear ``peer-left``), ``k``
kick ``sender`` (on a node's own channel; ``text`` is the reason), and ``t`` the peer ``sender``
resumed on another process (on the channel of the node that held it; ``to`` is its room id).
"""

from __future__ import annotations

from typing import Final, NamedTuple

RELAY: Final = "m"
GONE: Final = "g"
KICK: Final = "k"
TAKEOVER: Final = "t"


def _bytes(text: str) -> bytes:
    # Lone surrogates, which JavaScript strings (so room ids) may hold, pass through as bytes.
    return text.encode("utf-8", "surrogatepass")


class Frame(NamedTuple):
    kind: str
    origin: str  # the node id of the process that published it
    sender: str
    to: str
    text: str

    def encode(self) -> bytes:
        return _bytes("\n".join(self))

    @classmethod
    def decode(cls, data: bytes) -> Frame:
        """Raises ``ValueError`` for anything this codec did not write."""
        kind, origin, sender, to, text = data.decode("utf-8", "surrogatepass").split("\n", 4)
        return cls(kind, origin, sender, to, text)


class Channels:
    """Pub/sub channel names under the key prefix: one per room, one per node."""

    __slots__ = ("_node", "_room")

    def __init__(self, key_prefix: str) -> None:
        self._room = _bytes(f"{key_prefix}room:")
        self._node = _bytes(f"{key_prefix}node:")

    def room(self, room_id: str) -> bytes:
        return self._room + _bytes(room_id)

    def node(self, node_id: str) -> bytes:
        return self._node + _bytes(node_id)

    def room_of(self, channel: bytes) -> str | None:
        """The room id a channel carries, or ``None`` for another channel."""
        if not channel.startswith(self._room):
            return None
        return channel[len(self._room) :].decode("utf-8", "surrogatepass")
