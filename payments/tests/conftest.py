"""Fakes of the providers at the network edge (pytest-httpserver on 127.0.0.1 speaking each protocol), and the
sandbox set up in a temporary VAR_DIR."""

from __future__ import annotations

import importlib
import json
import secrets
import shutil
from urllib.parse import parse_qsl

import pytest
import xmltodict
from django.urls import clear_url_caches
from werkzeug import Response

from payments.providers.alipay import AlipayGateway
from payments.providers.wechatpay import WeChatPayGateway
from payments_sandbox import keys, signing
from payments_sandbox.keys import _rsa_pair

# WeChat's documented signing example uses these ids and key; the fake merchant reuses them.
WX_APP_ID = "wxd930ea5d5a258f4f"
WX_MCH_ID = "10000100"
WX_API_KEY = "192006250b4c09247ec02edce69f6a2d"
ALI_APP_ID = "2021000000000001"
ALI_SELLER_ID = "2088000000000001"


@pytest.fixture(scope="session")
def _sandbox_key_folder(tmp_path_factory):
    """One sandbox installation's key files (wechat.json, alipay.json), generated once per test session by the
    sandbox's own code. Generating the four RSA-2048 keys of alipay.json took most of this suite's time when every
    test made its own; the keys are never changed by a test, so each test gets a copy of these files instead."""
    from django.test import override_settings

    var_dir = tmp_path_factory.mktemp("sandbox-keys")
    with override_settings(VAR_DIR=var_dir):
        keys.wechat_keys(), keys.alipay_keys()
        folder = keys.sandbox_dir()
    keys._cache.clear()
    return folder


@pytest.fixture(autouse=True)
def _payments_settings(settings, tmp_path, _sandbox_key_folder):
    """Every payments test runs without real credentials and with the sandbox's keys under a temporary VAR_DIR
    (a copy of the session's generated key files, see `_sandbox_key_folder`; `fresh_sandbox_keys` for none)."""
    settings.VAR_DIR = tmp_path / "var"
    shutil.copytree(_sandbox_key_folder, settings.VAR_DIR / "payments-sandbox")  # copy2: modes kept (0600)
    settings.PAYMENT_SANDBOX = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    for name in (
        "WECHAT_PAY_MCH_ID",
        "WECHAT_PAY_API_KEY",
        "WECHAT_PAY_CERT_PATH",
        "WECHAT_PAY_KEY_PATH",
        "ALIPAY_APP_ID",
        "ALIPAY_APP_PRIVATE_KEY",
        "ALIPAY_PUBLIC_KEY",
        "ALIPAY_SELLER_ID",
    ):
        setattr(settings, name, "")


@pytest.fixture
def fresh_sandbox_keys(_payments_settings, settings):
    """For the tests of key generation itself: an installation whose sandbox keys do not exist yet."""
    shutil.rmtree(settings.VAR_DIR / "payments-sandbox")
    keys._cache.clear()


def reload_urlconf():
    """Rebuild the URLconf from the current settings (the sandbox routes are decided when it is loaded)."""
    import payments_sandbox.urls
    import tunee.urls

    importlib.reload(payments_sandbox.urls)
    importlib.reload(tunee.urls)
    clear_url_caches()


@pytest.fixture
def fresh_urls():
    """Lets a test reload the URLconf after changing settings; puts the original routes back afterwards (the
    settings fixture is restored only after this teardown, so reloading again here would keep the test's)."""
    import payments_sandbox.urls
    import tunee.urls

    saved = payments_sandbox.urls.urlpatterns, tunee.urls.urlpatterns
    yield reload_urlconf
    payments_sandbox.urls.urlpatterns, tunee.urls.urlpatterns = saved
    clear_url_caches()


# --- WeChat Pay ---------------------------------------------------------------------------------------------------


def wechat_answer(fields: dict, api_key: str = WX_API_KEY, *, sign: bool = True) -> str:
    answer = {"return_code": "SUCCESS", "return_msg": "OK", "appid": WX_APP_ID, "mch_id": WX_MCH_ID, **fields}
    answer["nonce_str"] = secrets.token_hex(8)
    if sign:
        answer["sign"] = signing.wechat_sign(answer, api_key)
    return signing.wechat_xml(answer)


