"""The bot's HTTP port: the webhook (webhook mode), /healthz, /readyz and /metrics.

PTB's own webhook server cannot serve other routes, so this is PTB's documented "custom
webhook" set-up on the same library it uses (tornado): updates go on the application's
`update_queue`, exactly where PTB's server would put them. Doing it here also lets the secret
check log refusals (PTB's only debug-logs them) and compare in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot import db

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from telegram import Bot

    from bot.telegram.metrics import Metrics

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; refuse anything that could only be abuse.
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    detail: str


def check_readiness(engine: Engine) -> Readiness:
    """Ready when the database answers and its schema is at the newest migration."""
    try:
        current = db.current_revision(engine)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return Readiness(False, f"database unreachable: {reason}")
    head = db.head_revision()
    if current != head:
        return Readiness(False, f"schema at {current or 'nothing'}, expected {head}")
    return Readiness(True, f"database reachable, schema at {head}")


@dataclass(slots=True)
class Webhook:
    """Where webhook updates go, and the secret Telegram must send with them."""

    bot: Bot
    update_queue: asyncio.Queue[object]
    secret: str
    path: str


class HttpServer:
    """Serves the routes on one port; `closing()` turns away new work during shutdown."""

    def __init__(self, engine: Engine, metrics: Metrics, webhook: Webhook | None = None) -> None:
        self.engine = engine
        self.metrics = metrics
        self.webhook = webhook
        self.accepting = True
        routes: list[Any] = [
            (r"/healthz", _Health),
            (r"/readyz", _Ready, {"server": self}),
            (r"/metrics", _Metrics, {"server": self}),
        ]
        if webhook is not None:
            path = "/" + webhook.path.strip("/")
            routes.append((rf"{path.rstrip('/')}/?", _WebhookUpdates, {"server": self}))
        self._app = Application(routes, log_function=_log_request)
        self._server: HTTPServer | None = None

    async def start(self, address: str, port: int) -> None:
        self._server = HTTPServer(self._app, max_body_size=MAX_BODY_BYTES)
        self._server.listen(port, address=address)
        logger.info(
            "Listening on %s:%d (%s/healthz, /readyz, /metrics)",
            address,
            port,
            f"webhook at {self.webhook.path}, " if self.webhook else "",
        )

    def closing(self) -> None:
        """Refuse new updates (503: Telegram retries them, here or on another instance) and
        report not ready, so a load balancer stops sending traffic here."""
        self.accepting = False

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None


def _log_request(handler: RequestHandler) -> None:
    # Tornado's access log puts every 5xx at ERROR: a load balancer polling /readyz through a
    # database outage would page the operators' chat every few seconds. What matters (refused
    # secrets, handler failures, the outage itself) is logged where it happens.
    request = handler.request
    logger.debug(
        "%d %s %s %.1f ms",
        handler.get_status(),
        request.method,
        request.path,
        request.request_time() * 1000,
    )


class _Health(RequestHandler):
    def get(self) -> None:
        self.write({"status": "alive"})


class _ServerHandler(RequestHandler):
    def initialize(self, server: HttpServer) -> None:
        self.server = server

    def log_exception(self, *args: Any) -> None:
        # Tornado logs through its own loggers; route errors to ours, with the traceback.
        logger.error("HTTP handler failed: %s", self.request.path, exc_info=args)


class _Ready(_ServerHandler):
    async def get(self) -> None:
        if not self.server.accepting:
            readiness = Readiness(False, "shutting down")
        else:
            readiness = await asyncio.to_thread(check_readiness, self.server.engine)
        self.set_status(HTTPStatus.OK if readiness.ready else HTTPStatus.SERVICE_UNAVAILABLE)
        self.write(
            {"status": "ready" if readiness.ready else "not ready", "detail": readiness.detail}
        )


class _Metrics(_ServerHandler):
    async def get(self) -> None:
        # The ledger gauges query the database: off the event loop.
        body = await asyncio.to_thread(generate_latest, self.server.metrics.registry)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(body)


class _WebhookUpdates(_ServerHandler):
    SUPPORTED_METHODS = ("POST",)

    async def post(self) -> None:
        webhook = self.server.webhook
        assert webhook is not None  # the route exists only in webhook mode
        sent = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(sent.encode(), webhook.secret.encode()):
            self.server.metrics.webhook_refused.inc()
            logger.warning(
                "Refused a webhook request from %s: %s secret token",
                self.request.remote_ip,
                "wrong" if sent else "missing",
            )
            self._answer(HTTPStatus.FORBIDDEN, "wrong or missing secret token")
            return
        if not self.server.accepting:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, "shutting down")
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, webhook.bot)
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("Refused a malformed webhook update: %s", error)
            self._answer(HTTPStatus.BAD_REQUEST, "not a Telegram update")
            return
        await webhook.update_queue.put(update)
        self._answer(HTTPStatus.OK, "ok")

    def _answer(self, status: HTTPStatus, detail: str) -> None:
        self.set_status(status)
        self.write({"status": detail})
