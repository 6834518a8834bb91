"""The OpenAI-compatible client (rag/llm.py) against the stand-in server, without a model."""
import pytest

from llm_standin import StandIn

from rag import LLMClient, LLMError
from rag.answer.llm import base_url


def test_base_url_accepts_what_users_paste():
    assert base_url("http://127.0.0.1:11434") == "http://127.0.0.1:11434/v1"
    assert base_url("http://h:8080/v1/") == "http://h:8080/v1"
    assert base_url("http://h:8080/v1/chat/completions") == "http://h:8080/v1"
    with pytest.raises(LLMError, match="http:// or https://"):
        LLMClient("127.0.0.1:8080")


def test_models_whole_and_streamed_replies():
    with StandIn(lambda m: "Tea grows in China [1].") as server:
        c = LLMClient(server.url)
        assert c.models() == ["standin-1"] and c.model_name() == "standin-1"
        msgs = [{"role": "user", "content": "Where does tea grow?"}]
        pieces = list(c.stream(msgs))
        assert len(pieces) > 1 and "".join(pieces) == "Tea grows in China [1]."
        assert server.requests[-1]["body"]["stream"] is True
        c.close()


def test_errors_name_the_server_never_the_key():
    with StandIn(fault="500") as server:
        c = LLMClient(server.url, api_key="k3y-secret", retries=1)
        with pytest.raises(LLMError, match="answered HTTP 500") as e:
            list(c.stream([{"role": "user", "content": "x"}]))
        assert server.url in str(e.value) and "k3y" not in str(e.value) and "k3y" not in repr(c)
        posts = [r for r in server.requests if "body" in r]
        assert len(posts) == 2  # one retry on a 5xx
        assert posts[0]["headers"]["Authorization"] == "Bearer k3y-secret"
