"""An httpx transport that answers from the simulator engine in-process: no socket, real timing.

The `demo` profile uses it with a base URL such as `http://demo.botticelli.invalid/v1` (the host is ignored),
so the demo goes through the real client code without any network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from botticelli.simulator.engine import ConnectionCut, SimEngine, SimRequest
from botticelli.simulator.settings import SimSettings
from botticelli.simulator.state import SimState

CUT_MESSAGE = "peer closed connection without sending complete message body"


class _SimStream(httpx.AsyncByteStream):
    """Yields the engine's body as it is produced; a `ConnectionCut` becomes httpx's own protocol error."""

    def __init__(self, body: AsyncIterator[bytes], request: httpx.Request) -> None:
        self._body = body
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for piece in self._body:
                if piece:
                    yield piece
        except ConnectionCut:
            raise httpx.RemoteProtocolError(CUT_MESSAGE, request=self._request) from None

    async def aclose(self) -> None:
        await self._body.aclose()  # type: ignore[attr-defined]


class SimulatorTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncClient(transport=SimulatorTransport(...))` talks to a simulator without a socket."""

    def __init__(self, settings: SimSettings | None = None, state: SimState | None = None) -> None:
        self.state = state or SimState()
        self.engine = SimEngine(settings or SimSettings(), self.state)

    @property
    def settings(self) -> SimSettings:
        return self.engine.settings

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sim_request = SimRequest(
            method=request.method,
            path=request.url.raw_path.decode("ascii"),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw},
            body=body,
        )
        response = await self.engine.handle(sim_request)
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=_SimStream(response.body, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )
