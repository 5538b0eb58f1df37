"""Bilingual messages without a gettext build step.

The contract's messages are Simplified Chinese by default and English when the request prefers it. Each message
is written once as a (Chinese, English) pair; `str()` picks the active language (set by LocaleMiddleware from
`Accept-Language`, or by the authentication layer from the user's `settings.language`).
"""

from django.utils import translation


def is_english() -> bool:
    return (translation.get_language() or "").lower().startswith("en")


class T:
    """A message in both languages, resolved when rendered: `T("验证码已发送", "Code sent")`."""

    __slots__ = ("en", "zh")

    def __init__(self, zh: str, en: str):
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return self.en if is_english() else self.zh

    def __repr__(self) -> str:
        return f"T({self.zh!r}, {self.en!r})"

    def format(self, **kwargs) -> str:
        return str(self).format(**kwargs)
