"""The notebook runner's waits find a message whose wake-up was missed, and every notebook a test runs goes through it.

The missed wake-up is made on purpose with real ZMQ sockets: a message arrives while the event
loop is blocked, and the socket's edge-triggered descriptor is drained (reading ``ZMQ_EVENTS``)
before the loop looks, which is what happened under load to nbclient's shell socket.
"""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import contextmanager
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from notebook_run import SLICE, SlicedChannel

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def socket_pair():
    """(an asyncio socket that receives, a plain socket that sends to it, a session to sign messages with)."""
    actx, sctx = zmq.asyncio.Context(), zmq.Context()
    rx = actx.socket(zmq.DEALER)
    port = rx.bind_to_random_port("tcp://127.0.0.1")
    tx = sctx.socket(zmq.DEALER)
    tx.connect(f"tcp://127.0.0.1:{port}")
    try:
        yield rx, tx, Session(key=b"test")
    finally:
        rx.close(0)
        tx.close(0)
        actx.term()
        sctx.term()


async def _wait_after_missed_wakeup(channel_class, *, within: float):
    """Start ``get_msg()`` with no timeout, deliver a message so its wake-up is missed, then wait up to ``within`` s."""
    with socket_pair() as (rx, tx, session):
        waiting = asyncio.ensure_future(channel_class(rx, session).get_msg())
        await asyncio.sleep(0.1)                               # the poll is registered and the loop idle
        session.send(tx, "execute_reply", {"status": "ok"})
        shadow = zmq.Socket.shadow(rx.underlying)
        deadline = time.monotonic() + 10
        while not shadow.get(zmq.EVENTS) & zmq.POLLIN:         # the loop is blocked here: it cannot see the edge,
            assert time.monotonic() < deadline, "the message never reached the socket"
            time.sleep(0.01)                                   # and reading EVENTS drains it
        try:
            return await asyncio.wait_for(waiting, within)
        except asyncio.TimeoutError:
            return None


def test_a_missed_wakeup_strands_the_plain_channel():
    # The control: the scenario is real. If this fails, zmq.asyncio no longer misses the edge,
    # and notebook_run's slices may go.
    assert asyncio.run(_wait_after_missed_wakeup(AsyncZMQSocketChannel, within=3)) is None


def test_the_sliced_channel_finds_the_message():
    msg = asyncio.run(_wait_after_missed_wakeup(SlicedChannel, within=30))
    assert msg is not None and msg["msg_type"] == "execute_reply"


def test_the_sliced_channel_with_no_timeout_waits_past_a_slice():
    """nbclient reads iopub with no timeout: a quiet second (``engines.stop()``) is no end of messages."""
    async def main():
        with socket_pair() as (rx, tx, session):
            waiting = asyncio.ensure_future(SlicedChannel(rx, session).get_msg())
            await asyncio.sleep(SLICE * 2.5)
            assert not waiting.done(), waiting
            session.send(tx, "stream", {"name": "stdout", "text": "stopped\n"})
            return await asyncio.wait_for(waiting, 30)
    assert asyncio.run(main())["content"]["text"] == "stopped\n"


def test_every_notebook_run_goes_through_notebook_run():
    found = [str(p.relative_to(ROOT)) for folder in ("tests", "scripts") for p in (ROOT / folder).rglob("*.py")
             if p.name != "notebook_run.py" and re.search(r"\bNotebookClient\(", p.read_text())]
    assert found == []