class FakeWeChatPay:
    """api.mch.weixin.qq.com on 127.0.0.1: checks each request's MD5 signature, answers signed XML."""

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.requests: list[tuple[str, dict]] = []

    def on(self, endpoint: str, fields=None, *, status: int = 200, raw: str | None = None, api_key: str = WX_API_KEY):
        def handle(request):
            params = dict(xmltodict.parse(request.data)["xml"])
            self.requests.append((endpoint, params))
            if not signing.wechat_sign_valid(params, WX_API_KEY):
                return Response(signing.wechat_xml({"return_code": "FAIL", "return_msg": "签名错误"}), status=200)
            if raw is not None:
                return Response(raw, status=status, content_type="text/xml")
            answer = fields(params) if callable(fields) else (fields or {})
            return Response(wechat_answer(answer, api_key), status=status, content_type="text/xml")

        self.httpserver.expect_request(f"/{endpoint}", method="POST").respond_with_handler(handle)


@pytest.fixture
def fake_wechat(httpserver):
    return FakeWeChatPay(httpserver)


@pytest.fixture
def wechat(httpserver):
    """The real client, configured as with real credentials, pointed at the fake server."""
    return WeChatPayGateway(
        app_id=WX_APP_ID, mch_id=WX_MCH_ID, api_key=WX_API_KEY, api_base=httpserver.url_for("/"), timeout=2
    )


# --- Alipay -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def alipay_pairs():
    """(app private, app public), (platform private, platform public): RSA-2048, made once per test session."""
    return _rsa_pair(), _rsa_pair()


class FakeAlipay:
    """openapi.alipay.com/gateway.do on 127.0.0.1: checks the request's RSA2 signature with the app public key,
    answers `{"<method>_response": {...}, "sign"}` signed with the platform private key."""

    def __init__(self, httpserver, pairs):
        self.httpserver = httpserver
        (self.app_private, self.app_public), (self.platform_private, self.platform_public) = pairs
        self.requests: list[dict] = []
        self.answers: dict[str, object] = {}
        httpserver.expect_request("/gateway.do").respond_with_handler(self._handle)

    def on(self, method: str, content=None, *, status: int = 200, raw: str | None = None, sign_with: str = ""):
        self.answers[method] = (content, status, raw, sign_with)

    def _handle(self, request):
        params = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        self.requests.append(params)
        sign = params.pop("sign", "")
        if not signing.rsa2_verify(self.app_public, signing.alipay_sign_content(params, ("sign",)), sign):
            body = {
                "error_response": {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
            }
            return Response(json.dumps(body), content_type="application/json")
        method = params["method"]
        content, status, raw, sign_with = self.answers[method]
        if raw is not None:
            return Response(raw, status=status, content_type="application/json")
        content = content(json.loads(params["biz_content"])) if callable(content) else content
        inner = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        signature = signing.rsa2_sign(sign_with or self.platform_private, inner)
        body = f'{{"{method.replace(".", "_")}_response":{inner},"sign":"{signature}"}}'
        return Response(body, status=status, content_type="application/json; charset=utf-8")

    def notification(self, **overrides) -> dict:
        """An asynchronous notification as Alipay posts it, signed with the platform private key."""
        fields = {
            "notify_time": "2024-01-01 12:05:00",
            "notify_type": "trade_status_sync",
            "notify_id": "ac05099524730693a8b330c5ecf72da9786",
            "charset": "utf-8",
            "version": "1.0",
            "app_id": ALI_APP_ID,
            "seller_id": ALI_SELLER_ID,
            "trade_no": "2024010122001400001234567890",
            "out_trade_no": "TN2024010112001234",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "19.90",
            "receipt_amount": "19.90",
            "subject": "月度会员",
            "gmt_create": "2024-01-01 12:00:00",
            "gmt_payment": "2024-01-01 12:05:00",
            "fund_bill_list": '[{"amount":"19.90","fundChannel":"ALIPAYACCOUNT"}]',
        }
        fields.update(overrides)
        fields["sign"] = signing.rsa2_sign(
            self.platform_private, signing.alipay_sign_content(fields, ("sign", "sign_type"))
        )
        fields["sign_type"] = "RSA2"
        return fields


@pytest.fixture
def fake_alipay(httpserver, alipay_pairs):
    return FakeAlipay(httpserver, alipay_pairs)


@pytest.fixture
def alipay(httpserver, alipay_pairs):
    (app_private, _), (_, platform_public) = alipay_pairs
    return AlipayGateway(
        app_id=ALI_APP_ID,
        app_private_key=app_private,
        alipay_public_key=platform_public,
        gateway=httpserver.url_for("/gateway.do"),
        timeout=2,
        seller_id=ALI_SELLER_ID,
    )
