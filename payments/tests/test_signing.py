"""Signing rules against WeChat's documented worked example, and the money conversions."""

import pytest
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from payments.providers.base import fen_to_yuan_str, yuan_str_to_fen
from payments_sandbox import signing

# https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3 (安全规范, 签名算法 worked example)
DOC_PARAMS = {
    "appid": "wxd930ea5d5a258f4f",
    "mch_id": "10000100",
    "device_info": "1000",
    "body": "test",
    "nonce_str": "ibuaiVcKdpRxkhJA",
}
DOC_KEY = "192006250b4c09247ec02edce69f6a2d"
DOC_MD5 = "9A0A8659F005D6984697E2CA0A9CF3B7"
DOC_HMAC_SHA256 = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"


def test_wechatpy_md5_signature_matches_wechats_worked_example():
    assert calculate_signature(DOC_PARAMS, DOC_KEY) == DOC_MD5


def test_wechatpy_hmac_sha256_signature_matches_wechats_worked_example():
    assert calculate_signature_hmac(DOC_PARAMS, DOC_KEY) == DOC_HMAC_SHA256


def test_sandbox_signer_matches_wechats_worked_example():
    assert signing.wechat_sign(DOC_PARAMS, DOC_KEY) == DOC_MD5
    assert signing.wechat_sign(DOC_PARAMS, DOC_KEY, "HMAC-SHA256") == DOC_HMAC_SHA256


def test_sandbox_signature_check_ignores_empty_values_and_refuses_changes():
    params = {**DOC_PARAMS, "attach": "", "sign": DOC_MD5}
    assert signing.wechat_sign_valid(params, DOC_KEY)
    assert not signing.wechat_sign_valid({**params, "body": "test2"}, DOC_KEY)
    assert not signing.wechat_sign_valid({**params, "sign_type": "SHA1"}, DOC_KEY)


@pytest.mark.parametrize(("fen", "yuan"), [(1, "0.01"), (10, "0.10"), (1990, "19.90"), (19900, "199.00"), (0, "0.00")])
def test_fen_to_yuan_is_exact(fen, yuan):
    assert fen_to_yuan_str(fen) == yuan
    assert yuan_str_to_fen(yuan) == fen


def test_yuan_to_fen_refuses_what_is_not_an_amount():
    assert yuan_str_to_fen("19.9") == 1990  # int(19.9 * 100) would be 1989
    for bad in ("19.901", "abc", "", "-1.00", "NaN", "Infinity", "1e400"):
        assert yuan_str_to_fen(bad) is None


def test_fen_to_yuan_refuses_floats_and_negatives():
    with pytest.raises(ValueError):
        fen_to_yuan_str(19.9)
    with pytest.raises(ValueError):
        fen_to_yuan_str(-1)
