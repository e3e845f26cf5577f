"""The fixed texts of every document, in the reader's language, built once per locale."""

from __future__ import annotations

from functools import lru_cache

from simdebrief.languages import gettext as _
from simdebrief.languages import locale_in_force
from simdebrief.models import (
    CheckInContext,
)
from simdebrief.reports import data

#: Date styles of every document (simdebrief.timefmt.STYLES, written the reader's way).
DATE = "weekday_date"
DATE_TIME = "weekday_datetime"


def wording() -> data.Wording:
    """Every fixed text of the documents, in the current language (made once per language)."""
    return _wording(str(locale_in_force()))


@lru_cache(maxsize=16)
def _wording(_locale: str) -> data.Wording:
    return data.Wording(
        product="SimDebrief",
        page_of=_("Page %(page)s of %(pages)s"),
        learner_document=_("Debrief feedback"),
        summary_document=_("Debrief summary"),
        progress_document=_("Your check-ins over time"),
        s_objective_outcomes=_("Learning objectives"),
        objective=_("Objective"),
        outcome=_("Met?"),
        s_phase_times=_("Phase times"),
        phase=_("Phase"),
        started=_("Start"),
        ended=_("End"),
        s_debriefers=_("Debriefers"),
        role=_("Role"),
        s_just_culture=_("Just Culture classification of the problems"),
        classification=_("Classification"),
        s_undiscussed=_("Suggested factors not discussed"),
        undiscussed_intro=_("These factors came from the scenario's suggestions and were not "
                            "marked as discussed with the group:"),
        generated=_("Made %(when)s."),
        twin_link=_("This document is also a web page, easier to read with a screen reader "
                    "or on a phone (log in to open it):"),
        centre=_("Centre"),
        scenario=_("Scenario"),
        date=_("Date"),
        room=_("Room"),
        instructors=_("Instructors"),
        learner=_("Learner"),
        s_second_victim=_("Feeling shaken afterwards is normal"),
        second_victim=[
            _("“Second victim” is a name for a healthcare worker, students included, who "
              "is hurt by an event at work: a patient is harmed, something unexpected "
              "happens, or a mistake is made. The patient is the first victim; the second "
              "is the person who was there and carries it afterwards."),
            _("It does not take a serious error. A harsh remark from a colleague, a "
              "supervisor or a fellow student, or blaming yourself, can leave the same "
              "mark, and it counts just as much."),
            _("Reactions to events like this are normal: going over it again and again, "
              "guilt, doubting your skills, sleeping badly or wanting to keep it to "
              "yourself. They show that you care, not that you are unfit for the work. For "
              "most people they ease over days or weeks. If they do not, or if they weigh "
              "heavily, talk to someone: the contacts are further down."),
            _("The event in the simulation was not real; what you felt may well have been."),
        ],
        s_take_home=_("The group’s take-home messages"),
        s_plus_delta=_("What went well and what to change"),
        plus=_("Went well"),
        delta=_("To change"),
        s_analysis=_("Why it happened: many causes, not one person"),
        analysis_intro=_("Errors nearly always have several causes. The group looked for "
                         "them at every level of the London Protocol, from the patient and "
                         "the task to the team, the workplace and the organisation."),
        s_chart=_("Factors per level"),
        chart_title=_("Contributing factors per London Protocol level"),
        chart_description=_("A bar per level; the same numbers are in the table next to "
                            "the chart."),
        level=_("Level"),
        factors=_("Factors"),
        factor=_("Contributing factor"),
        problems=_("Care-delivery problems: where care went beyond safe limits"),
        problem=_("Problem"),
        note=_("Note"),
        attribution=_("System or individual"),
        s_framing=_("What we talked about"),
        framing_intro=_("Messages about errors and how we handle them that came up in the "
                        "debrief:"),
        s_objectives=_("What the session was for"),
        objectives_intro=_("The learning objectives of the scenario:"),
        objective_result=_("The group: %(result)s"),
        s_feedback=_("Feedback to you"),
        strengths=_("Strengths"),
        to_improve=_("What to improve"),
        learning_goals=_("Learning goals"),
        s_story=_("Someone who has been there"),
        story_intro=_("A composite teaching story: written for teaching from what many "
                      "clinicians have described, not one real person's account. Students "
                      "have said that hearing from people a few steps ahead of them helps "
                      "them see their own reactions as normal."),
        s_coping=_("What helped other students"),
        coping_intro=_("Medical students interviewed about events like this described what "
                       "helped them. Different things help different people; take what "
                       "fits you."),
        coping=[
            data.Titled(_("Fellow students and colleagues, for the clinical side"),
                        _("Go through what happened, what you noticed and what you would do "
                          "next time with people who know the work.")),
            data.Titled(_("Friends and family, for the feelings"),
                        _("People outside medicine ask how you felt rather than what the "
                          "blood pressure was, and that can be what you need.")),
            data.Titled(_("Formal offers of support"),
                        _("Peer supporters, supervisors, counsellors and psychologists are "
                          "there for this. Students tended to skip offers they had to ask "
                          "for once the first shock had passed, and were glad of follow-ups "
                          "that came to them anyway; that is why yours are planned for "
                          "you.")),
            data.Titled(_("Keeping work and private life apart"),
                        _("Leave the day at the door on your way home and do something that "
                          "helps you switch off. Putting it aside for the evening is not the "
                          "same as ignoring it.")),
        ],
        coping_source=_("Source: interviews with medical students in Copenhagen (Krogh et "
                        "al., BMC Medical Education 2023;23:786)."),
        s_support=_("Who you can talk to"),
        support_always=_("You can also use “Ask for a conversation” in SimDebrief at any "
                         "time. Nobody is told unless you say so."),
        urgent_intro=_("If it cannot wait, or you are thinking of harming yourself, call one "
                       "of these now. If you are in danger, call the emergency number."),
        urgent_none=_("If it cannot wait, or you are in danger, call your local emergency "
                      "number."),
        s_followups=_("Your follow-ups"),
        followups_intro=_("Short check-ins planned for you after the session, in local "
                          "time:"),
        followups_pending=_("Short check-ins are planned for you after the debrief: the next "
                            "day, after a week, after a month and after three months. Each "
                            "comes by email with a link."),
        followups_pause=_("You can pause or stop your follow-ups at any time with one click, "
                          "from the link in a follow-up email or from your session page in "
                          "SimDebrief. No reason is asked, and you can start them again."),
        followup=_("Follow-up"),
        due=_("Due"),
        status=_("Status"),
        brings=_("What it brings"),
        s_checkin=_("Your check-in"),
        checkin_intro=_("You chose to include your check-in of %(when)s. Only you can see it "
                        "in SimDebrief."),
        answered=_("Answered"),
        distress=_("Distress (0–10)"),
        reactions=_("What you noticed"),
        helps=_("What helps"),
        support_wanted=_("Support you would like"),
        own_notes=_("Your notes"),
        amended=_("This debrief was amended after it was finalised (last change %(when)s)."),
        s_attendance=_("Attendance"),
        attendance=_("Attendance"),
        s_triggers=_("What may have affected the learners"),
        s_analysis_items=_("Analysis"),
        kind=_("Kind"),
        domain=_("Domain"),
        item=_("Item"),
        s_framing_checklist=_("Framing checklist"),
        given=_("Given"),
        yes=_("Yes"),
        no=_("No"),
        s_all_feedback=_("Feedback to each learner"),
        s_group_checkin=_("How the group is doing"),
        group_checkin_hidden=_("Fewer than %(count)d learners answered the check-in, so no "
                               "figures are shown."),
        group_checkin_open=_("Group figures appear once the debrief is finalised and the "
                             "check-in has closed."),
        group_checkin_answered=_("From the debrief check-ins of %(count)d learners, computed "
                                 "once the check-in closed. Individual answers are never "
                                 "shown."),
        distress_median=_("Middle distress score (0–10)"),
        too_few_scores=_("Too few scores to show"),
        learners=_("Learners"),
        s_followup_status=_("Follow-ups"),
        s_amendments=_("Amendments"),
        when=_("When"),
        who=_("Who"),
        what=_("What"),
        reason=_("Reason"),
        s_progress=_("Your check-ins"),
        progress_intro=_("Your own answers over time. Only you can see them; this document "
                         "exists because you asked for it."),
        progress_empty=_("You have not answered a check-in yet."),
        progress_chart_title=_("Distress over time"),
        progress_chart_description=_("Your distress score (0–10) at each check-in; the same "
                                     "numbers are in the table below."),
        occasion=_("Occasion"),
        session=_("Session"),
        other_checkins=_("Other check-ins"),
        not_given=_("not given"),
    )


