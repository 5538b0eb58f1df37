"""The OpenAI vision client (official SDK) against a fake Chat Completions server on 127.0.0.1."""

import base64
import io
import json
import time

import pytest
from PIL import Image
from werkzeug import Response

from generation.providers import (
    ProviderOutOfCredits,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from generation.providers.openai_vision import OpenAIVisionProvider

from .fake_servers import closed_port_url, server_fixture  # noqa: F401
from .test_providers_local_vision import NIGHT, SUNSET

GOOD = {
    "description": "夕阳下的海边，天空被染成橙红色，温暖而宁静。",
    "mood": "happy",
    "style": "pop",
    "tags": ["夕阳", "海边", "温暖"],
    "title": "落日海岸",
    "lyrics": "海风吹过\n夕阳落下",
}


def completion(content: str | None) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 60, "total_tokens": 180},
    }


def api_error(status: int, code: str, message: str = "error") -> Response:
    body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def vision(server):
    return OpenAIVisionProvider(api_key="sk-test", base_url=server.url_for("/v1"), model="gpt-4o-mini", timeout=2.0)


def chat(server):
    return server.expect_ordered_request("/v1/chat/completions", method="POST")


def test_a_photo_is_sent_at_low_detail_and_the_json_answer_comes_back_validated(server, vision):
    seen = {}

    def answer(request):
        seen["auth"] = request.headers.get("Authorization")
        seen["body"] = request.get_json()
        return Response(json.dumps(completion(json.dumps(GOOD, ensure_ascii=False))), content_type="application/json")

    chat(server).respond_with_handler(answer)
    analysis = vision.describe(SUNSET, "image/jpeg")

    body = seen["body"]
    assert seen["auth"] == "Bearer sk-test"
    assert body["model"] == "gpt-4o-mini" and body["response_format"] == {"type": "json_object"}
    text, image = body["messages"][1]["content"]
    assert text["type"] == "text" and image["type"] == "image_url" and image["image_url"]["detail"] == "low"
    url = image["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert sent.format == "JPEG" and max(sent.size) <= 512

    assert analysis.title == "落日海岸" and analysis.mood == "happy" and analysis.style == "pop"
    assert analysis.tags == ("夕阳", "海边", "温暖") and analysis.lyrics == "海风吹过\n夕阳落下"
    assert analysis.palette and analysis.brightness > 0.6 and analysis.warmth > 0.2  # measured from the pixels


def test_answers_are_trimmed_and_unknown_words_mapped_onto_our_vocabulary(server, vision):
    odd = {
        **GOOD,
        "mood": "Joyful and upbeat",
        "style": "不存在的风格",
        "title": "长" * 100,
        "tags": "夕阳，海边",
        "lyrics": None,
    }
    chat(server).respond_with_json(completion(json.dumps(odd, ensure_ascii=False)))
    analysis = vision.describe(NIGHT, "image/jpeg")
    assert analysis.mood == "happy"  # "upbeat" is one of happy's keywords
    assert analysis.style in ("ambient", "hiphop")  # unknown: what the dark, cool pixels suggest
    assert len(analysis.title) == 40 and analysis.tags == ("夕阳", "海边") and analysis.lyrics is None


def test_a_malformed_answer_is_asked_again_once(server, vision):
    chat(server).respond_with_json(completion("Sure! Here is the JSON you asked for: {"))
    chat(server).respond_with_json(completion(json.dumps(GOOD, ensure_ascii=False)))
    assert vision.describe(SUNSET, "image/jpeg").title == "落日海岸"
    assert len(server.log) == 2


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps(["a", "list"]),
        json.dumps({**GOOD, "title": ""}),
        json.dumps({**GOOD, "tags": [1, 2]}),
        json.dumps({k: v for k, v in GOOD.items() if k != "mood"}),
        None,
    ],
    ids=["prose", "list", "empty-title", "tags-not-strings", "missing-mood", "no-content"],
)
def test_two_malformed_answers_are_a_permanent_error(server, vision, content):
    chat(server).respond_with_json(completion(content))
    chat(server).respond_with_json(completion(content))
    with pytest.raises(ProviderRejected) as caught:
        vision.describe(SUNSET, "image/jpeg")
    assert caught.value.retryable is False and "无法理解" in caught.value.user_message


@pytest.mark.parametrize(
    ("status", "code", "error", "retryable"),
    [
        (500, "server_error", ProviderUnavailable, True),
        (503, "overloaded", ProviderUnavailable, True),
        (429, "rate_limit_exceeded", ProviderUnavailable, True),
        (429, "insufficient_quota", ProviderOutOfCredits, False),
        (401, "invalid_api_key", ProviderRejected, False),
        (400, "invalid_image_format", ProviderRejected, False),
    ],
)
def test_http_errors_map_to_retryable_or_permanent(server, vision, status, code, error, retryable):
    chat(server).respond_with_response(api_error(status, code))
    with pytest.raises(error) as caught:
        vision.describe(SUNSET, "image/jpeg")
    assert caught.value.retryable is retryable and str(status) in caught.value.detail
    assert len(server.log) == 1  # no retry inside the SDK: the pipeline retries with backoff


def test_a_model_that_does_not_answer_in_time_is_a_timeout(server):
    def slow(request):
        time.sleep(1.5)
        return Response(json.dumps(completion(json.dumps(GOOD))), content_type="application/json")

    chat(server).respond_with_handler(slow)
    vision = OpenAIVisionProvider(api_key="sk-test", base_url=server.url_for("/v1"), timeout=0.5)
    with pytest.raises(ProviderTimeout) as caught:
        vision.describe(SUNSET, "image/jpeg")
    assert caught.value.retryable is True


def test_an_unreachable_endpoint_is_retryable():
    vision = OpenAIVisionProvider(api_key="sk-test", base_url=closed_port_url() + "/v1", timeout=1.0)
    with pytest.raises(ProviderUnavailable):
        vision.describe(SUNSET, "image/jpeg")


def test_bytes_that_are_not_an_image_never_reach_the_model(server, vision):
    with pytest.raises(ProviderRejected):
        vision.describe(b"GIF89a-but-not-really", "image/gif")
    assert not [entry for entry, _ in server.log if entry.path == "/v1/chat/completions"]
