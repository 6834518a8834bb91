"""A client for any OpenAI-compatible chat-completions server (Ollama's /v1, llama.cpp's server,
vLLM, LM Studio): list the models, ask for a reply, whole or streamed. Nothing vendor-specific.

Every failure (refused connection, timeout, HTTP error, a body that is not the protocol's JSON)
is an :class:`LLMError` whose message names the server and the cause, never the API key.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import RagError

ENV_URL = "RAG_LLM_URL"
ENV_MODEL = "RAG_LLM_MODEL"
ENV_KEY = "RAG_LLM_API_KEY"


class LLMError(RagError):
    """The LLM server could not give a reply (the answer falls back to quotes)."""


def base_url(url: str) -> str:
    """The API root: ``http://host:11434/v1`` from that or ``.../v1/chat/completions``; a URL
    without a path gets ``/v1``."""
    url = url.strip().rstrip("/")
    for tail in ("/chat/completions", "/completions", "/models"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    if url.count("/") == 2:  # scheme://host[:port] alone
        url += "/v1"
    return url


@dataclass
class LLMClient:
    """``url``: the server's OpenAI-compatible root (``http://127.0.0.1:11434/v1``); ``model``:
    its name, or None for the server's first listed model; ``timeout``: seconds for the whole
    reply (and for each streamed chunk); one retry on a refused connection or a 5xx."""

    url: str
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_tokens: int = 400
    temperature: float = 0.0
    retries: int = 1

    def __post_init__(self) -> None:
        self.url = base_url(self.url)
        if not self.url.startswith(("http://", "https://")):
            raise LLMError(f"LLM URL {self.url!r}: give an http:// or https:// address, e.g. "
                           "http://127.0.0.1:11434/v1 (Ollama)")
        self._client = None

    def _http(self):
        import httpx

        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(
                self.timeout, connect=min(5.0, self.timeout)), trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _fail(self, what: str, e: Exception | str) -> LLMError:
        cause = f"{type(e).__name__}: {e}" if isinstance(e, Exception) else e
        return LLMError(f"LLM at {self.url} {what}: {str(cause)[:300]}")

    def _request(self, method: str, path: str, **kw):
        """One HTTP call, retried once on a refused connection or a 5xx; returns the response
        (stream=True: an open streaming response, for the caller to close)."""
        import httpx

        stream = kw.pop("stream", False)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                if stream:
                    req = self._http().build_request(method, self.url + path, **kw)
                    r = self._http().send(req, stream=True)
                else:
                    r = self._http().request(method, self.url + path, **kw)
            except httpx.TimeoutException as e:
                raise self._fail(f"gave no reply within {self.timeout:g} s", e) from e
            except httpx.HTTPError as e:
                if last:
                    raise self._fail("unreachable", e) from e
                time.sleep(0.2)
                continue
            if r.status_code >= 500 and not last:
                r.close()
                time.sleep(0.2)
                continue
            if r.status_code >= 400:
                body = r.read().decode("utf-8", "replace") if stream else r.text
                r.close()
                raise self._fail(f"answered HTTP {r.status_code}", body.strip()[:200] or
                                 r.reason_phrase)
            return r
        raise AssertionError("unreachable")

    def models(self) -> list[str]:
        """The model names the server lists (GET /models)."""
        r = self._request("GET", "/models")
        try:
            return [str(m["id"]) for m in r.json()["data"]]
        except (ValueError, KeyError, TypeError) as e:
            raise self._fail("sent a model list that is not the protocol's JSON", e) from e

    def model_name(self) -> str:
        """``model``, else the server's first listed model (asked once)."""
        if not self.model:
            names = self.models()
            if not names:
                raise self._fail("lists no model", "GET /models returned none: pass "
                                 "--llm-model NAME")
            self.model = names[0]
        return self.model

    def _body(self, messages: list[dict], stream: bool) -> dict:
        return {"model": self.model_name(), "messages": messages, "stream": stream,
                "max_tokens": self.max_tokens, "temperature": self.temperature}

    def stream(self, messages: list[dict], deadline: float | None = None) -> Iterator[str]:
        """The reply to ``messages`` as it is written: text pieces (server-sent events). Gives up
        with LLMError past ``timeout`` seconds in all (or the ``deadline``, a perf_counter)."""
        import httpx

        deadline = deadline or time.perf_counter() + self.timeout
        r = self._request("POST", "/chat/completions", json=self._body(messages, True),
                          stream=True)
        kind = r.headers.get("content-type", "")
        events = 0
        try:
            if "event-stream" not in kind:
                if "json" not in kind:
                    raise ValueError(f"content-type {kind or '(none)'}, not text/event-stream")
                # A server that ignores "stream": the whole reply at once.
                data = json.loads(r.read())
                yield str(data["choices"][0]["message"]["content"] or "")
                return
            for line in r.iter_lines():
                if time.perf_counter() > deadline:
                    raise self._fail(f"gave no whole reply within {self.timeout:g} s",
                                     "stopped reading")
                line = line.strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                events += 1
                if data == "[DONE]":
                    return
                event = json.loads(data)
                choices = event.get("choices") or [{}]
                piece = (choices[0].get("delta") or {}).get("content")
                if piece:
                    yield str(piece)
            if not events:
                raise ValueError("the stream held no data events")
        except httpx.TimeoutException as e:
            raise self._fail(f"gave no reply within {self.timeout:g} s", e) from e
        except httpx.HTTPError as e:
            raise self._fail("broke off its reply", e) from e
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
            raise self._fail("sent a stream that is not the protocol's JSON", e) from e
        finally:
            r.close()
