import logging
import threading
import time
from typing import NamedTuple

import requests

from odoo import models

from ..lib import delivery_policy, guarded_http, url_guard
from ..tools import database_environment
from .fih_backend_credentials import SecretNotUsable

_logger = logging.getLogger(__name__)

# one pooled HTTP session per backend and worker process
_SESSIONS = {}
_TOKENS = {}  # backend id -> (access token, expiry epoch)
_LOCK = threading.Lock()
MAX_RESPONSE_BYTES = 1_000_000
USER_AGENT = "Finance Integration Hub"


class Reply(NamedTuple):
    """What one call gave: its outcome, and what the other side answered."""

    outcome: delivery_policy.Outcome
    status: int | None = None
    headers: dict | None = None
    content: bytes = b""
    error: str | None = None  # the type of a network error, never its text


def _cache_key(backend):
    """Per database, backend, credentials and allowed hosts: a staging copy of
    a database, a new client secret or a shorter allow-list never reuses
    another's session or token."""
    backend = backend.sudo()
    return (
        backend.env.cr.dbname,
        backend.id,
        backend.base_url,
        backend.auth_type,
        backend.oauth_token_url,
        backend.oauth_client_id,
        backend.oauth_client_secret_encrypted,
        backend.api_key_encrypted,
        backend.private_host_allowlist,
    )


def _session(backend):
    """The pooled session of ``backend``: its connections check the address
    they reach against the backend's allowed hosts (DNS rebinding)."""
    key = _cache_key(backend)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = guarded_http.guarded_session(
                backend._allowlist()
            )
        return session


class Prepared(NamedTuple):
    """One call, with all it needs from the database already read."""

    session: requests.Session
    allowlist: object  # url_guard.Allowlist of the backend
    method: str
    url: str
    headers: dict
    body: bytes | None
    params: dict | None
    timeout: tuple
    max_bytes: int


class Transported(NamedTuple):
    """What the wire gave: an answer, or the exception that stopped it."""

    status: int | None = None
    headers: dict | None = None
    content: bytes = b""
    error: Exception | None = None


def transport(prepared):
    """Send ``prepared`` behind the SSRF guard, following one redirect to the
    same origin. Touches no database: safe in a worker thread. Never raises
    for the other side's failures (they come back in ``error``)."""
    url = prepared.url
    try:
        for _hop in range(2):
            url_guard.check_url(url, prepared.allowlist)
            response = prepared.session.request(
                prepared.method,
                url,
                data=prepared.body,
                params=prepared.params,
                headers=prepared.headers,
                timeout=prepared.timeout,
                allow_redirects=False,
                verify=True,
                stream=True,  # read a bounded answer, whatever its size
            )
            with response:
                content = response.raw.read(prepared.max_bytes, decode_content=True)
                answer = Transported(response.status_code, response.headers, content)
                if not response.is_redirect:
                    return answer
                location = response.headers.get("Location", "")
            target = requests.compat.urljoin(url, location)
            if not url_guard.same_origin(url, target):
                raise url_guard.UnsafeURLError(
                    f"the server redirected to another host ({target})"
                )
            url = target
    except (url_guard.UnsafeURLError, requests.RequestException) as exc:
        return Transported(error=exc)
    return answer


