"""Every error code of the contract (API.md §2), defined once: code, HTTP status, default message (zh, en).

Services raise `ApiError(Code.QUOTA_EXHAUSTED, details={...})`; the exception handler in `handlers.py` turns it,
DRF's exceptions and Django's into the envelope. Nobody builds an error body by hand.
"""

from enum import Enum

from .i18n import T


class Code(Enum):
    # name = (code, HTTP status, Chinese, English)
    OK = (0, 200, "操作成功", "Success")
    BUSINESS = (1, 400, "请求无法完成", "The request could not be completed")
    VALIDATION = (400, 400, "请求参数错误", "Invalid parameters")
    UNAUTHENTICATED = (401, 401, "未登录或登录已失效", "Authentication required")
    FORBIDDEN = (403, 403, "没有权限", "Permission denied")
    NOT_FOUND = (404, 404, "资源不存在", "Not found")
    METHOD_NOT_ALLOWED = (405, 405, "不支持的请求方法", "Method not allowed")
    THROTTLED = (429, 429, "请求过于频繁，请稍后再试", "Too many requests, please try again later")
    INTERNAL = (500, 500, "服务器内部错误", "Internal server error")
    MODEL_VALIDATION = (1001, 400, "数据验证失败", "Data validation failed")
    INVALID_ID = (1002, 400, "无效的 ID 格式", "Invalid id format")
    TOKEN_INVALID = (2001, 401, "令牌无效", "Invalid token")
    TOKEN_EXPIRED = (2002, 401, "令牌已过期", "Token expired")
    DUPLICATE = (11000, 409, "数据重复", "Already exists")
    USER_NOT_FOUND = (20000, 404, "用户不存在", "User not found")
    WRONG_CREDENTIALS = (20001, 401, "邮箱或密码错误", "Wrong email or password")
    EMAIL_NOT_VERIFIED = (20002, 403, "邮箱未验证", "Email not verified")
    ACCOUNT_DISABLED = (20003, 403, "账号已禁用", "Account disabled")
    VERIFICATION_CODE_INVALID = (20004, 400, "验证码错误或已失效", "Verification code wrong, expired or used up")
    THIRD_PARTY_LOGIN_FAILED = (20005, 400, "第三方登录失败", "Third-party login failed")
    WORK_NOT_FOUND = (30000, 404, "作品不存在", "Work not found")
    WORK_CREATE_FAILED = (30001, 400, "作品创建失败", "Work creation failed")
    WORK_UPDATE_FAILED = (30002, 400, "作品更新失败", "Work update failed")
    # Reserved: never raised. A work's files leave the storage after its deletion commits (works.services.work_delete).
    WORK_DELETE_FAILED = (30003, 400, "作品删除失败", "Work deletion failed")
    INSUFFICIENT_POINTS = (40000, 402, "积分不足", "Insufficient points")
    PURCHASE_FAILED = (40001, 400, "购买失败", "Purchase failed")
    # Reserved: 40002 and 40003 are in the contract's table but never raised. A charge that cannot be paid is
    # 40004 (quota and points) or 40000 (points alone): the deduction is one conditional UPDATE, so it cannot
    # half-fail; a refund happens in the transaction of the failure it refunds (at most once), so a refund that
    # cannot be made rolls that failure back and surfaces as 500.
    POINTS_DEDUCTION_FAILED = (40002, 409, "积分扣除失败", "Points deduction failed")
    REFUND_FAILED = (40003, 500, "积分或配额返还失败", "Points or quota refund failed")
    QUOTA_EXHAUSTED = (
        40004,
        402,
        "今日生成次数已用完，积分也不足",
        "Daily generation quota used up and not enough points",
    )
    ORDER_STATE_CONFLICT = (
        40005,
        409,
        "订单当前状态不允许此操作",
        "The order cannot be paid or changed in its current state",
    )
    UPSTREAM_FAILED = (50000, 502, "上游服务暂时不可用", "An upstream provider failed or is unreachable")
    CONTENT_REFUSED = (
        60001,
        422,
        "内容未通过安全审核，请修改后重试",
        "The content was refused by screening; please change it",
    )

    def __init__(self, code: int, status: int, zh: str, en: str):
        self.code = code
        self.status = status
        self.default_message = T(zh, en)


class ApiError(Exception):
    """The one exception our code raises for an answer that is not success.

    `message` overrides the code's default message (a `T` pair or a plain string); `details` is any JSON-able
    object that helps the client (per-field messages for validation, remaining quota, …); `headers` are added to
    the response (e.g. `Retry-After`).
    """

    def __init__(self, code: Code, message=None, *, details=None, headers: dict | None = None):
        self.code = code
        self.message = message if message is not None else code.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{code.code}: {self.message}")

    @property
    def status(self) -> int:
        return self.code.status
