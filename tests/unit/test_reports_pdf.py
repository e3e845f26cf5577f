"""The PDF builders: plain data in, a well-formed, searchable, bookmarked document out."""

import shutil
import subprocess
from dataclasses import replace
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab import rl_config

from simdebrief.reports import data
from simdebrief.reports.learner_pdf import render_learner_pdf
from simdebrief.reports.progress_pdf import render_progress_pdf
from simdebrief.reports.summary_pdf import render_summary_pdf
from simdebrief.services.reports import wording

NAMES = ["Søren Ærø Ågård", "Łukasz Żółć", "Ólafur Þórsson", "Çağla Öztürk",
         "Nguyễn Thị Minh", "Zoë Brontë-Müller", "Đorđe Šćepanović"]
CHECKIN_NOTE = "I could not sleep after the session"
FOLLOW_UP_DATE = "Wednesday 21 October 2026, 09:00"


@pytest.fixture(autouse=True)
def invariant():
    """Reproducible bytes in tests only (no timestamps or random ids in the file)."""
    before = rl_config.invariant
    rl_config.invariant = 1
    yield
    rl_config.invariant = before


W = wording()


def factors(count: int, level_codes=("LP.TEAM", "LP.TASK", "LP.ORG")) -> list[data.FactorLevel]:
    levels = []
    for index, (code, label) in enumerate((("LP.PAT", "Patient"), ("LP.TASK", "Task and "
                                           "technology"), ("LP.IND", "Individual (staff)"),
                                           ("LP.TEAM", "Team"), ("LP.ENV", "Work environment"),
                                           ("LP.ORG", "Organisation and management"),
                                           ("LP.INST", "Institutional context"))):
        lines = []
        if code in level_codes:
            share = count // len(level_codes) + (1 if index % 3 < count % len(level_codes)
                                                 else 0)
            lines = [data.FactorLine(f"{label}: factor number {n}", 1 + n % 2,
                                     f"Observed detail {n}", "System") for n in range(share)]
        levels.append(data.FactorLevel(code, label, lines))
    return levels


def report(**overrides) -> data.LearnerReport:
    values = dict(
        language="da-DK", wording=W, title="Debrief feedback for Søren Ærø Ågård",
        author="Herlev Sim Centre (SimDebrief)",
        subject="Antibiotic given despite a recorded penicillin allergy, 20 October 2026",
        learner="Søren Ærø Ågård",
        cover=data.Cover("Herlev Sim Centre", "Antibiotic given despite a recorded penicillin "
                         "allergy", "Tuesday 20 October 2026, 10:00–13:00", "Sim room 1",
                         ["Ida Instruktør", "Łukasz Żółć"]),
        twin_url="https://sim.example.org/sessions/7/feedback/3",
        generated="Tue 20 Oct 2026, 14:00",
        take_home=["Check allergies aloud.", "Speak up when unsure."],
        plus=["Adrenaline within two minutes."], delta=["Read the allergy box aloud."],
        problems=["Antibiotic given despite a recorded allergy", "Late adrenaline"],
        levels=factors(4),
        objectives=[data.Objective("Check allergies before any antibiotic.", "Met"),
                    data.Objective("Give adrenaline early in anaphylaxis.")],
        framing=[data.Titled("Errors are inevitable and have many causes",
                             "The allergy box was one of four missed barriers.")],
        feedback=data.Feedback("Calm closed-loop communication.", "Say the check aloud.",
                               "Lead an allergy check."),
        story=data.Story("Junior doctor", "The antibiotic I signed for",
                         "I countersigned it.\nI did not scroll.\n\nThe nurse helped me."),
        support_contacts=["Peer supporters: ask at the front desk."],
        urgent_contacts=["Emergency: 112", "Student counselling: +45 70 20 30 40 (08–16)"],
        followups=[data.FollowUpLine("The next day", FOLLOW_UP_DATE, "Planned",
                                     "a short check-in; Where to find support"),
                   data.FollowUpLine("After a week", "Tuesday 27 October 2026, 09:00",
                                     "Planned")],
    )
    values.update(overrides)
    return data.LearnerReport(**values)


CHECKIN = data.CheckInSummary("Tue 20 Oct 2026, 13:10", [
    data.Answer(W.distress, "6"), data.Answer(W.reactions, "Trouble sleeping"),
    data.Answer(W.own_notes, CHECKIN_NOTE)])


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def outline_titles(reader: PdfReader) -> list[str]:
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(reader.outline)
    return titles


def test_metadata_language_and_page_count():
    reader, _text = read(render_learner_pdf(report()))
    assert len(reader.pages) >= 2
    assert reader.metadata.title == "Debrief feedback for Søren Ærø Ågård"
    assert reader.metadata.author == "Herlev Sim Centre (SimDebrief)"
    assert reader.metadata.subject.startswith("Antibiotic given")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "da-DK"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]


