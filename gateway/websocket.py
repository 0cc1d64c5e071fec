"""The WebSocket edge: subscriptions over ``graphql-transport-ws``, authenticated, bounded and coded (ADR 0023).

strawberry's handler speaks the protocol; :class:`GatewayTransportWS` adds what the gateway needs:

- **The token comes with ``connection_init``**: its payload's ``Authorization`` (``Bearer <token>``) is
  verified as a request's header is (:func:`gateway.http.verify_bearer`). None, or one that does not
  verify, closes the connection with ``4403`` and a reason starting ``UNAUTHENTICATED:``. When the token
  expires, every running subscription ends with an ``UNAUTHENTICATED`` error (its next poll refuses,
  :mod:`auth.stream`) and the connection is then closed with ``4401``.
- **Only subscriptions**, each in a context of its own (its request id, loaders, access plan and polls:
  :mod:`gateway.streams`); queries and mutations go over HTTP. A client's trusted documents apply as
  over HTTP (``documentId``, APQ; ``DOCUMENT_NOT_TRUSTED``), and each ``subscribe`` counts as a request
  against the caller's rate limit (``RATE_LIMITED``).
- **Bounded work**: at most ``SUBSCRIPTIONS__MAX_PER_CONNECTION`` subscriptions per connection and
  ``…_MAX_PER_CALLER`` per caller in this process (beyond: an ``error`` message with
  ``TOO_MANY_SUBSCRIPTIONS``, the connection stays); messages of at most ``…_MAX_MESSAGE_BYTES`` (beyond:
  close ``1009``), strict JSON as request bodies (:func:`gateway.request.decode_json`).
- **Malformed messages close the connection with ``4400``** and a fixed reason, whatever their shape
  (strawberry raised on a payload that was not an object); never an unhandled error.

Other closes are strawberry's, as the protocol has them: ``4401`` a subscribe before ``connection_ack``,
``4406`` another subprotocol, ``4408`` no ``connection_init`` within ``…_CONNECTION_INIT_TIMEOUT_S``,
``4409`` an id already running, ``4429`` a second ``connection_init``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from graphql import GraphQLError, GraphQLFormattedError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from auth.actor import Actor
from auth.errors import AuthenticationFailed, TokenExpired
from gateway.context import RequestContext
from gateway.errors import ErrorCode, translate
from gateway.limits import TooManySubscriptions
from gateway.rate_limit import RateLimited, Window
from gateway.request import RequestRefused, decode_json
from gateway.settings_subscriptions import SubscriptionSettings
from gateway.streams import OpenSubscriptions
from gateway.trusted import resolve

if TYPE_CHECKING:
    from gateway.clients import Client

logger = logging.getLogger("patientoverblik.subscriptions")

MAX_ID_CHARS = 128
"""The longest operation id accepted (graphql-ws clients send UUIDs)."""
EXPIRY_GRACE_S = 5.0
"""How long, after the token expired, the connection waits for its subscriptions to end before closing."""
MAX_REASON_BYTES = 123
"""The longest close reason a WebSocket frame can carry (RFC 6455 §5.5)."""
_MESSAGE_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})


class MessageTooLarge(Exception):
    """A WebSocket message over the limit (closes with 1009)."""


class MalformedMessage(Exception):
    """A WebSocket message that is not a protocol message (closes with 4400); the message says why."""


class SubscriptionCaller(Protocol):
    """The calling client and the key its requests are counted under (``gateway.http.Caller``)."""

    @property
    def client(self) -> Client: ...
    @property
    def rate_key(self) -> str: ...


class SubscriptionView(Protocol):
    """What the handler needs from the GraphQL app (``gateway.http.GraphQLApp``)."""

    subscriptions: SubscriptionSettings
    open_subscriptions: OpenSubscriptions

    async def verify(self, services: Any, header: str) -> Actor: ...

    def caller_of(self, actor: Actor, address: str | None) -> SubscriptionCaller: ...

    def subscription_context(self, services: Any, actor: Actor, caller: SubscriptionCaller) -> RequestContext: ...


class BoundedWebSocket(ASGIWebSocketAdapter):
    """strawberry's WebSocket adapter, refusing messages over ``max_bytes`` and anything but strict JSON."""

    max_bytes = SubscriptionSettings().max_message_bytes

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        while self.ws.application_state != WebSocketState.DISCONNECTED:
            try:
                text = await self.ws.receive_text()
            except WebSocketDisconnect:
                return
            except KeyError:
                raise NonTextMessageReceived from None
            if len(text) > self.max_bytes or len(data := text.encode("utf-8", "surrogatepass")) > self.max_bytes:
                raise MessageTooLarge
            try:
                yield decode_json(data)
            except RequestRefused as refused:
                raise MalformedMessage(refused.message) from None


