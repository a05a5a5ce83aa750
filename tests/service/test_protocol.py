"""HeadWithBody: a response's head waits for its body's first piece so that both leave in one write."""

from __future__ import annotations

import asyncio

import pytest

from backend.service.protocol import HeadWithBody

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


async def test_a_head_and_its_body_leave_in_one_write_then_later_pieces_as_they_come():
    transport = FakeTransport()
    connection = HeadWithBody(transport, asyncio.get_running_loop())
    connection.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.writes == []
    connection.write(b"first")
    connection.write(b"second")
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\nfirst", b"second"]
    await asyncio.sleep(0)  # the turn's end adds nothing more
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\nfirst", b"second"]


async def test_a_head_with_no_body_yet_leaves_at_the_end_of_the_loops_turn():
    transport = FakeTransport()
    connection = HeadWithBody(transport, asyncio.get_running_loop())
    connection.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    connection.write(b"later")
    assert transport.writes[-1] == b"later"


async def test_closing_sends_what_is_held_first_and_the_rest_is_the_transports():
    transport = FakeTransport()
    connection = HeadWithBody(transport, asyncio.get_running_loop())
    connection.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    connection.close()
    assert transport.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert transport.closed and connection.is_closing()
    assert connection.get_extra_info("peername") == "info peername"
