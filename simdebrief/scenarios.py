"""Schema and loader for the scenario library (``scenarios/*.yaml``).

A scenario file describes one simulation: the clinical story, the roles and the confederate
script, the care-delivery problems with their London Protocol factors, the error-culture
teaching points, the debrief prompts per phase, a first-person role-model story and the
support resources handed to learners.

Loading never raises on a bad file. Every failure becomes a :class:`Problem` that names the
file, the line of the nearest YAML node and the field path, e.g.
``scenarios/x.yaml:42: roles[2].count: expected a whole number, got a string``.
The optional ``translations:`` block is checked by ``scenario_translations``; a text it leaves
out is a warning (the English is shown), every other mistake in it a problem.

This module is pure: no Flask app, no database. It compares codes only and never renders a
translatable label.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from simdebrief import scenario_translations
from simdebrief.taxonomy import (
    ADVERSE_EVENT_TYPES,
    CLINICAL_SETTINGS,
    DEBRIEF_FRAMEWORKS,
    DEFAULT_DEBRIEF_FRAMEWORK,
    ERROR_CULTURE_POINTS,
    LP_LEVELS,
    LP_SUBCODES,
    RISK_FLAGS,
    SUPPORT_RESOURCE_KINDS,
    TRIGGER_TYPES,
    Choices,
    codes,
    is_valid_factor_code,
)

SCENARIO_SUFFIXES = (".yaml", ".yml")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
STORY_MIN_WORDS = 150
STORY_MAX_WORDS = 400
#: The value of ``prebrief.basic_assumption`` and, optionally, ``prebrief.support_contacts``
#: meaning "use the centre's own text". The basic assumption is a copyrighted statement, so
#: its wording lives in the centre's settings, never in a scenario file.
CENTRE = "centre"

FILE_PATH = "(file)"
#: Languages a scenario file may translate its text into when no app config says otherwise
#: (the app passes its SIMDEBRIEF_LANGUAGES).
TRANSLATION_LANGUAGES = ("da",)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, located by file, 1-based line and field path.

    A warning (a translation that leaves a text out) does not stop the file from loading.
    """

    file: str
    line: int
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}: {kind}{self.path}: {self.message}"


# --------------------------------------------------------------------------------------------
# Field types


def _code_validator(choices: Choices, what: str) -> AfterValidator:
    known = codes(choices)

    def check(value: str) -> str:
        if value not in known:
            raise PydanticCustomError(
                "unknown_code",
                "unknown {what} '{code}'; known: {known}",
                {"what": what, "code": value, "known": ", ".join(known)},
            )
        return value

    return AfterValidator(check)


def _check_factor_code(value: str) -> str:
    if is_valid_factor_code(value):
        return value
    level = ".".join(value.split(".")[:2])
    if level in LP_SUBCODES:
        hint = f"factors of {level}: " + ", ".join(codes(LP_SUBCODES[level]))
    else:
        hint = "levels: " + ", ".join(codes(LP_LEVELS))
    raise PydanticCustomError(
        "unknown_factor_code",
        "unknown London Protocol code '{code}'; {hint}",
        {"code": value, "hint": hint},
    )


def _check_slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise PydanticCustomError(
            "slug_format",
            "'{slug}' is not a valid slug; use lowercase letters, digits and single hyphens, "
            "e.g. 'ward-handover-omission'",
            {"slug": value},
        )
    return value


def _check_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise PydanticCustomError(
            "url_scheme", "a link must start with https:// or http://", {"url": value}
        )
    return value


