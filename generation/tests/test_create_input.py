"""The create view's shortcut for the usual body (`apis._create_input_fast`) answers only what
`GenerationCreateInput` answers: the same validated data, or nothing (and then the serializer decides)."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generation import apis
from generation.serializers import GenerationCreateInput

TEXT = st.one_of(
    st.text(max_size=600),
    st.sampled_from(["", "  ", " 海边 ", "a\x00b", "\ud800", "x" * 500, "x" * 501, " " + "y" * 500 + " "]),
    st.integers(),
    st.none(),
    st.booleans(),
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "prompt": TEXT,
        "style": TEXT,
        "mood": TEXT,
        "device": TEXT,
        "duration": st.one_of(st.integers(min_value=-5, max_value=400), st.none(), st.booleans(), st.text(max_size=3)),
        "options": st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    },
)


def _serializer_answer(body):
    serializer = GenerationCreateInput(data=body)
    return dict(serializer.validated_data) if serializer.is_valid() else None


@settings(max_examples=400, deadline=None)
@given(BODY)
@example({"prompt": " 海边 ", "style": "  "})
@example({"prompt": "a\x00b"})
@example({"prompt": "\ud800"})
@example({"prompt": "x" * 501})
@example({"prompt": " " + "y" * 500 + " "})
@example({"prompt": "   "})
@example({"prompt": "p", "duration": True})
@example({"prompt": "p", "duration": "30"})
@example({"prompt": "p", "options": {}})
@example({"style": "pop"})
def test_the_shortcut_gives_the_serializers_data_or_leaves_the_body_to_it(body):
    fast = apis._create_input_fast(body)

    if fast is not None:
        assert fast == _serializer_answer(body)


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "a song about the sea"},
        {"prompt": " 雨后的城市 ", "style": "pop", "mood": "calm", "duration": 30, "device": "ios"},
        {"prompt": "x" * 500, "duration": apis._DURATION.max_value},
    ],
)
def test_the_usual_bodies_take_the_shortcut(body):
    assert apis._FAST_INPUT
    assert apis._create_input_fast(body) == _serializer_answer(body)
