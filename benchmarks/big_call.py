"""One very long call through the real job: seconds, peak memory, and whether it jumps the queue.

    python benchmarks/big_call.py [--utterances 20000] [--small 5]

Builds a call of N utterances (a rep and a customer taking turns; the customer's turns are the
labelled customer turns of benchmarks/data/labelled, cycled), posts it, then posts `--small`
ordinary calls after it, and lets one worker run the queue as `verbatim serve` does. Prints the
order the jobs ran in, the big call's processing seconds, its mentions, and the process's peak
RSS before and after it (the models are loaded first, so the difference is the call's own).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import session_scope
from app.main import create_app
from app.nlp import load_models
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings

LABELLED = Path(__file__).resolve().parent / "data" / "labelled"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def customer_texts() -> list[str]:
    texts = []
    for path in sorted(LABELLED.glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


def call(external_id: str, utterances: int, texts: list[str]) -> dict:
    turns = []
    for i in range(utterances):
        rep = i % 2 == 0
        text = "Could you tell me more about how that works for your team?" if rep \
            else texts[(i // 2) % len(texts)]
        turns.append({"speaker": "Dana" if rep else "Jo", "start_ms": i * 4000, "text": text})
    return {"external_id": external_id, "title": f"{external_id} ({utterances} turns)",
            "participants": [{"name": "Dana", "email": "dana@relayhq.com", "role": "rep"},
                             {"name": "Jo", "email": "jo@acme.com", "role": "customer"}],
            "utterances": turns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=5)
    args = parser.parse_args()

    models = load_models()
    texts = customer_texts()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/big.db", worker_enabled=False),
                         models=models)
        with TestClient(app) as client:
            with session_scope(app.state.engine) as session:
                key = create_api_key(session=session,
                                     workspace=get_or_create_workspace(session=session, name="big"))
            headers = {"Authorization": f"Bearer {key}"}
            big = client.post("/v1/calls", headers=headers,
                              json=call("big", args.utterances, texts)).json()
            for i in range(args.small):
                r = client.post("/v1/calls", headers=headers, json=call(f"small-{i}", 40, texts[i * 20:]))
                assert r.status_code == 202, r.text
            before = peak_rss_mb()
            app.state.worker.run_until_idle()
            mentions = client.get(f"/v1/calls/{big['call_id']}/mentions", headers=headers).json()
            jobs = [client.get(f"/v1/jobs/{j}", headers=headers) for j in range(1, args.small + 4)]
    jobs = sorted((j.json() for j in jobs if j.status_code == 200),
                  key=lambda j: j["started_at"] or "")
    big_job = next(j for j in jobs if j["id"] == big["job_id"])
    seconds = (datetime.fromisoformat(big_job["finished_at"])
               - datetime.fromisoformat(big_job["started_at"])).total_seconds()
    print(f"big_call utterances={args.utterances} seconds={seconds:.1f} "
          f"mentions={len(mentions)} peak_rss_mb_models={before:.0f} "
          f"peak_rss_mb_after={peak_rss_mb():.0f}")
    print("jobs in the order they ran: " + ", ".join(
        f"{j['kind']}({'big' if j['id'] == big['job_id'] else 'small'})" for j in jobs))


if __name__ == "__main__":
    main()
