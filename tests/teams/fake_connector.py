"""A local stand-in for the Bot Connector service, for the Teams tests: a threaded HTTP server on a
free loopback port.

It publishes OpenID metadata and a JWKS with a locally generated RSA key (the SDK fetches the keys
from `<openid metadata>/…/keys`), signs activities the way the Bot Connector does (`sign`), and
serves `/v3/conversations/{id}/activities` (POST creates, PUT updates) for the conversations it
knows, as strictly as the real one: the bot's bearer token is required, the activity must be a
message, and each Adaptive Card attachment must parse with the SDK's own card model. Every call is
recorded; `fail(status, retry_after)` makes the next call answer that instead. Every replacement of
an activity in place is kept in `updates`: a PUT by the bot, or (`replace`) the card Teams itself
puts in the place of the clicked one when the bot answers an `Action.Execute` with a card.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from microsoft_teams.cards import AdaptiveCard

ISSUER = "https://api.botframework.com"
KID = "seen-test-key"
_ACTIVITIES = re.compile(r"^/v3/conversations/([^/]+)/activities(?:/([^/?]+))?$")


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Update:
    """An activity replaced in place: `via` "PUT" (the bot's call) or "invoke" (Teams, with the
    card the bot answered an `Action.Execute` with)."""

    conversation: str
    activity_id: str
    via: str
    activity: dict[str, Any]


class FakeConnector:
    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.key = new_key()
        self.calls: list[Call] = []
        self.failures: list[tuple[int, float | None]] = []
        self.conversations: dict[str, dict[str, dict[str, Any]]] = {}  # id -> activity id -> activity
        self.updates: list[Update] = []
        self.lock = threading.Lock()
        self._next = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.openid_url = f"{self.url}/v1/.well-known/openidconfiguration"
        # what Entra would issue the app for the Bot Connector (the SDK reads it as a JWT)
        self.bot_token = self.sign(aud="https://api.botframework.com", appid=app_id, serviceurl=None)

    def start(self) -> FakeConnector:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what tests use ---------------------------------------------------------------------------
    def open(self, conversation_id: str) -> str:
        """A conversation the connector knows (a 1:1 chat or a channel)."""
        with self.lock:
            self.conversations.setdefault(conversation_id, {})
        return conversation_id

    def fail(self, status: int, retry_after: float | None = None, times: int = 1) -> None:
        with self.lock:
            self.failures += [(status, retry_after)] * times

    def sign(self, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        """A Bot Connector token: issuer, audience = the app id, an hour's validity, `serviceurl`."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": self.app_id, "iat": now, "nbf": now, "exp": now + 3600}
        body["serviceurl"] = self.url
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": KID})

    def replace(self, conversation_id: str, activity_id: str, card: dict[str, Any]) -> None:
        """What Teams does with the card the bot answered an `Action.Execute` with: it takes the
        clicked card's place in the conversation (the activity keeps its id)."""
        AdaptiveCard.model_validate(card)
        with self.lock:
            activity = self.conversations[conversation_id][activity_id]
            attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            activity = {**activity, "attachments": [attachment]}
            self.conversations[conversation_id][activity_id] = activity
            self.updates.append(Update(conversation_id, activity_id, "invoke", activity))

    def activity_calls(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path.startswith("/v3/")]

    # -- the server -------------------------------------------------------------------------------
    def _jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        key = {"kty": "RSA", "use": "sig", "kid": KID, "n": _b64(numbers.n), "e": _b64(numbers.e)}
        return {"keys": [{**key, "endorsements": ["msteams"]}]}

    def _answer_v3(self, method: str, path: str, headers: dict[str, str], body: dict[str, Any]):
        if headers.get("authorization") != f"Bearer {self.bot_token}":
            return 401, {"error": {"code": "Unauthorized", "message": "bad bot token"}}, {}
        match = _ACTIVITIES.match(path)
        if match is None or method not in ("POST", "PUT") or (method == "PUT") != bool(match.group(2)):
            return 405, {"error": {"code": "MethodNotAllowed", "message": path}}, {}
        with self.lock:
            if self.failures:
                status, after = self.failures.pop(0)
                extra = {"Retry-After": str(int(after))} if after is not None else {}
                return status, {"error": {"code": "Throttled" if status == 429 else "ServiceError"}}, extra
            conversation = self.conversations.get(match.group(1))
        if conversation is None:
            return 404, {"error": {"code": "ConversationNotFound", "message": "Conversation not found."}}, {}
        if body.get("type") != "message":
            return 400, {"error": {"code": "BadArgument", "message": "not a message"}}, {}
        for attachment in body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                AdaptiveCard.model_validate(attachment["content"])
        with self.lock:
            if method == "PUT":
                if match.group(2) not in conversation:
                    return 404, {"error": {"code": "ActivityNotFound"}}, {}
                activity_id = match.group(2)
                self.updates.append(Update(match.group(1), activity_id, "PUT", body))
            else:
                self._next += 1
                activity_id = f"1:{self._next}"
            conversation[activity_id] = body
        return (201 if method == "POST" else 200), {"id": activity_id}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                if self.path == "/v1/.well-known/openidconfiguration":
                    return self._reply(
                        200,
                        {
                            "issuer": ISSUER,
                            "authorization_endpoint": f"{fake.url}/v1/authorize",
                            "jwks_uri": f"{fake.url}/v1/.well-known/keys",
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                        },
                    )
                if self.path == "/v1/.well-known/keys":
                    return self._reply(200, fake._jwks())
                self._reply(404, {"error": {"code": "NotFound"}})

            def _v3(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                body = json.loads(raw or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = Call(method, self.path, body, headers)
                with fake.lock:
                    fake.calls.append(call)
                status, answer, extra = fake._answer_v3(method, self.path, headers, body)
                call.status = status
                self._reply(status, answer, extra)

            def do_POST(self) -> None:
                self._v3("POST")

            def do_PUT(self) -> None:
                self._v3("PUT")

        return Handler
