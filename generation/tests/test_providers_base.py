"""The provider interface: value objects, provider selection from settings, and fetch_asset against a local server."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from werkzeug import Response

from generation.providers import (
    Asset,
    ImageAnalysis,
    MusicProvider,
    MusicRequest,
    PollResult,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    TaskState,
    VisionProvider,
    fetch_asset,
    get_music_provider,
    get_vision_provider,
)
from generation.providers.local_music import LocalMusicProvider
from generation.providers.local_vision import LocalVisionProvider
from generation.providers.openai_vision import OpenAIVisionProvider
from generation.providers.suno import SunoProvider

from .fake_servers import closed_port_url, server_fixture  # noqa: F401


def test_music_request_defaults_to_thirty_seconds_and_accepts_the_documented_range():
    assert MusicRequest(prompt="x").duration == 30
    assert MusicRequest(prompt="x", duration=10).duration == 10
    assert MusicRequest(prompt="x", duration=240).duration == 240
    for bad in (9, 241, 0, -5, "30", True, None):
        with pytest.raises(ValueError):
            MusicRequest(prompt="x", duration=bad)


def test_music_request_travels_as_json_and_comes_back_equal():
    image = ImageAnalysis(description="d", mood="happy", style="pop", tags=["a"], palette=["#112233"])
    request = MusicRequest(
        prompt="海边", style="pop", mood="happy", duration=45, title="夏天", tags="夏天, 海边", image=image, seed="g1"
    )
    data = request.to_dict()
    assert data["tags"] == ["夏天", "海边"] and data["image"]["palette"] == ["#112233"]
    assert MusicRequest.from_dict(data) == request


def test_poll_result_needs_a_result_when_completed_and_an_error_when_failed():
    with pytest.raises(ValueError):
        PollResult(TaskState.COMPLETED)
    with pytest.raises(ValueError):
        PollResult(TaskState.FAILED)
    failed = PollResult(TaskState.FAILED, error=ProviderRejected(detail="sensitive"))
    assert failed.retryable is False and failed.error_message == "生成请求被拒绝"
    assert PollResult(TaskState.FAILED, error=ProviderTimeout()).retryable is True


def test_asset_holds_either_bytes_or_a_url_and_never_prints_its_bytes():
    with pytest.raises(ValueError):
        Asset(content_type="audio/mpeg", extension="mp3")
    with pytest.raises(ValueError):
        Asset(content_type="audio/mpeg", extension="mp3", data=b"x", url="http://x")
    asset = Asset.inline(b"\xff" * 1000, "audio/mpeg", ".mp3")
    assert asset.extension == "mp3" and "\\xff" not in repr(asset)
    assert asset.describe()["size"] == 1000


def test_providers_are_chosen_by_settings(settings):
    assert isinstance(get_music_provider(), LocalMusicProvider)
    assert isinstance(get_vision_provider(), LocalVisionProvider)
    assert isinstance(get_music_provider(), MusicProvider) and isinstance(get_vision_provider(), VisionProvider)

    settings.MUSIC_PROVIDER, settings.SUNO_API_KEY, settings.SUNO_API_BASE = "suno", "k", "http://127.0.0.1:9/"
    suno = get_music_provider()
    assert isinstance(suno, SunoProvider) and suno.base_url == "http://127.0.0.1:9"
    assert get_music_provider() is suno  # one client (and connection pool) per configuration

    settings.VISION_PROVIDER, settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = (
        "openai",
        "sk",
        "http://127.0.0.1:9/v1",
    )
    vision = get_vision_provider()
    assert isinstance(vision, OpenAIVisionProvider) and str(vision.client.base_url).startswith("http://127.0.0.1:9")


def test_a_real_provider_without_its_key_or_an_unknown_name_is_a_configuration_error(settings):
    settings.MUSIC_PROVIDER, settings.SUNO_API_KEY = "suno", ""
    with pytest.raises(ImproperlyConfigured):
        get_music_provider()
    settings.VISION_PROVIDER, settings.OPENAI_API_KEY = "openai", ""
    with pytest.raises(ImproperlyConfigured):
        get_vision_provider()
    settings.MUSIC_PROVIDER = "udio"
    with pytest.raises(ImproperlyConfigured):
        get_music_provider()


# --- fetch_asset ---------------------------------------------------------------------------------------------------


def test_fetch_asset_returns_inline_bytes_and_downloads_remote_ones(server):
    assert fetch_asset(Asset.inline(b"ID3\x04abcdefgh", "audio/mpeg", "mp3"), max_bytes=20, timeout=1) == (
        b"ID3\x04abcdefgh"
    )
    body = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 1000  # an MP3 (by its ID3 tag) of ~250 KB
    server.expect_request("/song.mp3").respond_with_data(body, content_type="audio/mpeg")
    asset = Asset.remote(server.url_for("/song.mp3"), "audio/mpeg", "mp3")
    assert fetch_asset(asset, max_bytes=len(body), timeout=5) == body


def test_fetch_asset_refuses_a_file_over_the_cap_whether_or_not_it_declares_its_size(server):
    body = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"x" * 300_000
    server.expect_request("/declared.mp3").respond_with_data(body)
    server.expect_request("/chunked.mp3").respond_with_response(
        Response((body[i : i + 50_000] for i in range(0, len(body), 50_000)), mimetype="audio/mpeg")
    )
    for path in ("/declared.mp3", "/chunked.mp3"):
        with pytest.raises(ProviderRejected) as caught:
            fetch_asset(Asset.remote(server.url_for(path), "audio/mpeg", "mp3"), max_bytes=100_000, timeout=5)
        assert caught.value.retryable is False and "过大" in caught.value.user_message
    with pytest.raises(ProviderRejected):
        fetch_asset(Asset.inline(body, "audio/mpeg", "mp3"), max_bytes=100_000, timeout=5)


def test_fetch_asset_maps_an_expired_link_to_permanent_and_a_server_error_to_retryable(server):
    server.expect_request("/gone.mp3").respond_with_data("gone", status=404)
    server.expect_request("/busy.mp3").respond_with_data("busy", status=503)
    with pytest.raises(ProviderRejected):
        fetch_asset(Asset.remote(server.url_for("/gone.mp3"), "audio/mpeg", "mp3"), max_bytes=10**6, timeout=5)
    with pytest.raises(ProviderUnavailable) as caught:
        fetch_asset(Asset.remote(server.url_for("/busy.mp3"), "audio/mpeg", "mp3"), max_bytes=10**6, timeout=5)
    assert caught.value.retryable is True


def test_fetch_asset_times_out_on_a_silent_server_and_on_a_slow_trickle(server):
    def silent(request):
        time.sleep(1.5)
        return Response(b"late")

    def trickle():
        for _ in range(12):
            time.sleep(0.2)
            yield b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"y" * 65536

    server.expect_request("/silent.mp3").respond_with_handler(silent)
    server.expect_request("/trickle.mp3").respond_with_response(Response(trickle(), mimetype="audio/mpeg"))
    with pytest.raises(ProviderTimeout):
        fetch_asset(Asset.remote(server.url_for("/silent.mp3"), "audio/mpeg", "mp3"), max_bytes=10**7, timeout=0.5)
    with pytest.raises(ProviderTimeout) as caught:
        fetch_asset(Asset.remote(server.url_for("/trickle.mp3"), "audio/mpeg", "mp3"), max_bytes=10**7, timeout=0.7)
    assert caught.value.retryable is True


def test_fetch_asset_refuses_other_schemes_and_reports_a_refused_connection_as_retryable(settings):
    with pytest.raises(ProviderRejected):
        fetch_asset(Asset.remote("file:///etc/passwd", "audio/mpeg", "mp3"), max_bytes=10**6, timeout=1)
    closed = closed_port_url()
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [closed.removeprefix("http://")]
    with pytest.raises(ProviderUnavailable):
        fetch_asset(Asset.remote(closed + "/a.mp3", "audio/mpeg", "mp3"), max_bytes=10**6, timeout=1)