def test_an_outline_entry_per_section():
    reader, _text = read(render_learner_pdf(report()))
    assert outline_titles(reader) == [
        W.s_feedback, W.s_take_home, W.s_plus_delta, W.s_objectives, W.s_framing,
        W.s_analysis, W.s_second_victim, W.s_story, W.s_coping, W.s_followups, W.s_support]


def test_the_learner_reads_their_feedback_first_and_who_to_call_last():
    """Issue 14: feedback and take-home messages first; objectives, what we talked about
    with the scenario's teaching text, factors, what each follow-up brings, then the
    support contacts with the urgent numbers."""
    _reader, text = read(render_learner_pdf(report()))
    text = " ".join(text.split())
    order = ["Calm closed-loop communication.", "Check allergies aloud.",
             "Check allergies before any antibiotic.",
             "The allergy box was one of four missed barriers.", "Team: factor number 0",
             FOLLOW_UP_DATE.split(",")[0], "Where to find support",
             "Peer supporters: ask at the front desk.", "+45 70 20 30 40"]
    positions = [text.index(snippet) for snippet in order]
    assert positions == sorted(positions)
    assert text.index(W.s_feedback) < text.index(W.s_second_victim)
    assert "The group: Met" in text


def test_name_factors_and_follow_up_dates_are_searchable_check_in_is_not():
    _reader, text = read(render_learner_pdf(report()))
    assert "Søren Ærø Ågård" in text
    assert "Team: factor number 0" in text
    assert FOLLOW_UP_DATE.split(",")[0] in text
    assert "page 1 of" in text.lower()
    assert CHECKIN_NOTE not in text and W.s_checkin not in text


def test_the_check_in_appears_when_included():
    reader, text = read(render_learner_pdf(report(checkin=CHECKIN)))
    assert CHECKIN_NOTE in text and "Trouble sleeping" in text
    assert outline_titles(reader)[-1] == W.s_checkin


@pytest.mark.parametrize("name", NAMES)
def test_latin_names_survive_extraction(name):
    _reader, text = read(render_learner_pdf(report(learner=name, feedback=data.Feedback(
        strengths=f"{name} led the team.")))
    )
    assert name in text
    assert f"{name} led the team." in text


def test_empty_sections_are_left_out():
    bare = report(take_home=[], plus=[], delta=[], levels=factors(0), framing=[],
                  objectives=[], feedback=data.Feedback(), story=None, followups=[],
                  urgent_contacts=[])
    reader, text = read(render_learner_pdf(bare))
    assert outline_titles(reader) == [W.s_second_victim, W.s_coping, W.s_followups,
                                      W.s_support]
    assert W.s_take_home not in text and W.s_feedback not in text
    # Follow-ups not yet scheduled: the document says they will come and how to pause them.
    assert "pause" in text


def test_long_texts_split_across_pages_and_stay_whole():
    long_text = " ".join(f"word{n}" for n in range(6000))
    reader, text = read(render_learner_pdf(report(
        feedback=data.Feedback(strengths=long_text, to_improve="x" * 3000),
        problems=[long_text[:9000]],
        levels=factors(3) + [data.FactorLevel("LP.INST", "Institutional", [data.FactorLine(
            "Institutional: regulatory", 1, long_text[:9000], "Both")])])))
    assert len(reader.pages) > 8
    assert "word0" in text and "word5999" in text


def test_two_hundred_factors_render_with_repeated_table_headers():
    reader, text = read(render_learner_pdf(report(levels=factors(200))))
    assert len(reader.pages) >= 6
    assert text.count(W.factor) >= 3  # the header row repeats on every page of the table
    assert "factor number 66" in text


def test_markup_in_texts_is_printed_not_obeyed():
    nasty = 'Use <b>bold</b> & <a href="https://evil.example">link</a> <img src="x.png"/>'
    _reader, text = read(render_learner_pdf(report(
        learner="A & B <i>", take_home=[nasty], feedback=data.Feedback(strengths=nasty))))
    assert "<b>bold</b> &" in text and "A & B <i>" in text
    assert 'href="https://evil.example"' in text


def test_the_same_data_gives_the_same_bytes():
    first = render_learner_pdf(report())
    # Parsed texts and measured words are shared between documents: another document in
    # between must not change the next one.
    render_learner_pdf(report(learner="Someone Else", levels=factors(60), checkin=CHECKIN))
    render_summary_pdf(summary())
    assert render_learner_pdf(report()) == first


def test_every_font_is_embedded():
    reader, _text = read(render_learner_pdf(report(checkin=CHECKIN)))
    fonts = {}
    for page in reader.pages:
        for name, font in page["/Resources"]["/Font"].items():
            fonts[name] = font.get_object()
    assert fonts
    for font in fonts.values():
        assert font["/Subtype"] == "/TrueType" and "/FontFile2" in font["/FontDescriptor"]


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
@pytest.mark.parametrize("build", ["learner", "learner_checkin", "summary", "progress"])
def test_qpdf_finds_no_errors(tmp_path, build):
    pdf = {"learner": lambda: render_learner_pdf(report(levels=factors(40))),
           "learner_checkin": lambda: render_learner_pdf(report(checkin=CHECKIN)),
           "summary": lambda: render_summary_pdf(summary()),
           "progress": lambda: render_progress_pdf(progress())}[build]()
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


