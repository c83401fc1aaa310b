"""pipelines.formats: one conversation in every format, each format's quirks, and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.formats import FORMATS, Limits, detect_format, parse
from pipelines.formats.errors import CODES
from pipelines.types import CallMeta, Conversation, ParseError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
FIXTURE_FORMATS = {
    "native.json": "native",
    "zoom.vtt": "vtt",
    "teams.vtt": "vtt",
    "transcript.srt": "srt",
    "colon.txt": "text",
    "bracket.txt": "text",
    "paren.txt": "text",
    "notetaker.txt": "text",
    "gong.json": "gong",
    "chorus.json": "chorus",
    "avoma.json": "avoma",
    "fireflies.json": "fireflies",
    "clari.json": "clari",
    "stt.json": "stt",
    "fathom.txt": "fathom",
    "zoom.txt": "zoom",
    "meet.txt": "meet",
    "teams.txt": "teams",
    "otter.txt": "otter",
    "tldv.txt": "tldv",
}
# What each fixture's source carries: speakers, text, start and end times.
FULL = ["zoom.vtt", "teams.vtt", "transcript.srt", "gong.json", "chorus.json", "avoma.json",
        "fireflies.json", "clari.json"]  # fmt: skip
START_ONLY = ["bracket.txt", "paren.txt", "notetaker.txt", "fathom.txt", "zoom.txt", "teams.txt",
              "otter.txt", "tldv.txt"]  # fmt: skip
SPEAKER_AND_TEXT = ["colon.txt", "meet.txt"]

DANA, MARCUS, PRIYA = "Dana Whitfield", "Marcus Lee", "Priya Raman"
SPEAKER_ORDER = [DANA, MARCUS, PRIYA, DANA, MARCUS, DANA, PRIYA, DANA, MARCUS, DANA, PRIYA, DANA]
STARTS = [0, 7000, 16000, 25000, 34000, 42000, 50000, 62000, 71000, 78000, 87000, 94000]
ENDS = [6480, 15250, 24900, 33120, 41600, 49750, 61300, 70840, 77500, 86200, 93400, 101750]
FIRST_TEXT = "Thanks for making time today, Marcus and Priya. How is the quarter going so far?"
LAST_TEXT = (
    "Yes, German is supported. Next steps: a pilot with two teams, and we review the results "
    "in three weeks."
)

WORDS = "Dana: We can start the pilot next week."


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(name: str, **kwargs: Any) -> Conversation:
    return parse(fixture(name), **kwargs)


def error_of(body: bytes | str, **kwargs: Any) -> ParseError:
    data = body.encode("utf-8") if isinstance(body, str) else body
    with pytest.raises(ParseError) as info:
        parse(data, **kwargs)
    return info.value


def native_with(**changes: Any) -> bytes:
    doc = json.loads(fixture("native.json"))
    doc.update(changes)
    return json.dumps(doc).encode()


def cues(turns: Conversation) -> list[tuple[str, str, int | None, int | None]]:
    return [(t.speaker, t.text, t.start_ms, t.end_ms) for t in turns.turns]


# --- the same conversation in every format ------------------------------------------------


def test_native_fixture_is_the_expected_conversation() -> None:
    conv = parsed("native.json")
    assert [t.speaker for t in conv.turns] == SPEAKER_ORDER
    assert [t.start_ms for t in conv.turns] == STARTS
    assert [t.end_ms for t in conv.turns] == ENDS
    assert conv.turns[0].text == FIRST_TEXT
    assert conv.turns[-1].text == LAST_TEXT
    assert "Q&A" in conv.turns[6].text


@pytest.mark.parametrize("name", FULL)
def test_every_full_format_yields_the_same_turns(name: str) -> None:
    assert cues(parsed(name)) == cues(parsed("native.json"))


def test_stt_matches_on_text_and_times_with_consistent_anonymous_speakers() -> None:
    stt, native = parsed("stt.json").turns, parsed("native.json").turns
    assert [(t.text, t.start_ms, t.end_ms) for t in stt] == [
        (t.text, t.start_ms, t.end_ms) for t in native
    ]
    mapping = {(s.speaker, n.speaker) for s, n in zip(stt, native, strict=True)}
    assert mapping == {("Speaker A", DANA), ("Speaker B", MARCUS), ("Speaker C", PRIYA)}


@pytest.mark.parametrize("name", START_ONLY)
def test_timed_text_formats_match_on_speaker_text_and_start(name: str) -> None:
    conv = parsed(name)
    expected = [(s, t, start) for s, t, start, _ in cues(parsed("native.json"))]
    assert [(t.speaker, t.text, t.start_ms) for t in conv.turns] == expected
    assert all(t.end_ms is None for t in conv.turns)


@pytest.mark.parametrize("name", SPEAKER_AND_TEXT)
def test_untimed_text_formats_match_on_speaker_and_text(name: str) -> None:
    expected = [(s, t) for s, t, _, _ in cues(parsed("native.json"))]
    assert [(t.speaker, t.text) for t in parsed(name).turns] == expected


EXPORTS = ["fathom.txt", "zoom.txt", "meet.txt", "teams.txt", "otter.txt", "tldv.txt"]


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_keep_headings_footers_and_action_items_out_of_the_turns(name: str) -> None:
    conv = parsed(name)
    assert {s.name for s in conv.speakers} == {DANA, MARCUS, PRIYA}
    text = " ".join(t.text for t in conv.turns)
    for noise in ("ACTION ITEM", "VIEW RECORDING", "otter.ai", "transcription", "Meeting ended",
                  "00:01:00", "tl;dv", "WATCH"):
        assert noise not in text


@pytest.mark.parametrize("name", EXPORTS)
def test_each_export_can_be_forced_by_name(name: str) -> None:
    fmt = FIXTURE_FORMATS[name]
    assert parsed(name, fmt=fmt).source_format == fmt
    assert [t.text for t in parsed(name, fmt=fmt).turns] == [t.text for t in parsed(name).turns]


def test_plain_bracket_lines_stay_text_until_tldv_is_named() -> None:
    body = fixture("tldv.txt").replace(b"Recorded with tl;dv: https://tldv.io/app/meetings/6650f1c2a",
                                       b"")
    assert detect_format(body, None) == "text"
    assert parse(body, fmt="tldv").source_format == "tldv"


def test_zoom_wall_clock_becomes_offsets_from_the_first_turn() -> None:
    assert [t.start_ms for t in parsed("zoom.txt").turns] == STARTS


@pytest.mark.parametrize(("name", "fmt"), FIXTURE_FORMATS.items())
def test_fixture_format_is_detected_from_its_shape(name: str, fmt: str) -> None:
    assert detect_format(fixture(name), None) == fmt
    assert parsed(name).source_format == fmt


@pytest.mark.parametrize(
    ("name", "content_type", "fmt"),
    [
        ("zoom.vtt", "text/vtt; charset=utf-8", "vtt"),
        ("transcript.srt", "application/x-subrip", "srt"),
        ("colon.txt", "text/plain;charset=UTF-8", "text"),
        ("teams.vtt", "text/plain", "vtt"),
        ("gong.json", "application/json; charset=utf-8", "gong"),
        ("chorus.json", "text/plain", "chorus"),
        ("bracket.txt", "application/octet-stream", "text"),
    ],
)
def test_content_type_then_shape_decides(name: str, content_type: str, fmt: str) -> None:
    assert detect_format(fixture(name), content_type) == fmt


@pytest.mark.parametrize("name", ["gong.json", "chorus.json", "avoma.json", "clari.json"])
def test_vendor_roles_and_emails_are_carried(name: str) -> None:
    speakers = {s.name: s for s in parsed(name).speakers}
    assert speakers[DANA].role == "rep"
    assert speakers[PRIYA].role == "customer"
    assert speakers[MARCUS].email == "marcus.lee@northwind.com"


# --- native ---------------------------------------------------------------------------------


def test_native_metadata_and_participants() -> None:
    conv = parsed("native.json")
    assert conv.meta.external_id == "northwind-discovery-2026-03-04"
    assert conv.meta.started_at == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert conv.meta.outcome == "open"
    assert conv.meta.tags == ("discovery", "emea")
    assert [(s.name, s.role) for s in conv.speakers] == [
        (DANA, "rep"),
        (MARCUS, "customer"),
        (PRIYA, "customer"),
    ]


def test_caller_meta_fills_and_overrides_payload_meta() -> None:
    meta = CallMeta(title="Renamed", deal_stage="pilot", outcome="won")
    conv = parsed("native.json", meta=meta)
    assert (conv.meta.title, conv.meta.deal_stage, conv.meta.outcome) == ("Renamed", "pilot", "won")
    assert conv.meta.external_id == "northwind-discovery-2026-03-04"  # caller left it unset
    assert conv.meta.tags == ("discovery", "emea")
    assert parsed("zoom.vtt", meta=CallMeta(external_id="zoom-1")).meta.external_id == "zoom-1"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": 1}, "outcome"),
        ({"external_id": 7}, "external_id"),
        ({"external_id": " "}, "external_id"),
        ({"started_at": "last tuesday"}, "started_at"),
        ({"tags": ["a", 2]}, "tags[1]"),
        ({"tags": "a,b"}, "tags"),
        ({"participants": [{"name": "X", "role": "boss"}]}, "participants[0].role"),
        ({"participants": [{"email": "x@y.z"}]}, "participants[0].name"),
        ({"utterances": {"speaker": "X"}}, "utterances"),
        ({"utterances": [{"speaker": "X", "text": 3}]}, "utterances[0].text"),
        (
            {"utterances": [{"speaker": "X", "text": "hi", "start_ms": "0"}]},
            "utterances[0].start_ms",
        ),
        ({"utterances": [{"speaker": "X", "text": "hi", "end_ms": -5}]}, "utterances[0].end_ms"),
        ({"utterances": [{"speaker": "X", "text": "hi", "end_ms": True}]}, "utterances[0].end_ms"),
        ({"utterances": [{"speaker": "X", "text": "hi", "end_ms": 1e300}]}, "utterances[0].end_ms"),
        ({"utterances": [{"text": "hi"}]}, "utterances[0].speaker"),
    ],
)
def test_native_type_errors_name_the_field(changes: dict, field: str) -> None:
    err = error_of(native_with(**changes))
    assert (err.code, err.detail["field"]) == ("invalid_field", field)


def test_native_requires_external_id() -> None:
    doc = json.loads(fixture("native.json"))
    del doc["external_id"]
    err = error_of(json.dumps(doc), fmt="native")
    assert (err.code, err.detail) == ("invalid_field", {"field": "external_id"})


# --- WebVTT ---------------------------------------------------------------------------------


def test_vtt_stray_lines_short_timings_settings_notes_and_tags() -> None:
    body = (
        "\ufeffexported by MeetingBot v2\n\nWEBVTT - call\nKind: captions\n\n"
        "NOTE this block --> is ignored\nand so is this\n\n"
        "REGION\nid:fred width:40%\n\n"
        "intro\n01:02.500 --> 01:05.000 align:start line:0\n"
        "<v.loud Ana de la Cruz><c.yellow>Hello</c> <i>there</i> &amp; welcome</v>\n\n"
        "00:01:05.000 --> 00:01:07.250\n<v Ana de la Cruz>Second cue, <00:01:06.000>same speaker.\n"
    )
    conv = parse(body.encode())
    assert conv.source_format == "vtt"
    assert cues(conv) == [
        ("Ana de la Cruz", "Hello there & welcome", 62500, 65000),
        ("Ana de la Cruz", "Second cue, same speaker.", 65000, 67250),
    ]


def test_vtt_cue_without_speaker_is_unknown_and_zoom_prefix_is_split() -> None:
    body = (
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nno speaker here\n\n"
        "2\n00:00:02.000 --> 00:00:03.000\nLee: first line\nsecond line\n"
    )
    assert cues(parse(body.encode(), content_type="text/vtt")) == [
        ("Unknown", "no speaker here", 1000, 2000),
        ("Lee", "first line second line", 2000, 3000),
    ]


def test_vtt_truncated_in_a_timing_line() -> None:
    body = fixture("zoom.vtt") + b"\n13\n00:01:45.000 --> 00:01"
    err = error_of(body)
    assert err.code == "truncated"
    assert err.detail["line"] == body.decode().count("\n") + 1


def test_vtt_bad_timing_mid_file_names_the_line() -> None:
    body = "WEBVTT\n\n00:00:01.000 --> soon\nA: hi\n\n00:00:02.000 --> 00:00:03.000\nB: yo\n"
    err = error_of(body)
    assert (err.code, err.detail) == ("invalid_field", {"line": 3})


# --- SRT ------------------------------------------------------------------------------------


def test_srt_without_prefix_missing_blank_lines_and_formatting_tags() -> None:
    body = (
        "1\n00:00:01,000 --> 00:00:02,500\n<i>Music plays</i>\n"
        "2\n00:00:03,000 --> 00:00:04,000 X1:10 X2:20\n{\\an8}Ben: <b>Ready</b> when you are.\n"
    )
    assert cues(parse(body.encode())) == [
        ("Unknown", "Music plays", 1000, 2500),
        ("Ben", "Ready when you are.", 3000, 4000),
    ]


# --- plain text -----------------------------------------------------------------------------


def test_text_false_speakers_stay_in_the_turn() -> None:
    body = (
        "Weekly sync\n"
        "Dana: We reviewed the numbers.\n"
        "Note: the pilot starts Monday.\n"
        "https://example.com/deck\n"
        "The thing we keep hearing from every single customer: price.\n"
        "bottom line: it is too expensive\n"
        "Marcus: Agreed.\n"
    )
    assert [(t.speaker, t.text) for t in parse(body.encode()).turns] == [
        (
            "Dana",
            (
                "We reviewed the numbers. Note: the pilot starts Monday. https://example.com/deck "
                "The thing we keep hearing from every single customer: price. "
                "bottom line: it is too expensive"
            ),
        ),
        ("Marcus", "Agreed."),
    ]


def test_text_notetaker_hours_and_paragraphs() -> None:
    body = (
        "Speaker 1  1:02:03\nFirst paragraph.\n\nSecond paragraph.\n"
        "Speaker 2  01:02:09\nReply: with a colon.\n"
    )
    assert [(t.speaker, t.text, t.start_ms) for t in parse(body.encode()).turns] == [
        ("Speaker 1", "First paragraph. Second paragraph.", 3723000),
        ("Speaker 2", "Reply: with a colon.", 3729000),
    ]


def test_text_bracket_lines_rule_even_with_colon_lines_inside() -> None:
    body = "[00:00:01] Ann: Hi.\nSummary: short.\nBen: said earlier\n[00:00:05] Ben: Hello.\n"
    assert [(t.speaker, t.text, t.start_ms) for t in parse(body.encode()).turns] == [
        ("Ann", "Hi. Summary: short. Ben: said earlier", 1000),
        ("Ben", "Hello.", 5000),
    ]


def test_text_paren_style_with_short_times() -> None:
    body = "Ann Lee (01:02): Hi there.\nBen (1:10:00): Hello.\n"
    assert [(t.speaker, t.start_ms) for t in parse(body.encode()).turns] == [
        ("Ann Lee", 62000),
        ("Ben", 4200000),
    ]


def test_text_without_any_speaker_has_no_utterances() -> None:
    err = error_of("just some prose.\nno labels at all\n")
    assert (err.code, err.detail) == ("no_utterances", {"field": "body"})


# --- vendor JSON ----------------------------------------------------------------------------


def test_gong_metadata_and_unknown_speaker_ids() -> None:
    doc = json.loads(fixture("gong.json"))
    doc["callTranscripts"][0]["transcript"][1]["speakerId"] = "424242"
    conv = parse(json.dumps(doc).encode())
    assert conv.meta.external_id == "7782342274025937895"
    assert conv.meta.started_at == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert conv.turns[1].speaker == "Speaker 424242"


def test_gong_rejects_several_calls_in_one_body() -> None:
    doc = json.loads(fixture("gong.json"))
    doc["callTranscripts"].append(doc["callTranscripts"][0])
    err = error_of(json.dumps(doc))
    assert (err.code, err.detail) == ("invalid_field", {"field": "callTranscripts"})


def test_fireflies_bare_sentences_merge_by_speaker() -> None:
    body = {
        "sentences": [
            {"text": "One.", "start_time": 0.5, "end_time": 1.25, "speaker_name": "Ann"},
            {"text": "Two.", "start_time": 1.3, "end_time": 2.0, "speaker_name": "Ann"},
            {"text": "Three.", "start_time": 2.1, "end_time": 3.0, "speaker_name": "Ben"},
            {"text": "Four.", "start_time": 3.1, "end_time": 4.0, "speaker_name": "Ann"},
        ]
    }
    assert cues(parse(json.dumps(body).encode())) == [
        ("Ann", "One. Two.", 500, 2000),
        ("Ben", "Three.", 2100, 3000),
        ("Ann", "Four.", 3100, 4000),
    ]


def test_stt_integer_and_named_speakers() -> None:
    body = {"utterances": [{"speaker": 0, "start": 0, "end": 900, "text": "hi"},
                           {"speaker": "Ben", "start": 950, "end": 1200, "text": "yo"}]}  # fmt: skip
    assert [t.speaker for t in parse(json.dumps(body).encode()).turns] == ["Speaker 0", "Ben"]


def test_avoma_timestamps_must_be_a_pair() -> None:
    doc = json.loads(fixture("avoma.json"))
    doc["transcript"][2]["timestamps"] = [1.0]
    err = error_of(json.dumps(doc))
    assert (err.code, err.detail) == ("invalid_field", {"field": "transcript[2].timestamps"})


def test_json_of_no_known_shape_is_unknown_format() -> None:
    err = error_of('{"hello": "world"}', content_type="application/json")
    assert (err.code, err.detail) == ("unknown_format", {"field": "body"})
    assert error_of("[1, 2]").code == "unknown_format"


# --- errors and limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kwargs", "code", "detail"),
    [
        (b"", {}, "empty_body", {"field": "body"}),
        (b"\xef\xbb\xbf \n\t", {}, "empty_body", {"field": "body"}),
        (b"Ann: ok\nBen: \xff\xfe", {}, "not_utf8", {"line": 2, "byte": 13}),
        (b'{\n"utterances": [\n}', {}, "invalid_json", {"line": 3}),
        (b'{"utterances": [{"speaker": "A", "text": "hi"', {}, "truncated", {"line": 1}),
        (b'{"utterances": [{"speaker": "A", "text": "h', {}, "truncated", {"line": 1}),
        (b'{"a": NaN}', {}, "invalid_json", {"field": "body"}),
        (b"[" * 100_000, {"fmt": "stt"}, "invalid_json", {"field": "body"}),
        (b'{"a": ' + b"9" * 5000 + b"}", {}, "invalid_json", {"field": "body"}),
        (b"Ann: hi", {"fmt": "wordperfect"}, "unknown_format", {"field": "fmt"}),
        (b"Ann: hi", {"content_type": "image/png"}, "unknown_format", {"field": "content_type"}),
        (b"Ann: hi", {"fmt": "gong"}, "invalid_json", {"line": 1}),
        (b"{}", {"fmt": "gong"}, "invalid_field", {"field": "callTranscripts"}),
        (b'{"utterances": []}', {"fmt": "stt"}, "no_utterances", {"field": "body"}),
    ],
)
def test_bad_input_gets_a_precise_error(body: bytes, kwargs: dict, code: str, detail: dict) -> None:
    err = error_of(body, **kwargs)
    assert (err.code, err.detail) == (code, detail)


def test_limits() -> None:
    body = fixture("native.json")
    assert error_of(body, limits=Limits(max_bytes=100)).detail == {"field": "body", "limit": 100}
    err = error_of(body, limits=Limits(max_utterances=5))
    assert (err.code, err.detail["field"]) == ("too_many_utterances", "utterances[5].text")
    err = error_of(body, limits=Limits(max_utterance_chars=60))
    assert (err.code, err.detail["field"]) == ("utterance_too_long", "utterances[0].text")
    err = error_of(fixture("zoom.vtt"), limits=Limits(max_utterance_chars=60))
    assert (err.code, err.detail["line"]) == ("utterance_too_long", 4)


def test_text_is_normalised_and_empty_turns_dropped() -> None:
    body = {"utterances": [{"speaker": " A ", "start": 0, "end": 1, "text": "  a \n\t b\x00c "},
                           {"speaker": "B", "start": 1, "end": 2, "text": " \n "}]}  # fmt: skip
    conv = parse(json.dumps(body).encode())
    assert cues(conv) == [("Speaker A", "a b c", 0, 1)]


# --- properties: nothing but ParseError, whatever comes in ----------------------------------

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = Limits(max_bytes=4096, max_utterances=40, max_utterance_chars=400)
ANY_FORMAT = st.sampled_from([None, *FORMATS])
CONTENT_TYPES = st.sampled_from(
    [None, "text/plain", "text/vtt", "application/x-subrip", "application/json", "image/png"]
)


def check(body: bytes, **kwargs: Any) -> None:
    """parse either returns a well-formed Conversation or raises a well-formed ParseError."""
    try:
        conv = parse(body, **kwargs)
    except ParseError as err:
        assert err.code in CODES
        assert isinstance(err.detail, dict)
        assert "line" in err.detail or "field" in err.detail
        return
    assert conv.turns and conv.source_format in FORMATS
    names = {s.name for s in conv.speakers}
    for t in conv.turns:
        assert t.text and t.text == " ".join(t.text.split())
        assert t.speaker in names
        assert all(isinstance(v, int | None) for v in (t.start_ms, t.end_ms))
    limits = kwargs.get("limits", Limits())
    assert len(conv.turns) <= limits.max_utterances
    assert max(len(t.text) for t in conv.turns) <= limits.max_utterance_chars


@FAST
@given(body=st.binary(max_size=600), fmt=ANY_FORMAT, content_type=CONTENT_TYPES)
def test_random_bytes_raise_only_parse_errors(
    body: bytes, fmt: str | None, content_type: str | None
) -> None:
    check(body, fmt=fmt, content_type=content_type, limits=SMALL)


@FAST
@given(text=st.text(max_size=400), fmt=ANY_FORMAT)
def test_random_text_raises_only_parse_errors(text: str, fmt: str | None) -> None:
    check(text.encode("utf-8", "surrogatepass"), fmt=fmt)


LINE_PIECES = st.sampled_from(
    ["WEBVTT", "NOTE", "-->", "00:00:01.000", "00:01,000", " --> ", "<v Ann>", "</v>", "Ann: ",
     "[00:00:01] ", "(00:01)", "  00:01", "1", "\n", "\n\n", "&amp;", "<c>", "Note: ", "x"]
)  # fmt: skip


@FAST
@given(pieces=st.lists(LINE_PIECES, max_size=40), fmt=st.sampled_from([None, "vtt", "srt", "text"]))
def test_cue_like_text_raises_only_parse_errors(pieces: list[str], fmt: str | None) -> None:
    check("".join(pieces).encode(), fmt=fmt)


@FAST
@given(data=st.data(), name=st.sampled_from(sorted(FIXTURE_FORMATS)))
def test_truncated_fixtures_raise_only_parse_errors(data: st.DataObject, name: str) -> None:
    body = fixture(name)
    cut = data.draw(st.integers(0, len(body)), label="cut")
    check(body[:cut])
    check(body[:cut], fmt=FIXTURE_FORMATS[name])


@FAST
@given(data=st.data(), name=st.sampled_from(sorted(FIXTURE_FORMATS)))
def test_byte_mutated_fixtures_raise_only_parse_errors(data: st.DataObject, name: str) -> None:
    body = bytearray(fixture(name))
    for _ in range(data.draw(st.integers(1, 8), label="edits")):
        at = data.draw(st.integers(0, len(body) - 1), label="at")
        op = data.draw(st.sampled_from(["set", "insert", "delete"]), label="op")
        byte = data.draw(st.integers(0, 255), label="byte")
        if op == "set":
            body[at] = byte
        elif op == "insert":
            body.insert(at, byte)
        else:
            del body[at]
    check(bytes(body))
    check(bytes(body), fmt=FIXTURE_FORMATS[name])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in children:
        found += _paths(child, (*path, key))
    return found


@FAST
@given(
    data=st.data(),
    name=st.sampled_from([n for n in sorted(FIXTURE_FORMATS) if n.endswith(".json")]),
)
def test_json_fixtures_with_a_field_replaced_raise_only_parse_errors(
    data: st.DataObject, name: str
) -> None:
    doc = json.loads(fixture(name))
    path = data.draw(st.sampled_from(_paths(doc)[1:]), label="path")
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans(), label="delete") and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES, label="value")
    body = json.dumps(doc).encode()
    check(body)
    check(body, fmt=FIXTURE_FORMATS[name])


# --- refusing what cannot be read -----------------------------------------------------------

NOTES_WITH_HEADINGS = """Weekly sync - Relay x Northwind
VIEW RECORDING - 36 mins (No highlights)

