"""`serving.parse_request` parses with orjson and falls back to the stdlib's json on any body orjson refuses.
These properties check that the fast path changes no answer: for any body, the result (the array and
`single`, bit for bit) or the refusal (status and message) is the one the stdlib path alone gives.
The integers at orjson's 64-bit edges (where it turns to floats and the stdlib stays exact) are drawn on
purpose and also run as fixed examples: hypothesis seldom picks them from a 141-bit range."""
import json

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from impl.l8_production import serving

MAX_BATCH = 4


def _stdlib_only(body: bytes, max_batch: int = MAX_BATCH):
    return serving._to_array(serving._parse_stdlib(body), body, max_batch)


def _outcome(parse, body: bytes):
    try:
        array, single = parse(body)
    except serving.RequestError as exc:
        return ("refused", exc.status, str(exc))
    return ("parsed", array.dtype.str, array.shape, array.tobytes(), single)


def _assert_same(body: bytes):
    fast = _outcome(lambda b: serving.parse_request(b, max_batch=MAX_BATCH), body)
    assert fast == _outcome(_stdlib_only, body), body[:200]


# Just inside and just outside orjson's integers: [-2**63, 2**64 - 1].
_EDGE_INTEGERS = [-(1 << 63), -(1 << 63) - 1, (1 << 64) - 1, 1 << 64, 1 << 70, -(1 << 70), 10 ** 30]
_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(1 << 70), max_value=1 << 70),
                     st.floats(0, 1), st.sampled_from([0, 1, 0.0, 1.0, -0.0, 1e-300, 5e-324]),
                     st.sampled_from(_EDGE_INTEGERS))
_values = st.recursive(st.one_of(st.none(), st.booleans(), _numbers, st.text(max_size=5)),
                       lambda inner: st.one_of(st.lists(inner, max_size=4),
                                               st.dictionaries(st.sampled_from(["inputs", "dtype", "x"]), inner, max_size=3)),
                       max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(value=_values, ensure_ascii=st.booleans())
@example(value=[1 << 64], ensure_ascii=True)
@example(value=[[[0.5, -(1 << 63) - 1]]], ensure_ascii=True)
@example(value=[float("nan")], ensure_ascii=True)
def test_any_json_value_gets_the_stdlib_answer(value, ensure_ascii):
    _assert_same(json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass"))
    _assert_same(json.dumps({"inputs": value}, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass"))


# How a client may spell a pixel: shortest repr, exponents, integers, a trailing zero run.
_spellings = st.one_of(st.floats(0, 1).map(repr), st.floats(0, 1).map(lambda v: f"{v:.17e}"),
                       st.floats(0, 1).map(lambda v: f"{v:.9g}"), st.sampled_from(["0", "1", "1E0", "0e5", "-0.0", "1.00000"]),
                       st.sampled_from(_EDGE_INTEGERS).map(str))


@settings(max_examples=100, deadline=None)
@given(spellings=st.lists(st.tuples(st.integers(0, 28 * 28 - 1), _spellings), max_size=8), batch=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
@example(spellings=[(3, str(1 << 64))], batch=False, encoding="utf-8")
@example(spellings=[(5, str(-(1 << 63) - 1))], batch=True, encoding="utf-8")
def test_images_parse_to_the_same_bits(spellings, batch, encoding):
    tokens = ["0.5"] * (28 * 28)
    for index, spelling in spellings:
        tokens[index] = spelling
    rows = ",".join("[" + ",".join(tokens[r * 28:(r + 1) * 28]) + "]" for r in range(28))
    image = f"[[{rows}]]"
    body = f'{{"inputs": {"[" + image + "]" if batch else image}}}'.encode(encoding)
    _assert_same(body)
    if encoding == "utf-8" and all(spelling not in map(str, _EDGE_INTEGERS) for _, spelling in spellings):
        array, single = serving.parse_request(body)
        assert single is not batch and array.shape == (1, 1, 28, 28) and array.dtype == np.float32


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=64), prefix=st.sampled_from([b"", b'{"inputs": ', b'{"inputs": [[[', b"[" * 1100]))
def test_arbitrary_bytes_get_the_stdlib_answer(raw, prefix):
    _assert_same(prefix + raw)