FOLLOWUP_STAGES = {
    "FU0_end_of_debrief": lambda: _("End of the debrief"),
    "FU1_early": lambda: _("The next day"),
    "FU2_one_week": lambda: _("After a week"),
    "FU3_one_month": lambda: _("After a month"),
    "FU4_three_months": lambda: _("After three months"),
    "FU_event": lambda: _("After an event"),
}
FOLLOWUP_STATUSES = {
    "scheduled": lambda: _("Planned"),
    "claimed": lambda: _("Being sent"),
    "sent": lambda: _("Sent"),
    "completed": lambda: _("Answered"),
    "answered": lambda: _("Answered"),
    "declined": lambda: _("Declined"),
    "escalated": lambda: _("Support offered"),
    "skipped": lambda: _("Skipped"),
    "expired": lambda: _("Expired"),
    "paused": lambda: _("Paused"),
    "stopped": lambda: _("Stopped"),
    "cancelled": lambda: _("Cancelled"),
}
CONTEXTS = {
    CheckInContext.DEBRIEF: lambda: _("End of the debrief"),
    CheckInContext.SELF: lambda: _("On my own"),
    CheckInContext.FOLLOWUP: lambda: _("Follow-up"),
}


def occasion_text(context) -> str:
    return CONTEXTS[context]() if context in CONTEXTS else _code_text(context)


def _code_text(value) -> str:
    return str(getattr(value, "value", value) or "").replace("_", " ").strip()


def stage_title(row) -> str:
    """The stage's title from its plan, else a name for its key (``FU1_early``)."""
    title = getattr(getattr(row, "stage", None), "title", None)
    if isinstance(title, str) and title.strip():
        return title
    code = str(getattr(row, "stage_key", "") or "")
    return FOLLOWUP_STAGES[code]() if code in FOLLOWUP_STAGES else _code_text(code)


def stage_status_text(row) -> str:
    code = str(getattr(row.status, "value", row.status) or "")
    return FOLLOWUP_STATUSES[code]() if code in FOLLOWUP_STATUSES else _code_text(code)
