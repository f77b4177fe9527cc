"""Stage 6, dashboard generation: one self-contained HTML file, its charts drawn as inline SVG (no scripts, no
network), so it opens anywhere and can be mailed as it is."""
import html
import os

from common import OUTPUTS, config, read_json

settings, analysis = config(), read_json(os.path.join(OUTPUTS, "analysis.json"))
validation, processing = read_json(os.path.join(OUTPUTS, "validation.json")), read_json(os.path.join(OUTPUTS, "processing.json"))
target = settings["target_column"]
WIDTH, HEIGHT, PAD = 560, 240, 64


def esc(value):
    return html.escape(str(value))


def line_chart(points, title):
    if not points:
        return ""
    values = [v for _, v in points]
    low, high = min(0, min(values)), max(values) or 1
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    xy = [(PAD + i * step, HEIGHT - PAD - (v - low) / (high - low) * (HEIGHT - 2 * PAD)) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy))
    marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{esc(label)}: {value:,.0f}</title></circle>'
                    for (x, y), (label, value) in zip(xy, points))
    labels = "".join(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle">{esc(label[-2:] if len(points) > 6 else label)}</text>'
                     for (x, _), (label, _) in zip(xy, points))
    return (f'<figure><figcaption>{esc(title)}</figcaption><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(title)}">'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
            f'<text x="{PAD - 6}" y="{PAD}" text-anchor="end">{high:,.0f}</text><text x="{PAD - 6}" y="{HEIGHT - PAD}" text-anchor="end">{low:,.0f}</text>'
            f'<path d="{path}" class="line"/>{marks}{labels}</svg></figure>')


def bar_chart(pairs, title, signed=False):
    pairs = [(label, value) for label, value in pairs if value is not None][:12]
    if not pairs:
        return ""
    row, left = 24, 150
    height = row * len(pairs) + 16
    largest = max(abs(v) for _, v in pairs) or 1
    zero = left + ((WIDTH - left - 60) / 2 if signed else 0)
    scale = (WIDTH - left - 60) / (2 if signed else 1) / largest
    bars = ""
    for i, (label, value) in enumerate(pairs):
        y, length = 8 + i * row, abs(value) * scale
        x = zero - length if value < 0 else zero
        end, anchor = (x + length + 4, "start") if value >= 0 else (x - 4, "end")
        bars += (f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{esc(label)}</text>'
                 f'<rect x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="{row - 8}" class="{"negative" if value < 0 else "bar"}">'
                 f'<title>{esc(label)}: {value:,.3f}</title></rect>'
                 f'<text x="{end:.1f}" y="{y + 14}" text-anchor="{anchor}">{f"{value:+.2f}" if signed else f"{value:,.0f}"}</text>')
    return (f'<figure><figcaption>{esc(title)}</figcaption><svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{esc(title)}">'
            f'{bars}</svg></figure>')


stats = analysis["statistics"]
total = sum(analysis["monthly"].values())
cards = [("rows analysed", f"{processing['kept']:,}"), (f"total {target}", f"{total:,.0f}"),
         (f"mean {target}", f"{stats.get(target, {}).get('mean', 0):,.2f}"), ("months", len(analysis["monthly"])),
         ("trend a month", f"{analysis['trend_per_month']:+,.0f}")]
charts = [line_chart(list(analysis["monthly"].items()), f"{target} by month"),
          bar_chart(sorted(analysis["correlations"].items(), key=lambda item: -abs(item[1] or 0)), f"correlation with {target}", signed=True)]
charts += [bar_chart(sorted(totals.items(), key=lambda item: -item[1]), f"{target} by {column}")
           for column, totals in analysis["categories"].items()]
table = "".join(f"<tr><th>{esc(c)}</th><td>{s['count']:,}</td>" + "".join(f"<td>{s[k]:,.2f}</td>" for k in ("mean", "std", "min", "median", "max"))
                + "</tr>" for c, s in stats.items())
page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(settings['business_context'].title())} dashboard: {esc(settings['data_source'])}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2733; background: #f4f6f8; }}
header {{ background: #1d3557; color: #fff; padding: 18px 28px; }} header h1 {{ margin: 0; font-size: 22px; }}
header p {{ margin: 4px 0 0; opacity: .8; }} main {{ padding: 20px 28px; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }}
.card {{ background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; }}
.card b {{ display: block; font-size: 22px; }} .card span {{ color: #5b6b7b; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin-top: 16px; align-items: start; }}
figure {{ background: #fff; border-radius: 8px; margin: 0; padding: 12px; box-shadow: 0 1px 2px #0002; }}
figcaption {{ font-weight: 600; margin-bottom: 6px; }} svg {{ width: 100%; height: auto; font-size: 11px; fill: #1d2733; }}
.line {{ fill: none; stroke: #e63946; stroke-width: 2.5; }} circle {{ fill: #e63946; }} .axis {{ stroke: #9aa5b1; }}
.bar {{ fill: #457b9d; }} .negative {{ fill: #e63946; }}
section {{ background: #fff; border-radius: 8px; padding: 12px 16px; margin-top: 16px; box-shadow: 0 1px 2px #0002; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: right; padding: 4px 8px; border-bottom: 1px solid #e3e8ee; }}
th:first-child {{ text-align: left; }}
</style></head><body>
<header><h1>{esc(settings['business_context'].title())} dashboard</h1>
<p>{esc(settings['data_source'])} · target {esc(target)} · time {esc(settings['time_column'])} · run {esc(settings['run_id'])}</p></header>
<main>
<div class="cards">{"".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in cards)}</div>
<section><h2>Insights</h2><ul>{"".join(f"<li>{esc(i)}</li>" for i in analysis["insights"])}</ul>
{"".join(f"<p>⚠ {esc(w)}</p>" for w in validation["warnings"])}</section>
<div class="charts">{"".join(charts)}</div>
<section><h2>Descriptive statistics</h2><table><tr><th>column</th><th>count</th><th>mean</th><th>std</th><th>min</th><th>median</th><th>max</th></tr>{table}</table></section>
</main></body></html>
"""
with open(os.path.join(OUTPUTS, "dashboard.html.tmp"), "w") as handle:
    handle.write(page)
os.replace(os.path.join(OUTPUTS, "dashboard.html.tmp"), os.path.join(OUTPUTS, "dashboard.html"))
print(f"dashboard.html: {len(page):,} bytes, {len(charts)} charts")
