"""Staged follow-ups after a session, and tracks a learner starts after a real event.

A learner's needs change over time, and a check-in they do not have to ask for reaches more
of them than an offer they must take up, so follow-ups are opt-out: every learner who was
present gets the plan's stages when the debrief is finalised, and may pause, resume or stop
them with one click and no reason asked.

One module per concern; callers import the one they need:

* ``stages``: what a stage can ask and bring, and when it falls due (local send hour, DST)
* ``plans``: the default plans, versions, revising a plan for stages not yet sent
* ``enrolment``: every present learner's rows when a debrief is finalised
* ``choices``: pause, resume, stop; tracks started after a real event
* ``dispatch``: claiming due stages with their outbox emails, reminders, expiry
* ``answers``: signed stage links, answering and skipping, the learner's timeline
* ``figures``: completion, load and distress figures for staff (k-rule)
* ``calendar_events``: the learner's follow-up dates for their calendar feed
"""
