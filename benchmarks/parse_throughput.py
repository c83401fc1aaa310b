"""Parse throughput per transcript format: one 20,000-turn call, rendered in memory.

python benchmarks/parse_throughput.py [--turns 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from pipelines.formats import parse

SPEAKERS = [
    ("Dana Whitfield", "dana@acmeanalytics.com", "rep"),
    ("Marcus Lee", "marcus@northwind.com", "customer"),
    ("Priya Raman", "priya@northwind.com", "customer"),
]
PHRASES = [
    "The price is a concern for us this quarter.",
    "How long does the rollout usually take?",
    "We already use a call recorder for every meeting.",
    "Security will ask where the transcripts are stored.",
    "Pulse usually cuts review time by more than half.",
    "Can it handle calls in German and French?",
    "Our budget is committed until January.",
    "Let us book a pilot with two teams.",
]

Turn = tuple[int, int, int, str, str]  # speaker index, start ms, end ms, sentence 1, sentence 2


def build_turns(n: int) -> list[Turn]:
    rng = random.Random(7)
    turns, clock = [], 0
    for i in range(n):
        length = rng.randint(2000, 12000)
        first, second = rng.sample(PHRASES, 2)
        turns.append((i % 3, clock, clock + length, first, second))
        clock += length + rng.randint(100, 900)
    return turns


def _clock(ms: int, sep: str = ".") -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return f"{h:02d}:{m:02d}:{rest // 1000:02d}{sep}{rest % 1000:03d}"


def _name(t: Turn) -> str:
    return SPEAKERS[t[0]][0]


def native(turns: list[Turn]) -> bytes:
    utterances = [
        {"speaker": _name(t), "start_ms": t[1], "end_ms": t[2], "text": f"{t[3]} {t[4]}"}
        for t in turns
    ]
    participants = [{"name": n, "email": e, "role": r} for n, e, r in SPEAKERS]
    doc = {"external_id": "bench", "participants": participants, "utterances": utterances}
    return json.dumps(doc).encode()


def vtt(turns: list[Turn]) -> bytes:
    cues = [
        f"{i}\n{_clock(t[1])} --> {_clock(t[2])}\n<v {_name(t)}>{t[3]}\n{t[4]}</v>\n"
        for i, t in enumerate(turns, 1)
    ]
    return ("WEBVTT\n\n" + "\n".join(cues)).encode()


def srt(turns: list[Turn]) -> bytes:
    cues = [
        f"{i}\n{_clock(t[1], ',')} --> {_clock(t[2], ',')}\n{_name(t)}: {t[3]}\n{t[4]}\n"
        for i, t in enumerate(turns, 1)
    ]
    return "\n".join(cues).encode()


def text(turns: list[Turn]) -> bytes:
    lines = [f"[{_clock(t[1])[:8]}] {_name(t)}: {t[3]}\n{t[4]}" for t in turns]
    return "\n".join(lines).encode()


def gong(turns: list[Turn]) -> bytes:
    parties = [
        {"speakerId": str(i), "name": n, "emailAddress": e,
         "affiliation": "Internal" if r == "rep" else "External"}
        for i, (n, e, r) in enumerate(SPEAKERS)
    ]  # fmt: skip
    blocks = [
        {"speakerId": str(t[0]), "sentences": [
            {"start": t[1], "end": (t[1] + t[2]) // 2, "text": t[3]},
            {"start": (t[1] + t[2]) // 2, "end": t[2], "text": t[4]}]}
        for t in turns
    ]  # fmt: skip
    doc = {"parties": parties, "callTranscripts": [{"callId": "1", "transcript": blocks}]}
    return json.dumps(doc).encode()


def chorus(turns: list[Turn]) -> bytes:
    utterances = [
        {"speaker_id": t[0], "speaker_name": _name(t), "speaker_type": SPEAKERS[t[0]][2],
         "snippet": f"{t[3]} {t[4]}", "snippet_time": t[1] / 1000,
         "snippet_duration": (t[2] - t[1]) / 1000}
        for t in turns
    ]  # fmt: skip
    return json.dumps({"utterances": utterances}).encode()


def avoma(turns: list[Turn]) -> bytes:
    speakers = [
        {"id": i, "name": n, "email": e, "is_rep": r == "rep"}
        for i, (n, e, r) in enumerate(SPEAKERS)
    ]
    segments = [
        {"speaker_id": t[0], "transcript": f"{t[3]} {t[4]}", "timestamps": [t[1] / 1e3, t[2] / 1e3]}
        for t in turns
    ]
    return json.dumps({"speakers": speakers, "transcript": segments}).encode()


def fireflies(turns: list[Turn]) -> bytes:
    sentences = [
        {"text": text, "start_time": start / 1000, "end_time": end / 1000, "speaker_name": _name(t)}
        for t in turns
        for text, start, end in ((t[3], t[1], (t[1] + t[2]) // 2), (t[4], (t[1] + t[2]) // 2, t[2]))
    ]
    return json.dumps({"data": {"transcript": {"sentences": sentences}}}).encode()


def clari(turns: list[Turn]) -> bytes:
    people = [{"person_id": i, "name": n, "email": e} for i, (n, e, _) in enumerate(SPEAKERS)]
    rows = [
        {"person_id": t[0], "text": f"{t[3]} {t[4]}", "start": t[1] / 1000, "end": t[2] / 1000}
        for t in turns
    ]
    return json.dumps({"people": people, "ext_conversation_turns": rows}).encode()


def stt(turns: list[Turn]) -> bytes:
    rows = [
        {"speaker": "ABC"[t[0]], "start": t[1], "end": t[2], "text": f"{t[3]} {t[4]}"}
        for t in turns
    ]
    return json.dumps({"utterances": rows}).encode()


def _mss(ms: int) -> str:
    """`M:SS`, or `H:MM:SS` past the hour, as notetakers write it."""
    h, m, sec = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fathom(turns: list[Turn]) -> bytes:
    head = "Bench call\nVIEW RECORDING - 9 hours (No highlights)\n\n---\n\n"
    blocks = [f"@{_mss(t[1])} - {_name(t)}\n{t[3]} {t[4]}\n" for t in turns]
    return (head + "\n".join(blocks)).encode()


def zoom(turns: list[Turn]) -> bytes:
    blocks = [f"[{_name(t)}] {_clock(t[1] + 9 * 3_600_000)[:8]}\n{t[3]} {t[4]}\n" for t in turns]
    return "\n".join(blocks).encode()


def meet(turns: list[Turn]) -> bytes:
    lines = ["Bench call - Transcript", "Attendees", ", ".join(n for n, _, _ in SPEAKERS),
             "Transcript"]
    for i, t in enumerate(turns):
        if i % 50 == 0:
            lines += ["", _clock(t[1])[:8], ""]
        lines.append(f"{_name(t)}: {t[3]} {t[4]}")
    return "\n".join([*lines, "Meeting ended after 09:00:00"]).encode()


def teams(turns: list[Turn]) -> bytes:
    blocks = [f"{_name(t)}   {_mss(t[1])}\n{t[3]}\n{t[4]}\n" for t in turns]
    return ("Dana Whitfield started transcription\n\n" + "\n".join(blocks)).encode()


def otter(turns: list[Turn]) -> bytes:
    blocks = [f"{_name(t)}  {_mss(t[1])}\n{t[3]} {t[4]}\n" for t in turns]
    return ("\n".join(blocks) + "\nTranscribed by https://otter.ai\n").encode()


def tldv(turns: list[Turn]) -> bytes:
    lines = [f"[{_mss(t[1])}] {_name(t)}: {t[3]} {t[4]}" for t in turns]
    return ("Recorded with tl;dv\n\n" + "\n".join(lines)).encode()


RENDERERS: dict[str, Callable[[list[Turn]], bytes]] = {
    "native": native,
    "vtt": vtt,
    "srt": srt,
    "text": text,
    "gong": gong,
    "chorus": chorus,
    "avoma": avoma,
    "fireflies": fireflies,
    "clari": clari,
    "stt": stt,
    "fathom": fathom,
    "zoom": zoom,
    "meet": meet,
    "teams": teams,
    "otter": otter,
    "tldv": tldv,
}


def best_seconds(body: bytes, repeats: int, expected_format: str, expected_turns: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        conv = parse(body)  # auto-detected, as the API does without ?format=
        best = min(best, time.perf_counter() - start)
    assert conv.source_format == expected_format, conv.source_format
    assert len(conv.turns) == expected_turns, len(conv.turns)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    turns = build_turns(args.turns)
    print(f"{args.turns} turns per format, best of {args.repeats} runs")
    print(f"{'format':<10} {'MB':>7} {'seconds':>8} {'utterances/s':>13} {'MB/s':>7}")
    for name, render in RENDERERS.items():
        body = render(turns)
        seconds = best_seconds(body, args.repeats, name, args.turns)
        mb = len(body) / 1e6
        rate = args.turns / seconds
        print(f"{name:<10} {mb:>7.2f} {seconds:>8.3f} {rate:>13,.0f} {mb / seconds:>7.1f}")


if __name__ == "__main__":
    main()
