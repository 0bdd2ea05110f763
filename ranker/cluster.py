"""The Ray backend of a sharded search: one Ray actor per shard.

Each actor is a :class:`ranker.shard_search.ShardSearcher` holding its shard's
:class:`indexer.reader.IndexReader` (postings and FAISS vectors, the memory-heavy part
of an index); the coordinator (:class:`ranker.sharded.ShardedIndex`, in the process that
serves the queries and holds the heads) sends it the stats, BM25 and dense calls.
Actors ask for no CPU (``num_cpus=0``: they wait on calls, and a 2-core machine still
fits several) and are placed round-robin over the cluster's live nodes (shard ``i`` on
node ``i mod nodes``, a soft affinity: Ray restarts it elsewhere when its node is gone).

Faults: actors are created with ``max_restarts`` (Ray starts a dead actor's process
again, reopening the shard's newest commit); a call that fails or passes its time
limit is sent once more, when the actor answers again (up to
``NEWSRANK_SHARD_RESTART_WAIT_S``, 15 s, while Ray restarts it), and a shard that fails
again is reported failed for that query (the coordinator answers with the others).
``max_task_retries`` is 0 on purpose: the one retry is ours, so a query never waits on
more than two tries.

This module is imported only for a sharded index served by Ray; ``import ray`` happens
in :func:`indexer.distributed.require_ray`, with a message naming the extra when Ray is
not installed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexer.distributed import connect
from indexer.shard_commit import ShardCommit
from indexer.shards import ShardLayout
from newsrank.errors import NewsrankError
from ranker.shard_search import ShardReply, ShardSearcher

log = logging.getLogger(__name__)


class _RayPending:
    """The replies of one round: each shard's result, retried once on failure."""

    def __init__(self, backend: RayBackend, method: str, calls: dict[int, tuple]) -> None:
        self.backend, self.method, self.calls = backend, method, calls
        self.refs = {s: backend._call(s, method, args) for s, args in sorted(calls.items())}

    def _get(self, refs: dict[int, Any]) -> tuple[dict[int, Any], dict[int, str]]:
        ray = self.backend.ray
        deadline = time.monotonic() + self.backend.timeout_s
        try:  # the usual case: every shard answers; one call gathers them
            got = ray.get(list(refs.values()), timeout=self.backend.timeout_s)
            return dict(zip(refs, got)), {}
        except Exception:
            pass  # some shard failed: ask each, to know which
        values, errors = {}, {}
        for shard, ref in refs.items():
            try:
                values[shard] = ray.get(ref, timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # a dead actor, a time-out, an error in the shard
                errors[shard] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        return values, errors

    def result(self) -> list[ShardReply]:
        values, errors = self._get(self.refs)
        if errors:
            until = time.monotonic() + self.backend.restart_wait_s
            for shard in errors:
                self.backend.wait_ready(shard, until)
            retry = {s: self.backend._call(s, self.method, self.calls[s]) for s in errors}
            again, errors = self._get(retry)
            values.update(again)
            for shard, why in errors.items():
                log.warning("shard %d failed twice on %s: %s", shard, self.method, why)
        replies = [ShardReply(s, value=v) for s, v in values.items()]
        replies += [ShardReply(s, error=e) for s, e in errors.items()]
        return sorted(replies, key=lambda r: r.shard)


class RayBackend:
    """One :class:`ShardSearcher` actor per shard on a Ray cluster."""

    def __init__(
        self,
        layout: ShardLayout,
        directory: Path,
        *,
        ef_search: int = 128,
        address: str | None = None,
        max_restarts: int = 3,
        timeout_s: float | None = None,
    ) -> None:
        self.ray = connect(address)
        self.n = layout.shards
        self.timeout_s = float(timeout_s or os.environ.get("NEWSRANK_SHARD_TIMEOUT_S", 30))
        #: how long a retry waits for Ray to restart a dead actor
        self.restart_wait_s = float(os.environ.get("NEWSRANK_SHARD_RESTART_WAIT_S", 15))
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        actor = self.ray.remote(ShardSearcher)
        nodes = sorted(n["NodeID"] for n in self.ray.nodes() if n.get("Alive"))
        self.actors = []
        for i, path in enumerate(layout.paths(directory)):
            # shard i on node i mod nodes; soft: on another node when that one is gone
            where = NodeAffinitySchedulingStrategy(nodes[i % len(nodes)], soft=True)
            options = actor.options(
                num_cpus=0,
                max_restarts=max_restarts,
                max_task_retries=0,
                scheduling_strategy=where,
            )
            self.actors.append(options.remote(str(path), ef_search))

    def wait_ready(self, shard: int, until: float) -> None:
        """Wait (until ``until``, a ``time.monotonic()``) while Ray restarts the actor
        of ``shard``; return at once when it answers or is dead for good."""
        unavailable = self.ray.exceptions.ActorUnavailableError
        while time.monotonic() < until:
            ping = self.actors[shard].generation.remote()
            try:
                self.ray.get(ping, timeout=max(0.01, until - time.monotonic()))
                return
            except unavailable:
                time.sleep(0.1)  # restarting
            except Exception:
                return  # dead for good, or still no answer: the retry reports it

    def _call(self, shard: int, method: str, args: tuple) -> Any:
        return getattr(self.actors[shard], method).remote(*args)

    def submit(self, method: str, calls: dict[int, tuple]) -> _RayPending:
        return _RayPending(self, method, calls)

    def reopen(self) -> list[int]:
        """Every actor's newest generation (each reopens); a shard that cannot answer
        is an error here: a sharded index opens only with every shard."""
        replies = self.submit("reopen", {s: () for s in range(self.n)}).result()
        failed = [r for r in replies if not r.ok]
        if failed:
            raise NewsrankError(
                f"shard {failed[0].shard} of {self.n} cannot open its index: {failed[0].error}"
            )
        return [int(r.value) for r in replies]

    def commits(self, previous: Sequence[ShardCommit] | None) -> None:
        return None  # the coordinator reads the stores from the shard directories

    def pids(self) -> list[int]:
        """The process id of each shard's actor."""
        return [int(v) for v in self.ray.get([a.pid.remote() for a in self.actors])]

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.actors = []
