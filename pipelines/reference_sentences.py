"""Non-category prototype sentences: neutral remarks, pain descriptions and trivial backchannel."""

from __future__ import annotations

# Things a buyer says that are NOT objections, including negated and hedged concerns, so that a
# sentence about price that is positive lands nearer these than the price prototypes.
NEUTRAL_PROTOTYPES: tuple[str, ...] = (
    "That sounds great, thanks for walking me through it.",
    "Yeah, that makes sense to me.",
    "Can you send me the slides after the call?",
    "We have about fifty people on the sales team.",
    "Price isn't really an issue for us.",
    "We're not worried about security, our team already reviewed you.",
    "If budget weren't a problem we'd roll it out to everyone.",
    "The timing actually works well for us.",
    "I make the decision here, so we can move quickly.",
    "We're really happy with what we've seen so far.",
    "Let's set up a follow-up for next Tuesday.",
    "Most of our team works out of Salesforce and Slack.",
    "The demo was really helpful.",
    "I like how simple the dashboard is.",
    "We already have budget set aside for this.",
    "The integration looks pretty straightforward.",
    "Tell me a bit more about the reporting side.",
    "No concerns on my end.",
    "The contract terms look standard to us.",
    "Sure, go ahead and share your screen.",
    "We'd love to start a pilot next month.",
    "I'm the one who runs our finance operations.",
    "We switched from spreadsheets to a CRM two years ago.",
    "Our fiscal year starts in July.",
    "Okay, and how many users does the starter plan include?",
    "That pricing seems fair for what we get.",
    "Great, I'll loop in our ops lead for the next call.",
    "We're growing quickly and hiring a lot this year.",
)

# How buyers describe the problem they live with today: quotable pain, not resistance to buying.
PAIN_PROTOTYPES: tuple[str, ...] = (
    "We spend hours every week reconciling spreadsheets.",
    "Approvals sit in someone's inbox for weeks.",
    "Our reps waste so much time on manual data entry.",
    "Things fall through the cracks whenever someone is on vacation.",
    "We have zero visibility into where a deal actually stands.",
    "Every month-end close turns into a scramble.",
    "Customers keep complaining that nobody gets back to them.",
    "Our data lives in five systems that don't talk to each other.",
    "Nobody knows which version of the contract is the current one.",
    "It takes us months to get a new hire fully productive.",
    "Reporting is a nightmare, it's all copy and paste.",
    "We keep missing renewals because nobody is tracking them.",
    "Half my day goes to chasing people for status updates.",
    "Our onboarding process is a mess of emails and shared docs.",
    "We found out about the churn way too late to do anything.",
    "The handoff between sales and support is where everything breaks.",
)

# Conversational plumbing that is phrased as a question but asks nothing of substance.
BACKCHANNEL_PROTOTYPES: tuple[str, ...] = (
    "Can you hear me?",
    "How are you doing today?",
    "Does that make sense?",
    "Can you see my screen?",
    "Are you still there?",
    "Sorry, what was that?",
    "Is that okay?",
    "Sound good?",
    "How was your weekend?",
    "Should I share my screen?",
    "Can you hear me okay now?",
    "Am I on mute?",
)
