"""The baseline of ``bench_web.py``: a bare Flask page rendering a 50-row Jinja list, served
by gunicorn with the same settings as SimDebrief. No database, no login, no layout."""

from flask import Flask, render_template_string

app = Flask(__name__)

ROWS = [{"when": f"2026-11-{day % 28 + 1:02d} 09:00", "title": f"Scenario {day}",
         "room": f"Room {day % 4}", "people": day % 9} for day in range(50)]
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sessions</title>
</head><body><h1>Sessions</h1><table><thead><tr><th>When</th><th>Scenario</th><th>Room</th>
<th>Participants</th></tr></thead><tbody>{% for row in rows %}<tr><td>{{ row.when }}</td>
<td><a href="/sessions/{{ loop.index }}">{{ row.title }}</a></td><td>{{ row.room }}</td>
<td>{{ row.people }}</td></tr>{% endfor %}</tbody></table></body></html>"""


@app.get("/")
def page():
    return render_template_string(PAGE, rows=ROWS)
