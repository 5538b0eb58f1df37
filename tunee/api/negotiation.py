"""DRF's content negotiation with a shortcut for what nearly every request sends.

A request with no `Accept` header, `*/*`, or exactly the first renderer's media type, and no `?format=`, gets the
first renderer with its media type: what `DefaultContentNegotiation` answers for those after parsing the header,
the query string and every renderer's media type on each request. Anything else (a list, parameters, another type,
a format) goes through DRF's negotiation unchanged, 406 included.
"""

from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if renderers and not format_suffix:
            first = renderers[0]
            meta = request.META
            accept = meta.get("HTTP_ACCEPT")  # an empty header is not "*/*" to DRF: nothing is acceptable
            query = meta.get("QUERY_STRING", "")
            override = self.settings.URL_FORMAT_OVERRIDE
            if (accept is None or accept == "*/*" or accept == first.media_type) and (
                not query or not override or override + "=" not in query
            ):
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
