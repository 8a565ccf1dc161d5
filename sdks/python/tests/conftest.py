"""The suite runs against a real hookrelay stack: HOOKRELAY_API_URL and HOOKRELAY_API_KEY (an admin key of an
organization of its own). `npm test` starts the stack and runs it (test/integration/sdk-python.test.ts)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from hookrelay import Hookrelay


@pytest.fixture(scope="session")
def api_url() -> str:
    url = os.environ.get("HOOKRELAY_API_URL")
    if not url:
        pytest.fail("HOOKRELAY_API_URL and HOOKRELAY_API_KEY must point at a running stack (npm test sets them)")
    return url


@pytest.fixture(scope="session")
def api_key() -> str:
    return os.environ["HOOKRELAY_API_KEY"]


@pytest.fixture()
def client(api_url: str, api_key: str) -> Iterator[Hookrelay]:
    with Hookrelay(api_key=api_key, base_url=api_url) as c:
        yield c


@pytest.fixture()
def unique() -> str:
    """A suffix that keeps names of one test apart from every other run's."""
    return uuid.uuid4().hex[:8]


@dataclass
class Received:
    path: str
    headers: Dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP endpoint on loopback that records what arrives and answers ``status()``."""

    url: str
    received: List[Received] = field(default_factory=list)
    status: Callable[[int], int] = lambda n: 200
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 30.0) -> List[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"receiver got {len(self.received)} of {count} requests in {timeout} s")
            return list(self.received)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    rcv: Optional[Receiver] = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            assert rcv is not None
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with rcv._cond:
                n = len(rcv.received)
                rcv.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                rcv._cond.notify_all()
            code = rcv.status(n)
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rcv = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rcv
    finally:
        server.shutdown()
        server.server_close()


def eventually(fn: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """Polls until fn returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Optional[BaseException] = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except Exception as err:  # noqa: BLE001 (kept for the message)
            last = err
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s" + (f": {last!r}" if last else ""))
        time.sleep(every)
