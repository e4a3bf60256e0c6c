"""The anti-entropy digest tree: both ends of a link summarise `stream -> seq` the same way.

A stream sits at the leaf named by the hex of a hash of its id; a node is a hex prefix ("" is the
root, each node has up to 16 children). A node's digest is the sum (mod 2**64) of a 64-bit hash
of each of its `stream:seq` lines, with the count of its streams: order-free, so it costs one
pass and no sort, and equal digests mean equal positions but for a 2**-64 chance.

The comparing side descends only where the digests differ and lists a node's streams once it is
small (`LEAF`), so an agreeing link costs two root digests and one missing fact among N streams
costs about log16(N / LEAF) levels of at most 16 digests each, plus one short list per side.
Pure functions: the places answer with them and the benchmark simulates large links with them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

LEAF = 32  # a differing node with at most this many streams on both sides is listed, not split
KEY_HEX = 16  # depth limit: a node this long is a leaf whatever its size

Digest = list  # [16 hex digits, number of streams]


@lru_cache(maxsize=1 << 18)
def key_of(stream: str) -> str:
    """The stream's place in the tree (cached: the same members are hashed on every request)."""
    return hashlib.blake2b(stream.encode(), digest_size=KEY_HEX // 2).hexdigest()


def _line(stream: str, seq: int) -> int:
    digest = hashlib.blake2b(f"{stream}:{seq}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def nodes(positions: dict[str, int], prefixes: list[str], children: bool) -> dict[str, Digest]:
    """The digests of the given nodes, or (with `children`) of their non-empty children."""
    wanted = set(prefixes)
    lengths = sorted({len(p) for p in wanted})
    sums: dict[str, list[int]] = {}
    for stream, seq in positions.items():
        key = key_of(stream)
        for length in lengths:
            if key[:length] in wanted:
                node = key[: length + 1] if children and length < KEY_HEX else key[:length]
                acc = sums.setdefault(node, [0, 0])
                acc[0] = (acc[0] + _line(stream, seq)) & 0xFFFFFFFFFFFFFFFF
                acc[1] += 1
    return {node: [f"{total:016x}", count] for node, (total, count) in sums.items()}


def streams_under(positions: dict[str, int], prefixes: list[str]) -> dict[str, int]:
    """Every stream's position under the given nodes."""
    wanted = set(prefixes)
    lengths = sorted({len(p) for p in wanted})
    return {
        stream: seq
        for stream, seq in positions.items()
        if any(key_of(stream)[:length] in wanted for length in lengths)
    }


def split(sent: dict[str, Digest], applied: dict[str, Digest]) -> tuple[list[str], list[str]]:
    """Of nodes whose digests differ: (to list, to descend into)."""
    listed, deeper = [], []
    for node in sorted(set(sent) | set(applied)):
        mine, theirs = sent.get(node, ["", 0]), applied.get(node, ["", 0])
        if mine == theirs:
            continue
        if max(mine[1], theirs[1]) <= LEAF or len(node) >= KEY_HEX:
            listed.append(node)
        else:
            deeper.append(node)
    return listed, deeper
