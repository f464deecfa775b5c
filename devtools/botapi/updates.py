"""How the bot receives updates: getUpdates long polls, or a webhook the emulator POSTs to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import Resolver
from tornado.simple_httpclient import (
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
)
from tornado.tcpclient import TCPClient

from devtools.botapi.api import (
    ApiError,
    Files,
    Params,
    bool_param,
    dumps,
    float_param,
    int_param,
    json_param,
    ok,
    str_param,
)
from devtools.botapi.faults import FaultInjection
from devtools.botapi.state import DEFAULT_MAX_CONNECTIONS, WebhookAttempt

if TYPE_CHECKING:
    import datetime
    import ssl


logger = logging.getLogger(__name__)

# setWebhook's rules: the secret's alphabet, and max_connections (clamped into 1-100).
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

_SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"

_MAX_CONNECTIONS: Final = 100


class UpdateDelivery(FaultInjection):
    """The update queue's consumers: long polls, or the webhook's pusher.

    getUpdates, setWebhook, deleteWebhook and getWebhookInfo, and the pusher: a task on the
    emulator's loop that POSTs queued updates while a webhook is set. getUpdates passes the
    faults too, hence the base class.
    """

    # Set by BotApiEmulator's constructor: one delivery's timeout and the retry backoff; the
    # pusher (with the webhook generation it serves) and every pusher task not yet finished.
    _webhook_timeout: float
    _webhook_retry: float
    _webhook_retry_max: float
    _pusher: tuple[int, asyncio.Task[None]] | None
    _pusher_tasks: set[asyncio.Task[None]]

    # -- getUpdates ---------------------------------------------------------------------------

    async def _get_updates(self, name: str, params: Params) -> tuple[int, bytes]:
        try:
            with self._lock:
                self._check_faults("getupdates", params)
                if self._webhook_url:
                    raise ApiError(
                        409,
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    )
                offset = int_param(params, "offset", 0) or 0
                limit = min(100, max(1, int_param(params, "limit", 100) or 100))
                timeout = max(0.0, float_param(params, "timeout", 0.0))
                batch = self._confirm_and_take(offset, limit)
            if not batch and timeout > 0 and not self._closing:
                poller = asyncio.get_running_loop().create_future()
                self._pollers.append(poller)
                try:
                    await asyncio.wait_for(poller, timeout)
                except TimeoutError:
                    # Usually still listed; a wake-up in the same loop turn has taken it out.
                    with contextlib.suppress(ValueError):
                        self._pollers.remove(poller)
                with self._lock:
                    batch = self._confirm_and_take(0, limit)
        except ApiError as exc:
            with self._lock:
                self._log_call(name, params, exc.code, exc.description)
            return exc.code, exc.body()
        with self._lock:
            self._log_call(name, params, 200, None)
        return 200, ok(batch)

    def _confirm_and_take(self, offset: int, limit: int) -> list[dict[str, Any]]:
        # Caller holds the lock. A positive offset confirms every earlier update; a negative
        # one keeps only the last -offset updates, as Telegram does.
        updates = self._updates
        if offset > 0:
            while updates and updates[0]["update_id"] < offset:
                updates.popleft()
        elif offset < 0:
            while len(updates) > -offset:
                updates.popleft()
        return [updates[i] for i in range(min(limit, len(updates)))]

    # -- the webhook's settings (called with the lock held) ------------------------------------

    def _set_webhook(self, params: Params, files: Files) -> Any:
        url = str_param(params, "url") or ""
        if not url:  # Telegram: an empty URL removes the webhook
            return self._delete_webhook(params, files)
        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 (raises ValueError for a malformed port)
        except ValueError:
            valid = False
        if not valid:
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = str_param(params, "secret_token") or None
        if secret is not None and _SECRET_TOKEN_RE.fullmatch(secret) is None:
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = json_param(params, "allowed_updates")
        if allowed is None:
            allowed = []
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            raise ApiError(400, "Bad Request: can't parse allowed_updates JSON object")
        max_connections = int_param(params, "max_connections", DEFAULT_MAX_CONNECTIONS)
        self._configure_webhook(
            url,
            secret=secret,
            allowed=allowed,
            max_connections=min(_MAX_CONNECTIONS, max(1, max_connections or 1)),
            drop_pending=bool_param(params, "drop_pending_updates"),
        )
        return True

    def _delete_webhook(self, params: Params, files: Files) -> Any:
        self._configure_webhook(
            "",
            secret=None,
            allowed=[],
            max_connections=DEFAULT_MAX_CONNECTIONS,
            drop_pending=bool_param(params, "drop_pending_updates"),
        )
        return True

    def _configure_webhook(
        self,
        url: str,
        *,
        secret: str | None,
        allowed: list[str],
        max_connections: int,
        drop_pending: bool,
    ) -> None:
        # Caller holds the lock. A new webhook starts with no error, and a delivery under way
        # to the old one is abandoned: its update stays queued, for the new webhook or getUpdates.
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_allowed = allowed
        self._webhook_max_connections = max_connections
        self._webhook_error = None
        self._delivering = None
        self._webhook_generation += 1
        if drop_pending:
            self._updates.clear()
        self._call_on_loop(self._sync_pusher)

    def _get_webhook_info(self, params: Params, files: Files) -> Any:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            if self._webhook_allowed:
                info["allowed_updates"] = list(self._webhook_allowed)
        return info

    # -- webhook delivery (on the emulator's loop) ---------------------------------------------

    def _sync_pusher(self) -> None:
        """Start, restart or stop the pusher to match the webhook now set (on the loop thread)."""
        wake = self._pusher_wake
        with self._lock:
            active = bool(self._webhook_url) and not self._closing and wake is not None
            wanted = self._webhook_generation if active else None
        current = self._pusher
        if current is not None and current[0] != wanted:
            current[1].cancel()  # mid-delivery, its connection closes and nothing is recorded
            self._pusher = None
        if wanted is not None and wake is not None and self._pusher is None:
            task = asyncio.get_running_loop().create_task(
                self._push_updates(wanted, wake), name="botapi-emulator-webhook"
            )
            self._pusher_tasks.add(task)
            task.add_done_callback(self._pusher_done)
            self._pusher = (wanted, task)

    def _pusher_done(self, task: asyncio.Task[None]) -> None:
        self._pusher_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("The webhook pusher failed", exc_info=task.exception())

    async def _stop_pushers(self) -> None:
        self._pusher = None
        tasks = list(self._pusher_tasks)
        for task in tasks:
            task.cancel()
        # Awaited, so no task is left pending (and warned about) when the loop closes.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _push_updates(self, generation: int, wake: asyncio.Event) -> None:
        """POST queued updates to the webhook of this generation until cancelled.

        Telegram may deliver over up to max_connections connections at once. One update at a
        time, in update_id order, is the simple faithful choice: Telegram promises no order
        across connections, and a test gets a deterministic one.
        """
        backoff = self._webhook_retry
        while True:
            wake.clear()  # before looking: an update queued after the look sets it again
            with self._lock:
                if generation != self._webhook_generation:
                    return
                update = self._updates[0] if self._updates else None
                url, secret = self._webhook_url, self._webhook_secret
                if update is not None:
                    self._delivering = update["update_id"]
            if update is None:
                await wake.wait()
                continue
            try:
                status, error = await self._post_update(url, secret, update)
            except asyncio.CancelledError:
                with self._lock:
                    if generation == self._webhook_generation:  # stopping, not reconfigured
                        self._delivering = None
                raise
            with self._lock:
                if generation != self._webhook_generation:
                    return  # the webhook changed meanwhile: this answer is no one's
                self._delivering = None
                self._webhook_attempts.append(
                    WebhookAttempt(
                        update["update_id"], url, status, error, secret, time.monotonic()
                    )
                )
                if error is None:
                    if self._updates and self._updates[0] is update:
                        self._updates.popleft()
                else:
                    self._webhook_error = (int(time.time()), error)
            if error is None:
                backoff = self._webhook_retry
            else:
                await asyncio.sleep(backoff)
                backoff = min(self._webhook_retry_max, backoff * 2)

    async def _post_update(
        self, url: str, secret: str | None, update: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        """One delivery: the status answered (None: none) and the error (None: a 2xx)."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[_SECRET_HEADER] = secret
        request = HTTPRequest(
            url,
            method="POST",
            headers=headers,
            body=dumps(update),
            connect_timeout=self._webhook_timeout,
            request_timeout=self._webhook_timeout,
            follow_redirects=False,  # Telegram does not follow them either
        )
        # The simple client whatever AsyncHTTPClient is configured to be (no new dependency),
        # an instance per delivery with a TCP client of ours, so its connection is ours to close.
        client = SimpleAsyncHTTPClient(force_instance=True)
        connections = _DeliveryConnections(client.resolver)
        client.tcp_client = connections
        try:
            future = client.fetch(request, raise_error=False)
            # A pusher cancelled mid-delivery (the webhook changed, or stop) closes the
            # connection below, which ends tornado's request with an error. Shielded, because
            # cancelling tornado's future would make it log that error; read here, so asyncio
            # does not warn that it was never retrieved.
            future.add_done_callback(_discard_outcome)
            try:
                response = await asyncio.shield(future)
            except Exception as exc:  # anything but an HTTP answer: the webhook failed
                return None, _delivery_error(exc)
        finally:
            connections.close()  # no socket outlives its delivery
            client.close()
        if 200 <= response.code < 300:
            return response.code, None
        return response.code, f"Wrong response from the webhook: {response.code} {response.reason}"


