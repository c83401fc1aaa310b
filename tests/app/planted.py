"""Planted objections, each phrased six ways, spread over six calls, with small talk around."""

PLANTED = {
    "price": [
        "Honestly, the price is a lot higher than what we budgeted for this year.",
        "That number is way over our budget, I'm not sure we can afford it.",
        "It's just too expensive for a team our size.",
        "The per-seat cost is really hard to justify to finance.",
        "We can't spend that kind of money right now, the budget is tight.",
        "Your pricing is about double what we expected to pay.",
    ],
    "competitor": [
        "We already pay for Gong, so I'm not sure why we'd need another tool.",
        "We're locked into Gong for call recording already.",
        "Our team already uses Gong and they're pretty happy with it.",
        "We just renewed our Gong contract last month.",
        "Gong already does most of this for us.",
        "Honestly we'd probably just stick with Gong.",
    ],
    "contract": [
        "Legal won't sign a three-year term.",
        "We can't commit to a multi-year contract right now.",
        "A three year agreement is a non-starter for our legal team.",
        "Procurement only allows annual contracts, not three years.",
        "Locking ourselves in for three years is not something we'd sign.",
        "We'd only do a one-year term, not a multi-year deal.",
    ],
}

NOISE = [
    "Yeah, that makes sense.",
    "Sorry, can you hear me okay? My connection is a bit spotty today.",
    "Sure, happy to walk you through it.",
]


def planted_calls() -> list[list[str]]:
    """Six calls; call i gets the i-th phrasing of every planted objection plus noise."""
    return [[NOISE[i % 3], PLANTED["price"][i], PLANTED["competitor"][i],
             PLANTED["contract"][i]] for i in range(6)]
