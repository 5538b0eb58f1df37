"""Request body parsers: the camel-case ones, with JSON held to the standard.

Python's `json.loads` accepts `NaN`, `Infinity` and `-Infinity`, which are not JSON (RFC 8259) and which a
serializer would then take as the float or the string "inf". Such a body is the same 400 as any malformed JSON.
"""

import json

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class StrictCamelCaseJSONParser(CamelCaseJSONParser):
    """`CamelCaseJSONParser` that refuses the non-standard constants NaN, Infinity and -Infinity."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding), parse_constant=_refuse_constant)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from None
        return underscoreize(data, **self.json_underscoreize)
