"""Everything held about a learner (their data export) as a readable PDF.

Takes the plain export of ``services.privacy.export`` and the translated section names; each
record is a small two-column table of field and value, so nothing in the export is left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from simdebrief.reports import parts
from simdebrief.reports.styles import SMALL, ReportDocument, heading


@dataclass(frozen=True)
class MyDataWording:
    title: str
    intro: str
    empty: str
    page_of: str
    #: Section key of the export -> its heading.
    sections: dict[str, str]


def _value_text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {_value_text(item)}"
                         for key, item in sorted(value.items())) or "–"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _record(record: dict) -> list:
    return parts.facts([(key.replace("_", " "), _value_text(value))
                        for key, value in record.items()])


def render_my_data_pdf(export: dict, wording: MyDataWording, *, learner: str,
                       centre: str, language: str) -> bytes:
    story: list = []
    story += parts.cover(wording.title, learner, [])
    story += parts.para(wording.intro)
    story += parts.para(export["exported_at"], SMALL)
    for key, title in wording.sections.items():
        content = export.get(key)
        story.append(heading(title, key))
        if isinstance(content, dict):
            story += _record(content)
        elif not content:
            story += parts.para(wording.empty)
        else:
            for record in content:
                story += _record(record)

    def build(buffer) -> None:
        ReportDocument(buffer, title=wording.title, author=centre, subject=wording.title,
                       lang=language, header_left=f"SimDebrief · {centre}",
                       header_right=wording.title, footer_left=learner,
                       page_of=wording.page_of).render(story)

    return parts.to_bytes(build)
