"""Native-JSON transcripts for API tests."""

from __future__ import annotations

REP = {"name": "Dana Whitfield", "email": "dana@relayhq.com", "role": "rep"}


def transcript(external_id: str, customer_lines: list[str], *, account: str = "Acme Freight",
               outcome: str | None = "open", started_at: str = "2026-11-10T15:00:00Z",
               tags: list[str] | None = None, customer: str = "Jorge Alvarez") -> dict:
    """A call where the rep asks and the customer answers with each given line in turn."""
    utterances = []
    t = 0
    for i, line in enumerate(customer_lines):
        rep_text = "So tell me, how does your team handle this today?" if i else (
            "Thanks for joining. What would make this a fit for you?")
        utterances.append({"speaker": REP["name"], "start_ms": t, "end_ms": t + 4000,
                           "text": rep_text})
        utterances.append({"speaker": customer, "start_ms": t + 4500, "end_ms": t + 12000,
                           "text": line})
        t += 15000
    domain = account.lower().replace(" ", "") + ".com"
    return {
        "external_id": external_id, "title": f"Discovery — {account}", "started_at": started_at,
        "account": account, "deal_stage": "discovery", "outcome": outcome,
        "tags": tags or ["mid-market"],
        "participants": [REP, {"name": customer, "email": f"jorge@{domain}", "role": "customer"}],
        "utterances": utterances,
    }
