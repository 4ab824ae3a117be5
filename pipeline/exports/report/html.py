"""The report as a web page: ``index.html`` and its chart images in one folder.

Same sentences and tables as the PDF (:func:`report_context`), rendered by an
autoescaping Jinja environment (project titles and places come from intake forms), with
each chart's title as its alternative text. No script, no external resource.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipeline.core.files import write_atomic
from pipeline.exports.report.charts import Chart
from pipeline.exports.report.document import report_context
from pipeline.exports.report.figures import YearFigures

PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dispositif fifty-fifty : bilan {{ year }} – Commune de {{ commune }}</title>
<style>
body { font-family: "Liberation Sans", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #111; }
img { max-width: 100%; height: auto; display: block; margin: 1rem auto; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #444; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #e6e6e6; }
</style>
</head>
<body>
<h1>Dispositif fifty-fifty : bilan {{ year }}</h1>
<p>Commune de {{ commune }}. Rapport établi le {{ today }}.</p>
<h2>L'essentiel</h2>
<p>{{ headline }}</p>
<p>{{ inhabitants_sentence }}</p>
<p><small>{{ method_note }}</small></p>
<h2>1. Les projets</h2>
<p>{{ projects_sentence }}</p>
{{ img("holders") }}{{ img("themes") }}
<table><tr><th>N°</th>
  <th>Projet</th>
  <th>Porteur</th>
  <th>Thème</th>
  <th>État</th></tr>
{% for row in projects %}<tr><td>{{ row.id }}</td>
  <td>{{ row.title }}</td>
  <td>{{ row.holders }}</td>
  <td>{{ row.theme }}</td>
  <td>{{ row.status }}</td></tr>
{% endfor %}</table>
<h2>2. Ce que la commune a apporté, ce que les habitants ont apporté</h2>
{{ img("contributions") }}{{ img("total") }}
<table><tr><th>N°</th>
  <th>Commune : argent</th>
  <th>Commune : aide technique</th>
  <th>Habitants</th>
  <th>Autres</th>
  <th>Coût complet</th>
  <th>Part commune</th></tr>
{% for row in money %}<tr><td>{{ row.id }}</td>
  <td>{{ row.money }}</td>
  <td>{{ row.technical }}</td>
  <td>{{ row.inhabitants }}</td>
  <td>{{ row.other }}</td>
  <td>{{ row.full }}</td>
  <td>{{ row.share }}</td></tr>
{% endfor %}</table>
<p>{{ totals_sentence }}</p>
<h2>3. Bénévolat et participants</h2>
<p>{{ volunteers_sentence }}</p>
{{ img("hours") }}
<h2>4. Délais de signature</h2>
<p>{{ delays_sentence }}</p>
{{ img("delays") }}
<h2>5. Obligations d'entretien</h2>
<p>{{ upkeep_sentence }}</p>
<table><tr><th>N°</th>
  <th>Entretien</th>
  <th>Jusqu'au</th>
  <th>Situation</th></tr>
{% for row in upkeep %}<tr><td>{{ row.id }}</td>
  <td>{{ row.task }}</td>
  <td>{{ row.until }}</td>
  <td>{{ row.state }}</td></tr>
{% endfor %}</table>
<h2>6. Les lieux des projets</h2>
<table><tr><th>N°</th>
  <th>Projet</th>
  <th>Lieu</th>
  <th>Statut du terrain</th></tr>
{% for row in places %}<tr><td>{{ row.id }}</td>
  <td>{{ row.title }}</td>
  <td>{{ row.place }}</td>
  <td>{{ row.land }}</td></tr>
{% endfor %}</table>
</body>
</html>
"""


def write_html(folder: Path, fig: YearFigures, charts: list[Chart]) -> Path:
    """Write ``index.html`` and the chart images into ``folder``; return the page."""
    folder.mkdir(parents=True, exist_ok=True)
    by_key = {}
    for chart in charts:
        shutil.copyfile(chart.path, folder / chart.path.name)
        by_key[chart.key] = chart

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

    def img(key: str) -> Markup:
        chart = by_key[key]
        return Markup('<img src="{}" alt="{}">').format(
            chart.path.name, chart.title)

    env.globals["img"] = img
    page = env.from_string(PAGE).render(report_context(fig, {}))
    return write_atomic(folder / "index.html", page.encode("utf-8")).path


__all__ = ["write_html"]