texts = st.one_of(
    st.just(""),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1500, max_size=3000),
    st.sampled_from(["<b>", "</b>", "&", "&amp;", "<a href=\"javascript:x\">x</a>",
                     "<img src='/etc/passwd'/>", "<para>", "]]>", "\x00\x01", "😀🩺",
                     "\u202eevil", "a\u0301", "x" * 4000, "0" * 2500]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=texts, line=texts, feedback=texts, factor=texts, contact=texts)
def test_any_text_builds_a_document(name, line, feedback, factor, contact):
    levels = [data.FactorLevel("LP.TEAM", factor or "Team", [
        data.FactorLine(factor, 1, feedback, contact)])]
    pdf = render_learner_pdf(report(problems=[line, factor],
        learner=name, title=name, take_home=[line, line], plus=[feedback], levels=levels,
        feedback=data.Feedback(feedback, line, name), support_contacts=[contact],
        story=data.Story(name, line, feedback), checkin=data.CheckInSummary(
            name, [data.Answer(line, feedback)]),
        followups=[data.FollowUpLine(line, name, contact)]))
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(BytesIO(pdf)).pages) >= 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=texts, line=texts)
def test_any_text_builds_a_summary_and_a_progress_report(name, line):
    assert render_summary_pdf(summary(name=name, line=line)).startswith(b"%PDF-")
    assert render_progress_pdf(progress(name=name, line=line)).startswith(b"%PDF-")


def summary(name="Søren Ærø Ågård", line="Check allergies aloud.") -> data.SessionSummary:
    feedback = data.Feedback("Calm.", line, "Lead.")
    return data.SessionSummary(
        language="en", wording=W, title="Debrief summary", author="Herlev Sim Centre",
        subject="Penicillin", cover=report().cover, generated="Tue 20 Oct 2026, 14:00",
        attendance=[data.AttendanceLine(name, "Present"), data.AttendanceLine("Ana", "Absent")],
        take_home=[line], triggers=["Own error"],
        analysis=[data.AnalysisLine("Plus: went well", "Technical", line)],
        levels=factors(6), framing=[data.FramingLine(line, True), data.FramingLine("X", False)],
        feedback=[data.LearnerFeedback(name, feedback), data.LearnerFeedback(
            "Ana", data.Feedback())],
        group_checkin=data.GroupCheckIn(5, "4", [("Guilt", "fewer than 5")]),
        followup_status=[data.StageStatus("The next day", [("Planned", "5")])],
        amendments=[data.AmendmentLine("Tue", "Ida", "Take-home messages", line)])


def progress(name="Søren Ærø Ågård", line="Guilt") -> data.ProgressReport:
    return data.ProgressReport(
        language="en", wording=W, title=f"Check-ins of {name}", author="Herlev Sim Centre",
        subject="Check-ins", learner=name, centre="Herlev Sim Centre",
        generated="Tue 20 Oct 2026", twin_url="https://sim.example.org/me/progress",
        points=[data.ProgressPoint("Tue 20 Oct 2026, 13:10", 0, "20 Oct", 6, "Debrief",
                                   "Penicillin", [line]),
                data.ProgressPoint("Wed 21 Oct 2026, 09:30", 0.85, "21 Oct", None, "Follow-up",
                                   "Penicillin"),
                data.ProgressPoint("Tue 27 Oct 2026, 09:30", 6.9, "27 Oct", 3, "Follow-up",
                                   "Penicillin", ["Trouble sleeping"])],
        support_contacts=["Peer supporters"],
        followups=[data.FollowUpLine("After a month", FOLLOW_UP_DATE, "Planned")])


def test_the_summary_has_everything_but_individual_check_ins():
    reader, text = read(render_summary_pdf(summary()))
    assert reader.metadata.title == "Debrief summary"
    titles = outline_titles(reader)
    for section in (W.s_attendance, W.s_take_home, W.s_analysis, W.s_framing_checklist,
                    W.s_all_feedback, W.s_group_checkin, W.s_followup_status, W.s_amendments):
        assert section in titles
    assert "fewer than 5" in text and "Range" not in text and "Team: factor number 0" in text
    feedback = text.split(W.s_all_feedback)[-1]
    assert "Søren Ærø Ågård" in feedback and "Ana" not in feedback  # nothing written to Ana
    hidden = replace(summary(), group_checkin=None, group_checkin_note="Fewer than 5 answered")
    assert "Fewer than 5 answered" in read(render_summary_pdf(hidden))[1]


def test_the_progress_report_charts_and_lists_the_answers():
    reader, text = read(render_progress_pdf(progress()))
    assert outline_titles(reader) == [W.s_progress, W.s_followups, W.s_support]
    assert "Trouble sleeping" in text and "27 Oct" in text
    empty = replace(progress(), points=[], followups=[])
    assert W.progress_empty in read(render_progress_pdf(empty))[1]
