"""Rendered responses of the hot reads, kept per API process and served again while their
job is unchanged.

A dashboard polls the same reads of one job over and over (a trials page, the
leaderboard, curves), and between two writes of the runner each poll would run the same
queries and render the same JSON. Here a repeat costs one primary-key read of the job's
version (nas.store.versions), which every write that changes those reads bumps in its own
transaction. A response is stored under the version read *before* it was rendered, so
what it shows is never older than its stamp; a write in between only makes the stamp
stale, and the next request renders afresh. So the cache is exact, across any number of
API processes and runners, and needs no invalidation messages.

Every cached read also carries an ETag; a client that sends it back in If-None-Match gets
a 304 without a body while the job is unchanged (browsers do this by themselves).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from api.reads import Reads
from nas.store import versions

log = logging.getLogger("api.readcache")

# The reads worth keeping: everything under a job or a trial that only the store decides.
_JOB_READ = re.compile(r"/api/v1/jobs/(\d{1,10})/(?:trials|leaderboard|pareto|curves)")
_TRIAL_READ = re.compile(r"/api/v1/trials/(\d{1,10})(?:/curve)?")


Key = tuple[str, bytes]  # path, query string


@dataclass(frozen=True)
class _Entry:
    etag: bytes
    body: bytes
    content_type: bytes


class ReadCache:
    """ASGI middleware: answer a repeated GET of a cacheable read from memory while its
    job's version is unchanged; everything else (and every refusal: 401, 404, 422) goes
    to the app as before."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.token = settings.token.encode() if settings.token else None
        self.memory = _Memory(settings.read_cache_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        etag = await self._stamp(scope)
        if etag is None:
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope["query_string"])
        if etag in _etags(_header(scope, b"if-none-match")):
            await _send(send, 304, etag, b"", None)
            return
        entry = self.memory.get(key)
        if entry is not None and entry.etag == etag:
            await _send(send, 200, etag, entry.body, entry.content_type)
            return
        await self._render(scope, receive, send, key, etag)

    async def _stamp(self, scope: Scope) -> bytes | None:
        """The ETag of the job behind this read as it stands now; None: not ours to answer
        (not a cached read, not authorised, no such job or trial, or the store failed)."""
        path: str = scope["path"]
        job = _JOB_READ.fullmatch(path)
        trial = None if job else _TRIAL_READ.fullmatch(path)
        if (job is None and trial is None) or not self._authorised(scope):
            return None
        reads: Reads = scope["app"].state.reads  # awaited: the loop never waits on it
        try:
            if job is not None:
                found = await reads.lookup(versions.job_stamp, int(job[1]))
            else:
                assert trial is not None
                found = await reads.lookup(versions.trial_job_stamp, int(trial[1]))
        except SQLAlchemyError:
            log.warning("read cache: version lookup failed; rendering", exc_info=True)
            return None
        if found is None:
            return None
        # per URL too: a 304 must stand for the 200 this very read gave
        job_id, created, version, _ = found
        stamp = f"{scope['path']}?{scope['query_string']!r}|{job_id}|{created}|{version}"
        return b'"' + hashlib.blake2b(stamp.encode(), digest_size=12).hexdigest().encode() + b'"'

    def _authorised(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        scheme, _, given = (_header(scope, b"authorization") or b"").partition(b" ")
        return scheme.lower() == b"bearer" and secrets.compare_digest(given.strip(), self.token)

    async def _render(
        self, scope: Scope, receive: Receive, send: Send, key: Key, etag: bytes
    ) -> None:
        """Let the app answer, add the ETag to a 200, and keep a copy of its body."""
        status = 0
        content_type: bytes | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 200:
                    headers = list(message.get("headers", []))
                    headers += [(b"etag", etag), (b"cache-control", b"no-cache")]
                    content_type = dict(headers).get(b"content-type")
                    message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and status == 200:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and content_type is not None:
                    self.memory.put(key, _Entry(etag, b"".join(chunks), content_type))
            await send(message)

        await self.app(scope, receive, keep)


class _Memory:
    """Rendered answers, bounded in bytes: a segmented LRU. A new answer enters probation
    (a quarter of the memory) and moves to the protected rest when it is asked for again,
    so a scan of one-off reads (pages at every offset, say) churns probation only and does
    not push out the reads that dashboards poll over and over."""

    def __init__(self, max_bytes: int) -> None:
        self.segments: tuple[OrderedDict[Key, _Entry], ...] = (OrderedDict(), OrderedDict())
        self.limits = (max_bytes // 4, max_bytes - max_bytes // 4)
        self.sizes = [0, 0]

    def get(self, key: Key) -> _Entry | None:
        probation, protected = self.segments
        entry = protected.get(key)
        if entry is not None:
            protected.move_to_end(key)
            return entry
        entry = probation.pop(key, None)
        if entry is not None:
            self.sizes[0] -= len(entry.body)
            self._add(1, key, entry)
        return entry

    def put(self, key: Key, entry: _Entry) -> None:
        if len(entry.body) > self.limits[0] // 4:
            return  # one answer may not push out most of probation
        for i, segment in enumerate(self.segments):
            old = segment.pop(key, None)
            if old is not None:
                self.sizes[i] -= len(old.body)
        self._add(0, key, entry)

    def _add(self, i: int, key: Key, entry: _Entry) -> None:
        segment = self.segments[i]
        segment[key] = entry
        self.sizes[i] += len(entry.body)
        while self.sizes[i] > self.limits[i]:
            old_key, old = segment.popitem(last=False)
            self.sizes[i] -= len(old.body)
            if i == 1:
                self._add(0, old_key, old)  # demoted: one more chance in probation


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _etags(header: bytes | None) -> list[bytes]:
    """The tags an If-None-Match names (weak ones compare equal, as RFC 9110 says for it)."""
    if not header:
        return []
    return [tag.strip().removeprefix(b"W/") for tag in header.split(b",")]


async def _send(
    send: Send, status: int, etag: bytes, body: bytes, content_type: bytes | None
) -> None:
    headers = [(b"etag", etag), (b"cache-control", b"no-cache")]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    if status != 304:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
