"""Cohorts and rooms: the centre's organisation of students and space."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import Centre, Cohort, Role, Room, User
from simdebrief.services import accounts


def name_taken(session: Session, model: type[Cohort] | type[Room], *, centre_id: int,
               name: str, except_id: int | None = None) -> bool:
    """Whether another cohort or room of the centre has this name, ignoring case (lower()
    folds every letter on both engines; see ``sqlite_locking``). The exact name is asked
    for as well: the database's unique rule is exact, and a clash it would refuse must be
    found here first, as a message on the form."""
    query = select(model.id).where(model.centre_id == centre_id, or_(
        model.name == name, func.lower(model.name) == name.lower()))
    if except_id is not None:
        query = query.where(model.id != except_id)
    return session.scalar(query.limit(1)) is not None


def create_cohort(session: Session, *, centre: Centre, name: str, description: str = "") -> Cohort:
    name = name.strip()
    if name_taken(session, Cohort, centre_id=centre.id, name=name):
        raise InvalidInput({"name": [_("A cohort with this name already exists.")]})
    cohort = Cohort(centre=centre, name=name, description=description.strip())
    session.add(cohort)
    session.flush()
    return cohort


def add_student(cohort: Cohort, student: User) -> bool:
    """Add a student to a cohort; False if they were already in it."""
    if student.role is not Role.STUDENT or student.centre_id != cohort.centre_id:
        raise InvalidInput({"student": [_("Only students of this centre can join a cohort.")]})
    if student in cohort.students:
        return False
    cohort.students.append(student)
    return True


def remove_student(cohort: Cohort, student: User) -> None:
    if student in cohort.students:
        cohort.students.remove(student)


@dataclass
class ImportRow:
    line: int
    email: str
    name: str
    outcome: str  # "created", "added", "already", "error"
    message: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    created: list[User] = field(default_factory=list)
    #: Addresses that belong to another centre's accounts; their owners get a notice.
    elsewhere: list[User] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def errors(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == "error"]


MAX_IMPORT_ROWS = 2000
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


def _rows(reader: csv.DictReader, report: ImportReport):
    """(line number, row) pairs; a row the csv module cannot read becomes an error row.

    The csv module refuses a field over its size limit (128 KB) with ``csv.Error`` and then
    carries on with the next line, so one broken row is reported and the rest still count.
    """
    while True:
        line = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error:
            report.rows.append(ImportRow(line=line, email="", name="", outcome="error", message=_(
                "This row cannot be read: a field is far too long or a quote is not closed.")))
            if len(report.rows) > MAX_IMPORT_ROWS:
                raise InvalidInput({"file": [_("At most %(count)d students per file.",
                                              count=MAX_IMPORT_ROWS)]}) from None
            continue
        yield line, raw


def import_students(
    session: Session, *, cohort: Cohort, csv_text: str, now: datetime
) -> ImportReport:
    """Create or add students from CSV with the columns ``email`` and ``name``.

    Good rows are applied and bad rows reported one by one, so a single typo does not
    send the whole list back.
    """
    if csv_text.startswith("\ufeff"):
        csv_text = csv_text[1:]
    try:
        dialect = csv.Sniffer().sniff(csv_text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(csv_text), dialect=dialect)
    try:
        headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    except csv.Error:
        raise InvalidInput({"file": [_("The first line of the file cannot be read as CSV.")]}) \
            from None
    if not {"email", "name"} <= headers:
        found = ", ".join(sorted(h for h in headers if h)) or _("nothing")
        raise InvalidInput({"file": [_(
            "The first line must name the columns, including 'email' and 'name'. "
            "Found: %(found)s.", found=found)]})
    report = ImportReport()
    seen: set[str] = set()
    for number, raw in _rows(reader, report):
        if len(report.rows) + 1 > MAX_IMPORT_ROWS:
            raise InvalidInput({"file": [_("At most %(count)d students per file.",
                                          count=MAX_IMPORT_ROWS)]})
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()
               if isinstance(v, str)}
        email, name = row.get("email", ""), row.get("name", "")
        if not email and not name:
            continue
        result = ImportRow(line=number, email=email, name=name, outcome="error")
        report.rows.append(result)
        if "\x00" in email + name:
            result.message = _("The row contains a character that is not allowed.")
            continue
        if len(email) > MAX_EMAIL_LENGTH or len(name) > MAX_NAME_LENGTH:
            result.email, result.name = email[:80], name[:80]
            result.message = _("The email address or the name is too long.")
            continue
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            result.message = _("'%(email)s' is not a valid email address.", email=email)
            continue
        if not name:
            result.message = _("The name is missing.")
            continue
        if email in seen:
            result.message = _("This email address appears earlier in the file.")
            continue
        seen.add(email)
        existing = accounts.find_user_by_email(session, email)
        if existing is not None and existing.centre_id != cohort.centre_id:
            # Reported like a new invitation: the person is told instead, so the import does
            # not reveal who uses SimDebrief at another centre.
            report.elsewhere.append(existing)
            result.outcome = "created"
            continue
        if existing is not None:
            if existing.role is not Role.STUDENT:
                result.message = _("An account with this address exists but is not a student "
                                   "of this centre.")
                continue
            result.outcome = "added" if add_student(cohort, existing) else "already"
            continue
        student = accounts.create_user(
            session, centre=cohort.centre, now=now,
            data=accounts.NewUser(email=email, name=name, role=Role.STUDENT),
        )
        add_student(cohort, student)
        report.created.append(student)
        result.outcome = "created"
    session.flush()
    return report


def create_room(
    session: Session, *, centre: Centre, name: str, capacity: int, location: str = ""
) -> Room:
    name = name.strip()
    if name_taken(session, Room, centre_id=centre.id, name=name):
        raise InvalidInput({"name": [_("A room with this name already exists.")]})
    room = Room(centre=centre, name=name, capacity=capacity, location=location.strip())
    session.add(room)
    session.flush()
    return room