class _DeliveryConnections(TCPClient):
    """The connections of one webhook delivery, so it can be cut off when abandoned."""

    def __init__(self, resolver: Resolver) -> None:
        super().__init__(resolver)
        self._streams: list[IOStream] = []
        self._closed = False

    async def connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        max_buffer_size: int | None = None,
        source_ip: str | None = None,
        source_port: int | None = None,
        timeout: float | datetime.timedelta | None = None,  # noqa: ASYNC109 (TCPClient's)
    ) -> IOStream:
        stream = await super().connect(
            host,
            port,
            af,
            ssl_options,
            max_buffer_size,
            source_ip,
            source_port,
            timeout,
        )
        if self._closed:  # abandoned while connecting
            stream.close()
            raise StreamClosedError
        self._streams.append(stream)
        return stream

    def close(self) -> None:
        self._closed = True
        for stream in self._streams:
            stream.close()
        super().close()


def _discard_outcome(future: asyncio.Future[HTTPResponse]) -> None:
    if not future.cancelled():
        future.exception()


def _delivery_error(exc: BaseException) -> str:
    """Telegram's last_error_message for a delivery that got no HTTP answer."""
    if isinstance(exc, HTTPTimeoutError):
        connecting = "connecting" in (exc.message or "")
        return "Connection timed out" if connecting else "Read timeout expired"
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused"
    if isinstance(exc, socket.gaierror):
        return "Failed to resolve host: Name or service not known"
    if isinstance(exc, HTTPStreamClosedError | StreamClosedError | ConnectionResetError):
        return "Connection reset by peer"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
