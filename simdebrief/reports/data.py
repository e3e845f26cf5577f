"""What the documents say, as plain frozen data: no models, no database, no Flask.

``services/reports.py`` fills these from the database in the reader's language; the PDF
builders and the accessible web pages render the same objects, so the two never disagree.
Every text here is already translated and formatted (dates in the centre's zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Titled:
    """A short title with a longer text, e.g. one coping strategy."""

    title: str
    text: str


@dataclass(frozen=True)
class Wording:
    """Every fixed text of the documents, in the reader's language."""

    # Running header, footer and cover.
    product: str
    page_of: str  # "Page %(page)s of %(pages)s"; the total must come last
    learner_document: str
    summary_document: str
    progress_document: str
    generated: str  # "Made %(when)s"
    twin_link: str
    centre: str
    scenario: str
    date: str
    room: str
    instructors: str
    learner: str
    # Second victim, in plain words.
    s_second_victim: str
    second_victim: list[str]
    # The group's part of the debrief.
    s_take_home: str
    s_plus_delta: str
    plus: str
    delta: str
    s_analysis: str
    analysis_intro: str
    s_chart: str
    chart_title: str
    chart_description: str
    level: str
    factors: str
    factor: str
    problems: str
    problem: str
    note: str
    attribution: str
    s_framing: str
    framing_intro: str
    s_objectives: str
    objectives_intro: str
    objective_result: str
    # The learner's own part.
    s_feedback: str
    strengths: str
    to_improve: str
    learning_goals: str
    s_story: str
    story_intro: str
    s_coping: str
    coping_intro: str
    coping: list[Titled]
    coping_source: str
    s_support: str
    support_always: str
    urgent_intro: str
    urgent_none: str
    s_followups: str
    followups_intro: str
    followups_pending: str
    followups_pause: str
    followup: str
    due: str
    status: str
    brings: str
    s_checkin: str
    checkin_intro: str
    answered: str
    distress: str
    reactions: str
    helps: str
    support_wanted: str
    own_notes: str
    amended: str
    # The instructors' summary.
    s_attendance: str
    attendance: str
    s_triggers: str
    s_analysis_items: str
    kind: str
    domain: str
    item: str
    s_framing_checklist: str
    given: str
    yes: str
    no: str
    s_all_feedback: str
    s_group_checkin: str
    group_checkin_hidden: str
    group_checkin_answered: str
    group_checkin_open: str
    distress_median: str
    too_few_scores: str
    learners: str
    s_followup_status: str
    s_amendments: str
    when: str
    who: str
    what: str
    reason: str
    # The progress report.
    s_progress: str
    progress_intro: str
    progress_empty: str
    progress_chart_title: str
    progress_chart_description: str
    occasion: str
    session: str
    other_checkins: str
    not_given: str
    # Added with the objectives, phase times, debriefers and Just Culture (defaults keep
    # older constructors working).
    s_objective_outcomes: str = ""
    objective: str = ""
    outcome: str = ""
    s_phase_times: str = ""
    phase: str = ""
    started: str = ""
    ended: str = ""
    s_debriefers: str = ""
    role: str = ""
    s_just_culture: str = ""
    classification: str = ""
    s_undiscussed: str = ""
    undiscussed_intro: str = ""


@dataclass(frozen=True)
class Cover:
    centre: str
    scenario: str
    date: str
    room: str
    instructors: list[str]


@dataclass(frozen=True)
class FactorLine:
    factor: str
    #: Number of the care-delivery problem it contributed to (1 = the report's first).
    problem: int
    description: str
    attribution: str
    #: Imported from the scenario's suggestions and not yet discussed with the group.
    suggested: bool = False


@dataclass(frozen=True)
class ObjectiveLine:
    """A learning objective and whether the group met it (outcome already translated)."""

    objective: str
    outcome: str
    note: str = ""
    #: The outcome's code: "met", "partly", "not_met", or "" when not recorded.
    code: str = ""


@dataclass(frozen=True)
class PhaseTimeLine:
    phase: str
    start: str
    end: str


@dataclass(frozen=True)
class DebrieferLine:
    name: str
    role: str


@dataclass(frozen=True)
class FactorLevel:
    """One London Protocol level and the contributing factors found at it."""

    code: str
    label: str
    factors: list[FactorLine]

    @property
    def count(self) -> int:
        return len(self.factors)


@dataclass(frozen=True)
class Feedback:
    strengths: str = ""
    to_improve: str = ""
    learning_goals: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.strengths.strip() or self.to_improve.strip()
                    or self.learning_goals.strip())


@dataclass(frozen=True)
class Story:
    narrator: str
    title: str
    text: str


@dataclass(frozen=True)
class FollowUpLine:
    stage: str
    due: str
    status: str
    #: What the stage brings (a check-in, lessons, a conversation offer), in plain words.
    brings: str = ""
    #: The session (named neutrally) or track it follows, where a list mixes several.
    session: str = ""