Text = Annotated[str, StringConstraints(min_length=1)]
TextList = Annotated[tuple[Text, ...], Field(min_length=1)]
WholeNumber = Annotated[int, Field(strict=True)]
TriggerCode = Annotated[str, _code_validator(TRIGGER_TYPES, "trigger type")]
RiskFlagCode = Annotated[str, _code_validator(RISK_FLAGS, "risk flag")]
ClinicalSettingCode = Annotated[str, _code_validator(CLINICAL_SETTINGS, "clinical setting")]
AdverseEventCode = Annotated[str, _code_validator(ADVERSE_EVENT_TYPES, "adverse event type")]
TeachingPointCode = Annotated[
    str, _code_validator(ERROR_CULTURE_POINTS, "error-culture teaching point")
]
ResourceKindCode = Annotated[str, _code_validator(SUPPORT_RESOURCE_KINDS, "resource kind")]
FactorCode = Annotated[str, AfterValidator(_check_factor_code)]
Slug = Annotated[str, AfterValidator(_check_slug)]
Url = Annotated[str, AfterValidator(_check_url)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------------------------
# Schema


class Role(_Model):
    """A part in the simulation: a learner role or a confederate."""

    name: Text
    count: Annotated[int, Field(strict=True, ge=1, le=50)]
    description: Text


class Prebrief(_Model):
    """What the instructor covers before the simulation starts (safe-container practices)."""

    expectations: Text
    fiction_contract: Text
    basic_assumption: Text
    confidentiality: Text
    time_out: Text
    support_contacts: Text

    @field_validator("basic_assumption")
    @classmethod
    def _centre_statement_only(cls, value: str) -> str:
        if value != CENTRE:
            raise PydanticCustomError(
                "centre_only",
                "must be the word 'centre': the centre's own basic-assumption statement is "
                "used, and its wording is never stored in scenario files",
            )
        return value


class ConfederateScript(_Model):
    """Lines and cues for one confederate role."""

    role: Text
    brief: Text
    lines: TextList
    cues: tuple[Text, ...] = ()


class ExpectedFactor(_Model):
    """A contributory factor the scenario is designed to bring out."""

    code: FactorCode
    note: Text


class CareDeliveryProblem(_Model):
    """Care that went beyond safe limits, with the factors behind it."""

    description: Text
    expected_factors: Annotated[tuple[ExpectedFactor, ...], Field(min_length=1)]


class TeachingPoint(_Model):
    """An error-culture point to make in the debrief, in the scenario's own words."""

    point: TeachingPointCode
    text: Text


class DebriefPrompts(_Model):
    """Suggested questions for each phase of the chosen debrief framework."""

    framework: str = DEFAULT_DEBRIEF_FRAMEWORK
    phases: Annotated[dict[str, TextList], Field(min_length=1)]

    @field_validator("framework")
    @classmethod
    def _known_framework(cls, value: str) -> str:
        if value not in DEBRIEF_FRAMEWORKS:
            raise PydanticCustomError(
                "unknown_code",
                "unknown debrief framework '{code}'; known: {known}",
                {"code": value, "known": ", ".join(DEBRIEF_FRAMEWORKS)},
            )
        return value

    @field_validator("phases")
    @classmethod
    def _phases_of_framework(
        cls, value: dict[str, tuple[str, ...]], info: ValidationInfo
    ) -> dict[str, tuple[str, ...]]:
        framework = info.data.get("framework")
        if framework not in DEBRIEF_FRAMEWORKS:
            return value  # the framework error is reported on its own
        known = codes(DEBRIEF_FRAMEWORKS[framework])
        unknown = [phase for phase in value if phase not in known]
        if unknown:
            raise PydanticCustomError(
                "unknown_phase",
                "unknown phase '{phase}' for {framework}; phases: {known}",
                # "key" lets the loader point at the offending key's line.
                {
                    "phase": unknown[0],
                    "framework": framework,
                    "known": ", ".join(known),
                    "key": unknown[0],
                },
            )
        return value

    @property
    def missing_phases(self) -> tuple[str, ...]:
        """Phases of the framework that have no prompt yet."""
        return tuple(p for p in codes(DEBRIEF_FRAMEWORKS[self.framework]) if p not in self.phases)


class RoleModelStory(_Model):
    """A first-person account of a similar event by someone learners can relate to."""

    narrator: Text
    title: Text
    text: Text

    @field_validator("text")
    @classmethod
    def _length_in_words(cls, value: str) -> str:
        words = len(value.split())
        if not STORY_MIN_WORDS <= words <= STORY_MAX_WORDS:
            raise PydanticCustomError(
                "story_length",
                "the story has {words} words; write between {low} and {high}",
                {"words": words, "low": STORY_MIN_WORDS, "high": STORY_MAX_WORDS},
            )
        return value


class SupportResource(_Model):
    """Somewhere a learner can turn to after the session."""

    title: Text
    description: Text
    kind: ResourceKindCode
    url: Url | None = None


class Patient(_Model):
    """The simulated patient."""

    name: Text
    age: Annotated[int, Field(strict=True, ge=0, le=120)]
    sex: Text
    presenting_problem: Text
    history: Text


class ScenarioDoc(_Model):
    """One scenario file, validated."""

    slug: Slug
    title: Text
    summary: Text
    clinical_setting: ClinicalSettingCode
    adverse_event_type: AdverseEventCode
    trigger_types: Annotated[tuple[TriggerCode, ...], Field(min_length=1)]
    risk_flags: tuple[RiskFlagCode, ...]
    learning_objectives: TextList
    roles: Annotated[tuple[Role, ...], Field(min_length=1)]
    duration_minutes: Annotated[int, Field(strict=True, ge=5, le=240)]
    debrief_minutes: Annotated[int, Field(strict=True, ge=5, le=240)]
    prebrief: Prebrief
    confederate_script: tuple[ConfederateScript, ...]
    care_delivery_problems: Annotated[tuple[CareDeliveryProblem, ...], Field(min_length=1)]
    teaching_points: tuple[TeachingPoint, ...]
    debrief_prompts: DebriefPrompts
    role_model_story: RoleModelStory
    support_resources: tuple[SupportResource, ...]
    instructor_notes: Text | None = None
    equipment: tuple[Text, ...] = ()
    patient: Patient | None = None
    #: ``{lang: {...}}``, checked by ``scenario_translations`` (not by this schema) and set
    #: by the loader once it holds no error.
    translations: dict[str, Any] | None = None

    @field_validator("slug")
    @classmethod
    def _slug_is_file_name(cls, value: str, info: ValidationInfo) -> str:
        stem = (info.context or {}).get("file_stem")
        if stem is not None and value != stem:
            raise PydanticCustomError(
                "slug_mismatch",
                "slug '{slug}' does not match the file name '{stem}'; "
                "rename the file or change the slug",
                {"slug": value, "stem": stem},
            )
        return value

    @property
    def factor_codes(self) -> tuple[str, ...]:
        """Every London Protocol code the care-delivery problems expect, without repeats."""
        seen: dict[str, None] = {}
        for problem in self.care_delivery_problems:
            for factor in problem.expected_factors:
                seen.setdefault(factor.code, None)
        return tuple(seen)


@dataclass(frozen=True)
class LoadResult:
    """The scenarios that loaded, the problems of those that did not, and warnings."""

    scenarios: list[tuple[Path, ScenarioDoc]]
    problems: list[Problem]
    #: Texts a translation leaves out; their files loaded, showing English there.
    warnings: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Public API


def load_file(path: Path, languages: Iterable[str] = TRANSLATION_LANGUAGES
              ) -> tuple[ScenarioDoc | None, list[Problem]]:
    """Load and validate one scenario file; the document is None whenever there is a problem.

    Warnings are left out here; :func:`load_library` returns them.
    """
    doc, problems, _root = _load(Path(path), tuple(languages))
    return doc, [p for p in problems if not p.warning]


def load_library(paths: Iterable[Path],
                 languages: Iterable[str] = TRANSLATION_LANGUAGES) -> LoadResult:
    """Load every scenario file under ``paths`` (directories or files) and check slugs are unique.

    A directory contributes its ``*.yaml`` and ``*.yml`` files, sorted by name. When two files
    share a slug, the later one gets the problem and is left out of the result. ``languages``
    are those a ``translations:`` block may use (English is the files' own language).
    """
    languages = tuple(languages)
    scenarios: list[tuple[Path, ScenarioDoc]] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    seen_files: set[Path] = set()
    first_by_slug: dict[str, Path] = {}

    for file in _expand(paths, problems):
        key = file.resolve()
        if key in seen_files:
            continue
        seen_files.add(key)
        doc, file_problems, root = _load(file, languages)
        problems.extend(p for p in file_problems if not p.warning)
        warnings.extend(p for p in file_problems if p.warning)
        if doc is None:
            continue
        first = first_by_slug.get(doc.slug)
        if first is not None:
            problems.append(
                Problem(
                    str(file),
                    _line_of(root, ("slug",)),
                    "slug",
                    f"duplicate slug '{doc.slug}'; already used by {first}",
                )
            )
            continue
        first_by_slug[doc.slug] = file
        scenarios.append((file, doc))
    return LoadResult(scenarios=scenarios, problems=problems, warnings=warnings)


def document(doc: ScenarioDoc) -> dict[str, Any]:
    """The document as stored in a scenario version's JSON.

    A file without translations has no ``translations`` key, so its content (and hash) are
    what they were before translations existed.
    """
    data = doc.model_dump(mode="json")
    if not data.get("translations"):
        data.pop("translations", None)
    return data


def content_hash(doc: ScenarioDoc) -> str:
    """Return the SHA-256 hex digest of the document as canonical JSON (sorted keys)."""
    canonical = json.dumps(
        document(doc),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_library_dir() -> Path:
    """Return the scenario library shipped with the code: ``<repo root>/scenarios``."""
    return Path(__file__).resolve().parent.parent / "scenarios"


# --------------------------------------------------------------------------------------------
# Loading


def _expand(paths: Iterable[Path], problems: list[Problem]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                entries = sorted(path.iterdir(), key=lambda p: p.name)
            except OSError as exc:
                problems.append(Problem(str(path), 1, FILE_PATH, _os_message(exc)))
                continue
            files.extend(
                p
                for p in entries
                if p.suffix.lower() in SCENARIO_SUFFIXES
                and not p.name.startswith(".")
                and p.is_file()
            )
        else:
            files.append(path)  # a missing file is reported by _load
    return files


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or exc.__class__.__name__
    return f"cannot read the file: {reason[0].lower()}{reason[1:]}"


def _load(path: Path, languages: tuple[str, ...] = TRANSLATION_LANGUAGES
          ) -> tuple[ScenarioDoc | None, list[Problem], yaml.Node | None]:
    name = str(path)

    def file_problem(line: int, message: str) -> tuple[None, list[Problem], None]:
        return None, [Problem(name, line, FILE_PATH, message)], None

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return file_problem(1, _os_message(exc))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return file_problem(line, "the file is not UTF-8 text")

    try:
        root, data, duplicates = _parse(text)
    except yaml.MarkedYAMLError as exc:
        return file_problem(*_yaml_error(exc))
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return file_problem(line, f"not valid YAML: control character U+{char:04X} is not allowed")
    except RecursionError:
        return file_problem(1, "not valid YAML for a scenario: it is nested too deeply to read")
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        return file_problem(1, f"not valid YAML: {exc}")

    if root is None:
        return file_problem(1, "the file is empty; a scenario needs fields such as slug and title")
    if not isinstance(data, dict):
        return (
            None,
            [
                Problem(
                    name,
                    root.start_mark.line + 1,
                    FILE_PATH,
                    "the top level must be a mapping of fields (key: value), "
                    f"got {_describe(data)}",
                )
            ],
            root,
        )

    problems = [
        Problem(name, line, _format_path(loc), f"duplicate key; it also appears on line {first}")
        for loc, line, first in duplicates
    ]
    doc: ScenarioDoc | None = None
    english = {key: value for key, value in data.items() if key != "translations"}
    try:
        doc = ScenarioDoc.model_validate(english, context={"file_stem": path.stem})
    except ValidationError as exc:
        problems.extend(_problems_from(exc, name, root))
    problems.extend(
        Problem(name, _line_of(root, finding.loc), _format_path(finding.loc), finding.message,
                warning=finding.warning)
        for finding in scenario_translations.check(data, languages))
    problems.sort(key=lambda p: (p.warning, p.line, p.path))
    if doc is not None and isinstance(data.get("translations"), dict):
        doc = doc.model_copy(
            update={"translations": scenario_translations.cleaned(data["translations"])})
    failed = any(not p.warning for p in problems)
    return (doc if not failed else None), problems, root


def _parse(text: str) -> tuple[yaml.Node | None, Any, list[tuple[tuple[Any, ...], int, int]]]:
    """Compose the node tree (for line numbers) and construct the data from the same nodes."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None, []
        # Before construction: merge keys ("<<") are flattened into the nodes by the constructor.
        duplicates = _duplicate_keys(root)
        data = loader.construct_document(root)
        return root, data, duplicates
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    if exc.problem and "another document" in exc.problem:
        return line, (
            "not valid YAML for a scenario: a second document starts here ('---'); "
            "a scenario file holds exactly one"
        )
    message = f"not valid YAML: {exc.problem or 'the text cannot be read'}"
    if exc.context:
        message += f"; {exc.context}"
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            message += f" that starts on line {exc.context_mark.line + 1}"
        for opened, hint in _YAML_HINTS.items():
            if opened in exc.context:
                message += f" ({hint})"
                break
    return line, message


_YAML_HINTS = {
    "flow sequence": "is a closing ']' missing?",
    "flow mapping": "is a closing '}' missing?",
    "quoted scalar": "is a closing quote missing?",
}


def _duplicate_keys(root: yaml.Node) -> list[tuple[tuple[Any, ...], int, int]]:
    found: list[tuple[tuple[Any, ...], int, int]] = []
    visited: set[int] = set()

    def walk(node: yaml.Node, loc: tuple[Any, ...]) -> None:
        if id(node) in visited:  # aliases may point back up the tree
            return
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    line = key.start_mark.line + 1
                    if key.value in first_line:
                        found.append((loc + (key.value,), line, first_line[key.value]))
                    else:
                        first_line[key.value] = line
                    walk(value, loc + (key.value,))
                else:
                    walk(value, loc)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, loc + (index,))

    walk(root, ())
    return found


# --------------------------------------------------------------------------------------------
# Turning validation errors into problems


_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping (key: value)",
    "mapping_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def _problems_from(exc: ValidationError, file: str, root: yaml.Node) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if part != "[key]")
        ctx = error.get("ctx") or {}
        if "key" in ctx:
            loc = loc + (ctx["key"],)
        if "[key]" in error["loc"] or error["type"] == "invalid_key":
            message: str | None = "names of fields and keys must be text"
        else:
            message = _message(error, loc)
        if message is None:
            continue
        problems.append(Problem(file, _line_of(root, loc), _format_path(loc), message))
    return problems


def _message(error: Any, loc: tuple[Any, ...]) -> str | None:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        message = "unknown field"
        if allowed:
            message += "; allowed here: " + ", ".join(allowed)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            if close:
                message += f" (did you mean '{close[0]}'?)"
        return message
    if kind in _EXPECTED:
        if value is None:
            return f"has no value; expected {_EXPECTED[kind]}"
        return f"expected {_EXPECTED[kind]}, got {_describe(value)}"
    if kind == "too_short":
        if isinstance(value, list | tuple | dict) and len(value) >= ctx.get("min_length", 0):
            return None  # items were given but failed; their own errors say why
        return "must not be empty"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"has too many items (at most {ctx.get('max_length')})"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {value}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, got {value}"
    return str(error["msg"])


def _describe(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (true/false)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date | dt.datetime):
        return "a date"
    return f"a {type(value).__name__}"


def _format_path(loc: Iterable[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or FILE_PATH


def _line_of(root: yaml.Node | None, loc: Iterable[Any]) -> int:
    """Return the 1-based line of the deepest YAML node that ``loc`` reaches.

    A mapping entry is located by its key, so a block value points at the line that names it.
    """
    if root is None:
        return 1
    node: yaml.Node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = None
            for key, value in node.value:  # the last duplicate wins, as in the parsed data
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    match = (key, value)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Return the field names of the model that ``loc`` points into, following the schema."""
    annotation: Any = ScenarioDoc
    for part in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif origin in (tuple, list):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