ACTION ITEM: Send the pricing sheet to Dana
We agreed the pilot starts next week and that pricing is sent over by Friday.

ACTION ITEM: Book the security review
Security asked for the SOC 2 report before the pilot starts. Everyone agreed it is the blocker.

Summary: the champion thinks the budget is approved in January.
"""
MONOLOGUE = "Dana: " + "\n\n".join(
    "We went over the plan again and agreed on the pilot scope, the teams, and the dates." * 3
    for _ in range(6))


@pytest.mark.parametrize(("body", "reason"), [
    (NOTES_WITH_HEADINGS, "is a heading, not a speaker"),
    (MONOLOGUE, "one speaker ('Dana')"),
    ("Notes from the call, not a transcript. " * 200 + "\n\nAnn: Hello there.\nBen: Hi.",
     "of the text is in a turn"),
    ("Ann: Hello there.\nBen: Hi.\n" + "Notes from the call, not a transcript. " * 200,
     "2 turns for"),
])  # fmt: skip
def test_implausible_text_is_refused_naming_the_formats_tried(body: str, reason: str) -> None:
    err = error_of(body)
    assert err.code == "unreadable"
    assert reason in err.message and "?format=" in err.message
    assert {"text", "fathom", "otter"} <= set(err.detail["tried"])
    assert err.detail["formats"] == list(FORMATS)


def test_a_forced_format_is_checked_too_and_names_only_itself() -> None:
    err = error_of(NOTES_WITH_HEADINGS, fmt="text")
    assert err.code == "unreadable" and list(err.detail["tried"]) == ["text"]


def test_a_short_one_speaker_note_and_every_fixture_are_believable() -> None:
    assert parse(WORDS.encode()).turns[0].speaker == "Dana"
    for name in FIXTURE_FORMATS:
        assert parsed(name).turns


def test_the_issue_fathom_export_reads_whole() -> None:
    body = fixture("fathom.txt").decode()
    conv = parse(body.encode())
    assert conv.source_format == "fathom" and len(conv.turns) == 12
    assert "ACTION ITEM" not in {t.speaker for t in conv.turns}


def test_fathom_without_the_at_sign_or_its_head_still_reads_whole() -> None:
    body = fixture("fathom.txt").decode().replace("@", "")
    body = "\n".join(line for line in body.splitlines() if not line.startswith("VIEW"))
    conv = parse(body.encode())
    assert conv.source_format == "fathom"
    assert cues(conv) == [(s, t, start, None) for s, t, start, _ in cues(parsed("native.json"))]
