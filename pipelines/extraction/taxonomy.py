"""Objection categories: a name, a one-line description and prototype sentences for similarity."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Prototypes are written from scratch in the voice of a buyer on a call; they are deliberately
# varied (short/long, formal/casual, statement/question) so nearest-prototype similarity does not
# reward one phrasing. The rule patterns in data/objection_patterns.jsonl know only these names;
# a category a workspace adds is found by its prototypes alone.


@dataclass(frozen=True)
class Category:
    """One objection category; prototypes are example sentences a customer might say."""

    name: str
    description: str
    prototypes: tuple[str, ...]


Taxonomy = tuple[Category, ...]

PRICE = Category(
    "price",
    "Cost, budget, affordability or return on the spend.",
    (
        "Honestly it's more than we can spend right now.",
        "The price is too high for a team our size.",
        "We don't have budget for this until next fiscal year.",
        "That's way over what we were expecting to pay.",
        "I can't justify the cost to our finance team.",
        "The per-seat pricing gets expensive really fast as we grow.",
        "We'd need a serious discount to make the numbers work.",
        "I'm not convinced the return is worth the investment.",
        "It's a lot of money for the few features we'd actually use.",
        "Our budget got cut this quarter, so spending is frozen.",
        "The setup fee on top of the subscription is hard to swallow.",
        "We just can't afford another software subscription.",
        "Paying for the whole year upfront is a big ask for us.",
        "Is there a cheaper plan? This tier is out of our range.",
        "Five figures a year is steep for something we use monthly.",
        "Where am I supposed to find another twenty thousand in this year's plan?",
        "Finance will laugh at a number like that.",
        "For a clinic our size, that monthly fee is really hard to stomach.",
        "The quote came in about double what we had penciled in.",
        "I'm struggling to see how we'd get our money back on this.",
    ),
)

TIMING = Category(
    "timing",
    "Not now: other priorities, busy periods, reorganisations, a later quarter.",
    (
        "Now just isn't a good time for us.",
        "We're in the middle of a reorg, so let's revisit this next quarter.",
        "We can't take on a new project until our busy season is over.",
        "Could you check back with me in six months or so?",
        "Our roadmap is packed through the end of the year.",
        "We're not ready to make a change at this point.",
        "The team is buried in a migration and has no room for anything else.",
        "Let's pick this back up after planning in January.",
        "It's bad timing with the holidays coming up.",
        "We have bigger priorities to deal with first.",
        "Maybe next year, once things settle down a bit.",
        "There's a hiring freeze, so nothing new is getting started.",
        "We'd rather hold off until the new system is live.",
        "It's too early for us; we're still figuring out our process.",
        "Nothing new gets approved until after our fiscal year closes.",
        "Harvest season is our crunch time, so realistically we can't look at this before winter.",
        "Ask me again once the merger is finished.",
        "Our IT folks are heads-down on the ERP cutover until the summer.",
        "We just launched a big initiative and can't start another one on top of it.",
    ),
)

AUTHORITY = Category(
    "authority",
    "The speaker cannot decide alone: a boss, committee, procurement or board must approve.",
    (
        "I'd have to run this by my boss first.",
        "I'm not the one who signs off on purchases like this.",
        "Our CFO has the final say on anything over a few thousand.",
        "Anything new has to go through procurement, and that takes a while.",
        "I need to get buy-in from the rest of the leadership team.",
        "The decision really sits with our VP of operations.",
        "I can recommend it, but I can't make the call myself.",
        "Let me talk it over with my business partner before we commit.",
        "The board has to approve spend at this level.",
        "I don't have the authority to sign something like this.",
        "My manager will want to see a business case before approving it.",
        "Honestly, it's above my pay grade.",
        "I'd need to convince the head of IT, and he's hard to win over.",
        "Purchases like this go to a committee that only meets once a quarter.",
        "Corporate picks the software for all the franchise locations, not us.",
        "The superintendent would have to sign off, and she's cautious about new vendors.",
        "I'm just gathering information; the partners will decide.",
        "Our parent company has a say in any new system we bring in.",
        "Security and finance both get a veto on new tools here.",
    ),
)

NEED = Category(
    "need",
    "Doubts that the problem exists or matters enough: the status quo is good enough.",
    (
        "I'm not sure we really need something like this.",
        "Our current process works well enough for us.",
        "We're a small team, we can get by with spreadsheets.",
        "I don't really see what problem this would solve for us.",
        "This feels like a nice-to-have rather than a must-have.",
        "We don't have enough volume to make it worthwhile.",
        "We only do this a couple of times a year.",
        "I doubt my team would use it much.",
        "We haven't had any trouble with the way we do it now.",
        "It seems like overkill for what we need.",
        "Nobody on the team is really asking for this.",
        "It's not a pressing problem for us at the moment.",
        "I don't see the value for a company our size.",
        "Do we really need a whole platform for something this simple?",
        "Our volume is so low that a manual process is honestly fine.",
        "The crew gets by with a whiteboard and a group text, and it works.",
        "That problem you described just doesn't come up for us.",
        "It feels built for a much bigger organisation than ours.",
        "What we have isn't broken, so I don't see a reason to change it.",
    ),
)

COMPETITOR = Category(
    "competitor",
    "An incumbent tool, an alternative vendor, or building it in-house instead.",
    (
        "We already use another tool that does this.",
        "We're pretty happy with our current vendor.",
        "We just signed with one of your competitors last month.",
        "What makes you any different from HubSpot?",
        "Another vendor offered us something similar for less.",
        "We're evaluating a couple of other options as well.",
        "Our existing platform already has this built in.",
        "We've been with our current provider for years and it's fine.",
        "Microsoft bundles something like this into our license already.",
        "Our engineers think they could build this themselves.",
        "Salesforce does most of this out of the box for us.",
        "Why would we pick you over the market leader?",
        "The other product we trialled had more integrations.",
        "Everything we run is already on Google Workspace, and it covers most of this.",
        "We're halfway through a pilot with another provider right now.",
        "Our dealers are all set up on a different portal, so moving them would be an uphill battle.",
        "Our parent company standardised on a competing product last year.",
        "The free version of what we already pay for does about eighty percent of this.",
    ),
)

TRUST = Category(
    "trust",
    "Credibility, risk, security and whether promised results are real.",
    (
        "How do I know this will actually work for us?",
        "I've been burned by tools like this before.",
        "You're a pretty young company; will you still be around in two years?",
        "I'm worried about where our customer data would be stored.",
        "Those results sound a bit too good to be true.",
        "Our security team is going to have a lot of questions.",
        "What happens to our data if you go out of business?",
        "I'd need to see proof before I believe those numbers.",
        "I'm skeptical that the AI is accurate enough for us.",
        "We had a breach through a vendor last year, so we're cautious.",
        "What if it doesn't deliver the savings you're promising?",
        "I've never heard of your company before this call.",
        "It feels risky to put our whole process on a new platform.",
        "Are you SOC 2 certified? We can't move forward without that.",
        "Everyone in this space promises the moon, and nobody delivers it.",
        "Your online reviews are all over the place.",
        "Could I talk to a couple of your current clients before we decide?",
        "I'm uneasy giving an outside tool access to our patient records.",
        "How many companies our size actually use this day to day?",
        "What if the accuracy drops once it sees our messy data?",
    ),
)

IMPLEMENTATION = Category(
    "implementation",
    "Effort to set up, integrate, migrate, train and switch over.",
    (
        "It sounds like a lot of work to get this set up.",
        "We don't have the engineering resources to integrate this.",
        "Migrating all our historical data over would be a nightmare.",
        "Retraining the whole team on a new tool is a big lift.",
        "I'm worried it won't play nicely with our existing stack.",
        "Our IT team is already stretched too thin for another rollout.",
        "Switching systems in the middle of the year would be really disruptive.",
        "We tried rolling out something similar and nobody adopted it.",
        "The last migration we did took eight painful months.",
        "We'd have to rebuild every one of our workflows from scratch.",
        "My team doesn't have the bandwidth to learn another platform.",
        "How much of our time does onboarding actually take?",
        "Getting it connected to our ERP sounds complicated.",
        "Putting new devices in every store means a technician visit at each location.",
        "My crews aren't tech people, so getting them to use an app is going to be a fight.",
        "We can't afford weeks of downtime while everyone learns a new system.",
        "Every one of our custom reports would have to be rebuilt from scratch.",
        "Who on your side actually does the setup work, because we don't have anyone.",
        "Moving all our integrations over is months of engineering work.",
    ),
)

CONTRACT = Category(
    "contract",
    "Terms, commitment length, renewal, cancellation, legal and payment conditions.",
    (
        "We can't sign a three-year contract.",
        "A twelve-month minimum term is a non-starter for us.",
        "Can we cancel if it doesn't work out?",
        "Our legal team will push back on the liability clause.",
        "The auto-renewal terms are a problem for us.",
        "We'd want a month-to-month option to start with.",
        "Your data processing agreement needs changes before we can sign.",
        "We need an exit clause in case it doesn't work.",
        "Your standard terms don't line up with our procurement policy.",
        "I'd rather not lock ourselves into an annual commitment yet.",
        "The early termination fee is way too steep.",
        "We need net-60 payment terms at minimum.",
        "Legal will take weeks to review an agreement this long.",
        "We need the right to terminate for convenience, and your paper doesn't allow it.",
        "Our master agreement has to take precedence over your terms.",
        "The per-seat minimum doesn't work when our headcount swings with the season.",
        "Your uptime commitment in the service level agreement is too weak for us.",
        "We'd need the liability cap raised before our counsel will sign.",
    ),
)

FEATURE = Category(
    "feature",
    "A capability the product lacks or does not do well enough for them.",
    (
        "It doesn't have the reporting we need.",
        "Without an offline mode this won't work for our field team.",
        "We really need single sign-on and you don't support it.",
        "Does it handle multiple currencies? That's a must for us.",
        "The mobile app seems pretty limited compared to the desktop.",
        "We need custom fields and I didn't see a way to add them.",
        "It can't handle approvals with more than one step.",
        "There's no API for getting the data back out.",
        "Our team in Mexico would need it in Spanish.",
        "The dashboard doesn't let us filter by region.",
        "Unless it can do bulk edits, it's not much use to us.",
        "It's missing the Slack integration our people live in.",
        "I wish the permissions were more granular than that.",
        "There's no way to schedule recurring jobs, which we do every day.",
        "So it only exports to CSV? We need a live connection to our warehouse.",
        "No support for two-factor login?",
        "Your analytics look pretty shallow compared to what we have now.",
        "It sounds like you cap the number of records per upload, and that won't cover us.",
        "Unless it handles barcode scanning, the warehouse team can't use it.",
    ),
)

DEFAULT_TAXONOMY: Taxonomy = (
    PRICE,
    TIMING,
    AUTHORITY,
    NEED,
    COMPETITOR,
    TRUST,
    IMPLEMENTATION,
    CONTRACT,
    FEATURE,
)


def category_names(taxonomy: Sequence[Category] = DEFAULT_TAXONOMY) -> tuple[str, ...]:
    """The category names in taxonomy order."""
    return tuple(category.name for category in taxonomy)


def extend_taxonomy(
    taxonomy: Sequence[Category],
    name: str,
    prototypes: Iterable[str],
    description: str = "",
) -> Taxonomy:
    """A new taxonomy with extra prototypes for `name`, or a new category if `name` is unknown."""
    extra = tuple(text.strip() for text in prototypes if text.strip())
    if not name.strip():
        raise ValueError("a category needs a name")
    if not extra and name not in category_names(taxonomy):
        raise ValueError(f"new category {name!r} needs at least one prototype")
    updated = []
    for category in taxonomy:
        if category.name == name:
            merged = category.prototypes + tuple(p for p in extra if p not in category.prototypes)
            category = Category(name, description or category.description, merged)
        updated.append(category)
    if name not in category_names(taxonomy):
        updated.append(Category(name, description, extra))
    return tuple(updated)
