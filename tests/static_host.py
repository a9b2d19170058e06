"""sync's static host with the faults tests need: a link that drops after N bytes, or a slow one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sync import statichost


@dataclass
class HostState(statichost.HostState):
    cut_after: dict[str, int] = field(default_factory=dict)  # path prefix -> bytes after which to drop the link
    seconds_per_64k: float = 0.0  # a slow link: pause after each 64 KiB sent


class _FaultyHandler(statichost.ChannelHandler):
    state: HostState

    def cut_point(self) -> int | None:
        return next((n for prefix, n in self.state.cut_after.items() if self.path.startswith(prefix)), None)

    def after_chunk(self) -> None:
        if self.state.seconds_per_64k:
            time.sleep(self.state.seconds_per_64k)


class StaticHost(statichost.StaticHost):
    handler = _FaultyHandler

    def __init__(self, root, port: int = 0) -> None:  # noqa: ANN001
        super().__init__(root, port)
        self.state = HostState(root)
        self.server.RequestHandlerClass.state = self.state  # type: ignore[attr-defined]
