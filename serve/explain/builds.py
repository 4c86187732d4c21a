"""The ingress's per-build explanation state: each build's `Catalog` and the policy that
verifies with it and caches under its namespace. A result is explained with the build that
computed it, so during a roll-out the few most recent builds are kept; the one being served is
never evicted. Loading is once per build, however many requests ask at the same time."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

from serve.explain.catalog import Catalog
from serve.explain.policy import ExplanationPolicy
from serve.resilience import Unavailable

log = logging.getLogger(__name__)

KEPT_BUILDS = 3  # catalogs kept for results computed on a build being rolled away from
Entry = tuple[Catalog, ExplanationPolicy]


class Builds:
    def __init__(
        self,
        path_of: Callable[[str], Awaitable[str | None]],
        make_policy: Callable[[str, Catalog], ExplanationPolicy],
        serving: Callable[[], str | None],
    ):
        """`path_of`: where a build's artifacts are; `make_policy`: its policy from its catalog;
        `serving`: the data hash of the build being served (kept whatever its age)."""
        self._path_of = path_of
        self._make_policy = make_policy
        self._serving = serving
        self._builds: OrderedDict[str, Entry] = OrderedDict()
        self._loading: dict[str, asyncio.Lock] = {}

    async def get(
        self, data_hash: str, path: str | None = None
    ) -> tuple[Catalog, ExplanationPolicy]:
        """The catalog and policy of a build, loaded on first use (a retriever may switch
        before this replica's poll does)."""
        found = self._builds.get(data_hash)
        if found is None:
            async with self._loading.setdefault(data_hash, asyncio.Lock()):
                found = self._builds.get(data_hash) or await self._load(data_hash, path)
        self._builds.move_to_end(data_hash)
        serving = self._serving()
        while len(self._builds) > KEPT_BUILDS:
            oldest = next(iter(self._builds))
            if oldest == serving:
                self._builds.move_to_end(oldest)
                oldest = next(iter(self._builds))
            del self._builds[oldest]
        return found

    def served(self) -> Entry:
        """The build being served (loaded before the ingress is ready)."""
        return self._builds[self._serving()]

    async def _load(self, data_hash: str, path: str | None) -> Entry:
        path = path or await self._path_of(data_hash)
        if path is None:
            raise Unavailable(f"build {data_hash} is unknown; retry later")
        catalog = await asyncio.to_thread(Catalog.load, Path(path), data_hash)
        self._builds[data_hash] = found = (catalog, self._make_policy(data_hash, catalog))
        log.info("ingress has the catalog of %s (%s)", data_hash, path)
        return found
