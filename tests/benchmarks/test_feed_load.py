"""The load generator counts honestly: an answer only once read whole, anything but a 200 or a
framed answer an error, a connection the server drops an error."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.feed_load import _drive

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _run(answer: bytes | None, clients: int = 2, seconds: float = 0.3) -> tuple[list, list]:
    """Drives a server that answers every request with `answer` in two pieces (None: hangs up)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                if answer is None:
                    break
                half = len(answer) // 2
                writer.write(answer[:half])
                await writer.drain()
                await asyncio.sleep(0.001)
                writer.write(answer[half:])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def main() -> tuple[list, list]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await _drive(port, REQUEST, clients, seconds)

    return asyncio.run(main())


@pytest.mark.parametrize("size", [10, 600_000])  # a head split across reads; many reads
def test_whole_answers_are_counted_without_errors(size):
    latencies, errors = _run(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
                             + b"x" * size)
    assert len(latencies) > 10 and errors == []
    assert min(latencies) >= 0.001  # each waited for its second piece


def test_bytes_beyond_the_announced_length_are_an_error():
    latencies, errors = _run(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{}")
    assert len(latencies) == 2 and errors == [200, 200]


def test_other_statuses_are_errors():
    latencies, errors = _run(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}")
    assert len(latencies) > 20 and errors == [401] * len(latencies)


def test_an_answer_that_cannot_be_framed_is_an_error_and_ends_its_connection():
    latencies, errors = _run(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert len(latencies) == 2 and errors == [-1, -1]


def test_a_connection_the_server_drops_is_an_error():
    latencies, errors = _run(None)
    assert latencies == [] and errors == [-1, -1]