@dataclass(frozen=True)
class Objective:
    """A learning objective of the scenario and, where it was recorded, whether the group
    met it (already worded, e.g. "Met" or "Partly: …")."""

    text: str
    result: str = ""


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


@dataclass(frozen=True)
class CheckInSummary:
    """The learner's own check-in; only ever in a document the learner asked it for."""

    when: str
    answers: list[Answer]


@dataclass(frozen=True)
class LearnerReport:
    """One learner's debrief document."""

    language: str
    wording: Wording
    title: str
    author: str
    subject: str
    learner: str
    cover: Cover
    twin_url: str
    generated: str
    take_home: list[str] = field(default_factory=list)
    plus: list[str] = field(default_factory=list)
    delta: list[str] = field(default_factory=list)
    #: Care-delivery problems, numbered from 1 in this order; factors refer to them.
    problems: list[str] = field(default_factory=list)
    levels: list[FactorLevel] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    #: What we talked about: each point's label with the scenario's teaching text (may be "").
    framing: list[Titled] = field(default_factory=list)
    feedback: Feedback = field(default_factory=Feedback)
    story: Story | None = None
    support_contacts: list[str] = field(default_factory=list)
    #: The centre's urgent contacts, emergency number first: "Name: phone (hours)".
    urgent_contacts: list[str] = field(default_factory=list)
    followups: list[FollowUpLine] = field(default_factory=list)
    checkin: CheckInSummary | None = None
    amended: str = ""

    @property
    def has_factors(self) -> bool:
        return any(level.factors for level in self.levels)


@dataclass(frozen=True)
class AttendanceLine:
    name: str
    status: str


@dataclass(frozen=True)
class AnalysisLine:
    kind: str
    domain: str
    text: str


@dataclass(frozen=True)
class FramingLine:
    label: str
    given: bool


@dataclass(frozen=True)
class LearnerFeedback:
    name: str
    feedback: Feedback


@dataclass(frozen=True)
class GroupCheckIn:
    """Group figures of the closed debrief check-in; built only when at least k learners
    answered. Counts are text: a small cell reads "fewer than k"."""

    answered: int
    distress_median: str
    reactions: list[tuple[str, str]]


@dataclass(frozen=True)
class StageStatus:
    stage: str
    #: (status, count as text): counts under k read "fewer than k".
    counts: list[tuple[str, str]]


@dataclass(frozen=True)
class AmendmentLine:
    when: str
    who: str
    what: str
    reason: str


@dataclass(frozen=True)
class SessionSummary:
    """The instructors' record of a finalised debrief."""

    language: str
    wording: Wording
    title: str
    author: str
    subject: str
    cover: Cover
    generated: str
    attendance: list[AttendanceLine] = field(default_factory=list)
    take_home: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    analysis: list[AnalysisLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    levels: list[FactorLevel] = field(default_factory=list)
    framing: list[FramingLine] = field(default_factory=list)
    feedback: list[LearnerFeedback] = field(default_factory=list)
    group_checkin: GroupCheckIn | None = None
    #: Shown instead of the figures when too few answered (the k-anonymity rule).
    group_checkin_note: str = ""
    followup_status: list[StageStatus] = field(default_factory=list)
    amendments: list[AmendmentLine] = field(default_factory=list)
    debriefers: list[DebrieferLine] = field(default_factory=list)
    objectives: list[ObjectiveLine] = field(default_factory=list)
    phase_times: list[PhaseTimeLine] = field(default_factory=list)
    #: (problem, Just Culture classification) for the problems that have one.
    just_culture: list[tuple[str, str]] = field(default_factory=list)
    #: "Factor (problem n)" for each suggested factor the group has not discussed.
    undiscussed: list[str] = field(default_factory=list)

    @property
    def has_factors(self) -> bool:
        return any(level.factors for level in self.levels)


@dataclass(frozen=True)
class ProgressPoint:
    when: str
    #: Days since the first check-in shown, for the chart's time axis.
    day: float
    #: Short date for the chart's axis.
    short: str
    distress: int | None
    occasion: str
    session: str
    reactions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProgressReport:
    """The learner's own check-ins over time."""

    language: str
    wording: Wording
    title: str
    author: str
    subject: str
    learner: str
    centre: str
    generated: str
    twin_url: str
    points: list[ProgressPoint] = field(default_factory=list)
    support_contacts: list[str] = field(default_factory=list)
    followups: list[FollowUpLine] = field(default_factory=list)

    @property
    def chart_points(self) -> list[ProgressPoint]:
        return [point for point in self.points if point.distress is not None]

    @property
    def point_groups(self) -> list[tuple[str, list[ProgressPoint]]]:
        """The check-ins by session, so that the same occasion of two sessions is told apart."""
        return _grouped(self.points)

    @property
    def followup_groups(self) -> list[tuple[str, list[FollowUpLine]]]:
        return _grouped(self.followups)


def _grouped(items: list) -> list[tuple[str, list]]:
    """Items by their ``session`` text, groups in the order they first appear."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.session, []).append(item)
    return list(groups.items())