class FihHttpClient(models.AbstractModel):
    """Every call the hub makes to another system goes through here: the
    environment guard, authentication, the SSRF guard, bounded answers and
    the classification of the outcome (deliveries, BI loads and pulls)."""

    _name = "fih.http.client"
    _description = "Outbound HTTP calls"

    def _refusal(self, backend):
        """Why ``backend`` must not be called from this database, or None."""
        if not backend.base_url:
            return self.env._("%s has no base URL.", backend.name)
        if backend.environment == "prod" and database_environment() != "prod":
            return self.env._(
                "This %(env)s database never calls the production system "
                "%(backend)s (set fih_environment = prod only on production).",
                env=database_environment(),
                backend=backend.name,
            )
        return None

    def _url(self, backend, *parts):
        """The backend's base URL joined with ``parts``."""
        path = "/".join(str(part).strip("/") for part in parts if part)
        return backend.base_url.rstrip("/") + "/" + path

    def _call(
        self,
        backend,
        method,
        url,
        headers=None,
        body=None,
        params=None,
        max_bytes=MAX_RESPONSE_BYTES,
        attempts=1,
        pauses=(0.5, 2.0),
    ):
        """Call ``url`` of ``backend``; return a :class:`Reply`, never raise for
        the other side's failures. ``attempts`` > 1 retries quickly what is
        worth retrying (pauses in seconds between attempts)."""
        refusal = self._refusal(backend)
        if refusal:
            return Reply(
                delivery_policy.Outcome(delivery_policy.PERMANENT, refusal, None)
            )
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        reply = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(pauses[min(attempt - 1, len(pauses) - 1)])
            reply = self._call_once(
                backend, method, url, headers, body, params, max_bytes
            )
            if reply.outcome.kind != delivery_policy.RETRY:
                break
        return reply

    def _call_once(self, backend, method, url, headers, body, params, max_bytes):
        prepared = self._prepare(backend, method, url, headers, body, params, max_bytes)
        if isinstance(prepared, Reply):
            return prepared
        reply = self._reply(transport(prepared))
        if reply.status == 401 and backend.auth_type == "oauth2":
            _TOKENS.pop(_cache_key(backend), None)  # expired early: refresh once
            prepared = self._prepare(
                backend, method, url, headers, body, params, max_bytes
            )
            if isinstance(prepared, Reply):
                return prepared
            reply = self._reply(transport(prepared))
        return reply

    def _prepare(
        self,
        backend,
        method,
        url,
        headers=None,
        body=None,
        params=None,
        max_bytes=MAX_RESPONSE_BYTES,
    ):
        """Everything a call needs from the database, read here (ORM, in the
        job's thread): a :class:`Prepared` that :func:`transport` sends with
        no database access, or the :class:`Reply` of a call that must not be
        made (refused environment, credentials for another host...)."""
        refusal = self._refusal(backend)
        if refusal:
            return Reply(
                delivery_policy.Outcome(delivery_policy.PERMANENT, refusal, None)
            )
        try:
            self._check_same_host(backend, url)
            headers = {
                "User-Agent": USER_AGENT,
                **(headers or {}),
                **self._auth_headers(backend),
            }
        except SecretNotUsable as exc:
            return Reply(
                delivery_policy.Outcome(delivery_policy.PERMANENT, str(exc), None)
            )
        except (url_guard.UnsafeURLError, requests.RequestException) as exc:
            return self._reply(Transported(error=exc))  # OAuth token call
        return Prepared(
            session=_session(backend),
            allowlist=backend._allowlist(),
            method=method,
            url=url,
            headers=headers,
            body=body,
            params=params,
            timeout=(backend.connect_timeout, backend.read_timeout),
            max_bytes=max_bytes,
        )

    def _reply(self, transported):
        """The :class:`Reply` of what :func:`transport` gave (in the job's
        thread: messages are translated here)."""
        exc = transported.error
        if isinstance(exc, url_guard.UnsafeURLError):
            reason = self.env._("The address is not allowed: %s", exc)
            return Reply(
                delivery_policy.Outcome(delivery_policy.PERMANENT, reason, None)
            )
        if exc is not None:
            # the type only: the text of some errors quotes header values
            error = type(exc).__name__
            return Reply(delivery_policy.classify(None, {}, error), error=error)
        return Reply(
            delivery_policy.classify(transported.status, transported.headers, None),
            transported.status,
            transported.headers,
            transported.content,
        )

    def _forget_token(self, backend, refused_headers):
        """Drop the cached OAuth token of ``backend`` when it is the one the
        receiver refused (calls under way side by side refresh it once)."""
        key = _cache_key(backend)
        with _LOCK:
            cached = _TOKENS.get(key)
            if cached and refused_headers.get("Authorization") == f"Bearer {cached[0]}":
                del _TOKENS[key]

    def _check_same_host(self, backend, url):
        """Credentials only ever go to the host of the backend's base URL."""
        if backend.auth_type != "none" and not url_guard.same_origin(
            url, backend.base_url
        ):
            raise url_guard.UnsafeURLError(
                "the call would leave the host of the backend's base URL "
                "with its credentials"
            )

    def _required_secret(self, backend, field_name):
        secret = backend._get_secret(field_name)
        if not secret:
            raise SecretNotUsable(
                self.env._(
                    "The %(label)s of %(backend)s is not set, so the call is not "
                    "made: enter the secret again on the backend's Outbound tab.",
                    label=backend._fields[field_name].string,
                    backend=backend.name,
                )
            )
        return secret

    def _auth_headers(self, backend):
        auth = backend.auth_type
        if auth == "api_key":
            return {
                backend.api_key_header or "X-API-Key": self._required_secret(
                    backend, "api_key"
                )
            }
        if auth == "bearer":
            return {
                "Authorization": f"Bearer {self._required_secret(backend, 'api_key')}"
            }
        if auth == "basic":
            token = requests.auth._basic_auth_str(
                backend.basic_username or "",
                self._required_secret(backend, "api_key"),
            )
            return {"Authorization": token}
        if auth == "oauth2":
            return {"Authorization": f"Bearer {self._oauth_token(backend)}"}
        return {}

    def _oauth_token(self, backend):
        cached = _TOKENS.get(_cache_key(backend))
        if cached and cached[1] > time.time() + 30:
            return cached[0]
        url_guard.check_url(backend.oauth_token_url, backend._allowlist())
        response = _session(backend).post(
            backend.oauth_token_url,
            data={"grant_type": "client_credentials"},
            auth=(
                backend.oauth_client_id,
                self._required_secret(backend, "oauth_client_secret"),
            ),
            timeout=(backend.connect_timeout, backend.read_timeout),
            allow_redirects=False,
            verify=True,
        )
        response.raise_for_status()
        answer = response.json()
        token = answer["access_token"]
        _TOKENS[_cache_key(backend)] = (
            token,
            time.time() + int(answer.get("expires_in", 300)),
        )
        return token
