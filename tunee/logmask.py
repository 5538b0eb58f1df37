"""A logging filter that masks mainland mobile numbers (11 digits from 1[3-9]) in every record: 138****8000."""

import logging
import re

PHONE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    return PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)


class PhoneMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record for logging to report
            return True
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
