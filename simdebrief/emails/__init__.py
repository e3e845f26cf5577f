"""Every email SimDebrief sends, composed from ``templates/emails/`` into the outbox.

Kept apart from services so that services stay free of templates and links:
``composer`` renders and enqueues, ``sessions`` tells participants about their sessions,
``feedback`` says a learner's feedback is ready, ``followups`` writes the stage emails and
runs one dispatch pass, ``support`` tells supporters that someone asked to talk.
"""
