"""Every write of accounts, one module per subject: `sessions` (login sessions and tokens), `sms` (SMS codes),
`logins` (phone, WeChat and email logins, registration, the WeChat avatar copy), `email_links` (verification and
password-reset mails), `profile`, `staff`. The public functions are re-exported here: callers write
`from accounts import services` and `services.session_start(...)`.

Views, tasks, admin actions and commands all call these functions. Where a refusal must leave a trace (a wrong
SMS code counts a try; a reused refresh token revokes its session), the trace is committed in its own transaction
before the error is raised, so the request's rollback cannot undo it.
"""

from .email_links import (
    email_address_key,
    email_send_allow,
    email_verification_check,
    email_verification_link,
    email_verification_send,
    email_verify,
    password_reset_confirm,
    password_reset_link,
    password_reset_request,
    password_reset_send,
    password_reset_user,
)
from .logins import email_login, email_register, phone_login, wechat_avatar_copy, wechat_login
from .profile import user_bind_phone, user_update_profile
from .sessions import (
    LoginResult,
    TokenBundle,
    session_refresh,
    session_revoke,
    session_start,
    user_sessions_revoke_all,
)
from .sms import phone_normalize, sms_code_consume, sms_code_deliver, sms_code_send
from .staff import user_avatar_verdict, user_disable, user_enable, user_sessions_revoke_by_staff

__all__ = [
    "LoginResult",
    "TokenBundle",
    "email_address_key",
    "email_login",
    "email_register",
    "email_send_allow",
    "email_verification_check",
    "email_verification_link",
    "email_verification_send",
    "email_verify",
    "password_reset_confirm",
    "password_reset_link",
    "password_reset_request",
    "password_reset_send",
    "password_reset_user",
    "phone_login",
    "phone_normalize",
    "session_refresh",
    "session_revoke",
    "session_start",
    "sms_code_consume",
    "sms_code_deliver",
    "sms_code_send",
    "user_avatar_verdict",
    "user_bind_phone",
    "user_disable",
    "user_enable",
    "user_sessions_revoke_all",
    "user_sessions_revoke_by_staff",
    "user_update_profile",
    "wechat_avatar_copy",
    "wechat_login",
]
