"""Masking what must not reach a log line: mainland mobile numbers (138****8000), email addresses (d***@tunee.app),
tokens (JWT-looking strings, `Bearer …`, the values of `access`, `refresh`, `password`, `code`, `token`, `secret`…
keys, in `key=value`, `key: value` and JSON form) and SMS codes (six digits after 验证码 / "code").

`SecretMaskFilter` (on the log handler, settings.LOGGING) rewrites the message and the string values a caller passed
in `extra=` of every record; the formatters below mask tracebacks. They run only on records that are written.
"""

import logging
import re

import pythonjsonlogger.json

PHONE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s\"',;]+")
# `password=x`, `"accessToken": "x"`, `code: 123456`, `refresh_token=x&…` — the key (any case, snake or camel), then
# the value up to a quote, a space, `,`, `;`, `&` or a brace. `\\?` lets it through JSON written inside a string.
SECRET_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9])("
    r"(?:access|refresh|id)(?:_?token)?|token|password|passwd|new_?password|old_?password|secret|"
    r"(?:sms_?|verification_?)?code|api_?key|app_?secret|authorization|session_?key"
    r")(\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\s\"'\\,;&}]+)"
)
SMS_CODE = re.compile(r"(?i)(验证码|\bcode\b)(\D{0,12}?)(?<!\d)\d{6}(?!\d)")
MASK = "***"


def mask_phones(text: str) -> str:
    return PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)


def mask(text: str) -> str:
    """Every rule of this module applied to `text`."""
    text = JWT.sub("eyJ" + MASK, text)
    text = BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = SMS_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", text)
    return mask_phones(text)


# Attributes every LogRecord has: not a caller's `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class SecretMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record for logging to report
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, mask(value))
        return True


# Tracebacks are formatted by the formatter, after the filters: these two mask them as they do.


class PlainFormatter(logging.Formatter):
    def formatException(self, ei) -> str:
        return mask(super().formatException(ei))


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    def formatException(self, ei) -> str:
        return mask(super().formatException(ei))


# The filter's earlier name (phones only): kept so that existing configurations and tests still find it.
PhoneMaskFilter = SecretMaskFilter
