"""Bounded body reading: any body, coding and chunking gives the body when it fits, else an invalid response.

A property over generated bodies, limits, codings and chunk boundaries, and the zip bomb: a gzip body
that inflates a thousandfold is stopped with memory to spare (counted with ``tracemalloc``), where
httpx's own decoder would inflate a whole 64 KiB chunk into 64 MiB first.
"""

from __future__ import annotations

import gzip
import itertools
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.bodies import read_body
from sources.errors import SourceResponseInvalid

MIB = 1024 * 1024


def invalid(detail: str) -> SourceResponseInvalid:
    return SourceResponseInvalid("upstream", detail)


def encode(body: bytes, coding: str) -> tuple[bytes, str]:
    """The body on the wire, and its ``Content-Encoding``."""
    if coding == "gzip":
        return gzip.compress(body), "gzip"
    if coding == "gzip-members":
        half = len(body) // 2
        return gzip.compress(body[:half]) + gzip.compress(body[half:]), "gzip"
    if coding == "deflate":
        return zlib.compress(body), "deflate"
    if coding == "raw-deflate":
        squeezer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return squeezer.compress(body) + squeezer.flush(), "deflate"
    return body, "identity"


class Counted:
    """Hands out ``data`` in pieces cut at ``cuts``, counting the bytes handed out."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.read += len(piece)
            yield piece


def cut(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        yield data[start:end]


BODIES = st.one_of(
    st.binary(max_size=3000), st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=8), st.integers(1, 2000))
)


@settings(max_examples=300, deadline=None)
@given(
    body=BODIES,
    limit=st.integers(1, 6000),
    coding=st.sampled_from(["identity", "gzip", "gzip-members", "deflate", "raw-deflate"]),
    cuts=st.lists(st.integers(0, 20_000), max_size=12),
)
async def test_a_body_comes_back_whole_when_it_fits_and_is_refused_when_it_does_not(
    body: bytes, limit: int, coding: str, cuts: list[int]
) -> None:
    wire, encoding = encode(body, coding)
    pieces = list(cut(wire, cuts))
    source = Counted(iter(pieces))

    fits = len(body) <= limit and len(wire) <= limit
    if fits:
        assert await read_body(source.__aiter__(), encoding=encoding, limit=limit, invalid=invalid) == body
    else:
        with pytest.raises(SourceResponseInvalid):
            await read_body(source.__aiter__(), encoding=encoding, limit=limit, invalid=invalid)
        assert source.read <= limit + max((len(p) for p in pieces), default=0)


def zip_bomb(decoded: int) -> Iterator[bytes]:
    """A gzip stream of ``decoded`` zero bytes, made as it is read, in 64 KiB raw chunks (a socket's reads)."""
    squeezer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MIB)
    pending = b""
    for _ in range(decoded // MIB):
        pending += squeezer.compress(zeros)
        while len(pending) >= 64 * 1024:
            yield pending[: 64 * 1024]
            pending = pending[64 * 1024 :]
    yield pending + squeezer.flush()


async def test_a_zip_bomb_is_stopped_at_the_limit_without_inflating_the_rest() -> None:
    source = Counted(zip_bomb(1024 * MIB))
    chunks = source.__aiter__()
    tracemalloc.start()
    try:
        with pytest.raises(SourceResponseInvalid):
            await read_body(chunks, encoding="gzip", limit=512 * 1024, invalid=invalid)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert source.read <= 64 * 1024  # a gigabyte of zeros is about a megabyte of gzip; one chunk was enough
    assert peak < 8 * MIB  # the limit and one chunk, not the inflated gigabyte (or 64 MiB per chunk)


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, gzip", "compress"])
async def test_a_coding_not_asked_for_is_refused(coding: str) -> None:
    source = Counted(iter([b"x"]))

    with pytest.raises(SourceResponseInvalid):
        await read_body(source.__aiter__(), encoding=coding, limit=100, invalid=invalid)
    assert source.read == 0


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_compressed_body_cut_short_is_refused(coding: str) -> None:
    wire, encoding = encode(b"{}" * 1000, coding)

    with pytest.raises(SourceResponseInvalid):
        await read_body(
            Counted(iter([wire[: len(wire) // 2]])).__aiter__(), encoding=encoding, limit=10_000, invalid=invalid
        )