def bounded_websocket(max_bytes: int) -> type[BoundedWebSocket]:
    """A WebSocket adapter class accepting messages of at most ``max_bytes``."""
    return type("BoundedWebSocket", (BoundedWebSocket,), {"max_bytes": max_bytes})


def malformed(message: object) -> str | None:
    """Why ``message`` is not a graphql-transport-ws message the gateway reads; ``None`` when it is."""
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _MESSAGE_TYPES:
        return "Unknown message type."
    if kind in ("connection_init", "ping", "pong"):
        return None if isinstance(message.get("payload"), dict | None) else "The payload must be an object."
    identifier = message.get("id")
    if not isinstance(identifier, str) or not 0 < len(identifier) <= MAX_ID_CHARS:
        return f"The id must be a string of 1 to {MAX_ID_CHARS} characters."
    if kind == "complete":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "A subscribe message needs a payload object."
    shapes = (("query", str), ("variables", dict), ("operationName", str), ("extensions", dict), ("documentId", str))
    for name, shape in shapes:
        if payload.get(name) is not None and not isinstance(payload[name], shape):
            return f"The payload's {name} has the wrong type."
    return None


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame can carry."""
    return text.encode()[:MAX_REASON_BYTES].decode(errors="ignore")


def coded(error: Exception, code: ErrorCode | None = None) -> GraphQLFormattedError:
    """One formatted, coded GraphQL error for an ``error`` message."""
    if code is not None:
        return GraphQLError(str(error), extensions={"code": code.value}).formatted
    return translate(GraphQLError(str(error), original_error=error)).formatted


class GatewayTransportWS(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """strawberry's graphql-transport-ws handler with the gateway's authentication and bounds (module doc)."""

    actor: Actor | None = None
    caller: SubscriptionCaller | None = None
    _expiry: asyncio.Task[None] | None = None
    _counted: frozenset[str] = frozenset()
    """Operation ids holding one of the caller's subscriptions (:class:`~gateway.streams.OpenSubscriptions`)."""

    @property
    def _view(self) -> SubscriptionView:
        return cast(SubscriptionView, self.view)

    @property
    def _services(self) -> Any:
        return cast(BoundedWebSocket, self.websocket).ws.app.state.services

    async def handle(self) -> None:
        self.on_request_accepted()
        try:
            try:
                async for message in self.websocket.iter_json():
                    await self.handle_message(cast(Message, message))
            except NonTextMessageReceived:
                await self.handle_invalid_message("WebSocket messages must be text.")
            except MalformedMessage as exc:
                await self.handle_invalid_message(close_reason(str(exc)))
            except MessageTooLarge:
                await self.websocket.close(
                    1009, f"A message may be at most {self._view.subscriptions.max_message_bytes} bytes."
                )
        except WebSocketDisconnected:
            pass
        finally:
            if self._expiry is not None:
                self._expiry.cancel()
            await self.shutdown()

    async def handle_message(self, message: Message) -> None:
        problem = malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        if self.connection_init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        header = _authorization(message.get("payload") or {})
        try:
            if header is None:
                raise AuthenticationFailed("connection_init's payload must carry Authorization: Bearer <token>")
            actor = await self._view.verify(self._services, header)
        except AuthenticationFailed as exc:
            await self.websocket.close(4403, close_reason(f"{ErrorCode.UNAUTHENTICATED.value}: {exc}"))
            return
        address = self.websocket.ws.client.host if self.websocket.ws.client else None  # type: ignore[attr-defined]
        self.actor, self.caller = actor, self._view.caller_of(actor, address)
        if actor.expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at(actor.expires_at))
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or self.actor is None or self.caller is None:
            await self.websocket.close(4401, "Unauthorized")
            return
        if message["id"] in self.operations:
            await self.websocket.close(4409, close_reason(f"Subscriber for {message['id']} already exists"))
            return
        try:
            query = await self._admit(message, self.actor, self.caller)
        except RequestRefused as refused:
            await self._refuse(message["id"], coded(Exception(refused.message), refused.code))
            return
        except (TokenExpired, TooManySubscriptions, RateLimited) as refusal:
            await self._refuse(message["id"], coded(refusal))
            return
        payload = message["payload"]
        operation = Operation(self, message["id"], query, payload.get("variables"), payload.get("operationName"))
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        operation.task.add_done_callback(lambda _: self._uncount(operation.id))
        self.operations[message["id"]] = operation
        self._counted |= {operation.id}

    def forget_id(self, id: str) -> None:
        super().forget_id(id)
        self._uncount(id)

    async def cleanup_operation(self, operation_id: str) -> None:
        await super().cleanup_operation(operation_id)
        self._uncount(operation_id)

    def _uncount(self, operation_id: str) -> None:
        """The operation no longer runs: its caller may start another (once per operation, however it ended)."""
        if operation_id in self._counted and self.caller is not None:
            self._counted -= {operation_id}
            self._view.open_subscriptions.release(self.caller.rate_key)

    async def _admit(self, message: SubscribeMessage, actor: Actor, caller: SubscriptionCaller) -> str:
        """The subscription's document, once every bound lets it run; raises the refusal otherwise."""
        settings = self._view.subscriptions
        if actor.expires_at is not None and datetime.now(UTC) >= actor.expires_at:
            raise TokenExpired("the token has expired; connect again with a new token")
        if len(self.operations) >= settings.max_per_connection:
            message_text = "This connection already runs as many subscriptions as it may."
            raise TooManySubscriptions(message_text, "maxSubscriptionsPerConnection", settings.max_per_connection)
        limiter = getattr(self._services, "limiter", None)
        if limiter is not None:
            await limiter.take(caller.rate_key, caller.client.budget, Window.REQUESTS)
        body = resolve(dict(message["payload"]), caller.client.documents, caller.client.trusted_documents_only)
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RequestRefused(
                400, ErrorCode.BAD_REQUEST, "The subscribe payload's `query` must be a non-empty string."
            )
        if not self._view.open_subscriptions.take(caller.rate_key, settings.max_per_caller):
            message_text = "You already run as many subscriptions as you may."
            raise TooManySubscriptions(message_text, "maxSubscriptionsPerCaller", settings.max_per_caller)
        return query

    async def _refuse(self, operation_id: str, error: GraphQLFormattedError) -> None:
        await self.send_message(ErrorMessage(id=operation_id, type="error", payload=[error]))

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        """Run one subscription in a context of its own; its errors come coded from the schema."""
        assert self.actor is not None and self.caller is not None
        context = self._view.subscription_context(self._services, self.actor, self.caller)
        try:
            results = await self.schema.subscribe(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            if isinstance(results, ExecutionResult):  # refused before it could start
                await operation.send_initial_errors(results.errors or [])
                return
            async with aclosing(results):
                first = True
                async for result in results:
                    if first and isinstance(result, PreExecutionError):
                        await operation.send_initial_errors(result.errors or [])
                        return
                    await operation.send_next(result)
                    first = False
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except Exception as error:
            logger.error("subscription failed", extra={"error_class": type(error).__name__})
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _close_at(self, expires_at: datetime) -> None:
        """When the token expires: let the subscriptions end with their coded error, then close (4401)."""
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
        running = [op.task for op in self.operations.values() if op.task is not None]
        if running:
            await asyncio.wait(running, timeout=self._view.subscriptions.poll_interval_s + EXPIRY_GRACE_S)
        with suppress(Exception):
            await self.websocket.close(4401, f"{ErrorCode.UNAUTHENTICATED.value}: the token has expired")


def _authorization(payload: Mapping[str, object]) -> str | None:
    """The ``Authorization`` value of a ``connection_init`` payload (any letter case), when it is text."""
    for key, value in payload.items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    return None
