"""``report.html``: one self-contained page about a texture map.

The page needs nothing but itself: plotly.js is inlined (no CDN, no network), and each
image's thumbnail is embedded as a PNG data URI. It shows

* the 2-D map (the first two MDS coordinates; a strip for a 1-D map), coloured by
  folder, by map/placed, or by any column of a labels file, with the image under the
  mouse shown beside it;
* for a labels file: one plain-language line per column, the R² of a linear model
  (Eq. 13) at each dimension D* and the angles between regression directions (Eq. 14);
* Kruskal's stress (Eq. 8) at each D*;
* the files that were skipped, with the reason, and the run's settings.
"""

import html
import json
import math
from pathlib import PurePath

__all__ = ["render_report", "write_report"]

# A colour-blind-safe qualitative palette (Okabe & Ito), then Plotly's defaults.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
            "#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
_NO_VALUE = "#b0b0b0"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.map-row { display: flex; gap: 1em; align-items: flex-start; }
.map-plot { flex: 1 1 auto; min-width: 0; }
#hover-panel { order: 2; flex: 0 0 220px; border: 1px solid #ddd; padding: 8px; min-height: 240px;
               font-size: 0.85em; word-break: break-all; }
#hover-thumbnail { width: 200px; height: 200px; object-fit: contain;
                   image-rendering: pixelated; background: #f4f4f4; display: block; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; }
.note { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 0.8em; }
"""

# Runs after Plotly.newPlot ({plot_id} is the map's div): the image under the mouse.
_HOVER_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var plot = document.getElementById("{plot_id}");
  plot.on("plotly_hover", function (event) {
    var image = document.getElementById("hover-thumbnail");
    var name = document.getElementById("hover-name");
    var index = event.points[0].customdata;
    image.src = data.thumbnails[index];
    image.alt = data.names[index];
    image.setAttribute("data-index", String(index));
    name.textContent = data.names[index] + " (" + data.roles[index] + ")";
  });
})();
"""


def _json_for_script(value):
    """JSON that cannot end the ``<script>`` element it is written into."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def _folder(name):
    parent = str(PurePath(name.replace("\\", "/")).parent)
    return parent if parent not in ("", ".") else "(current folder)"


def _colour_options(names, roles, labels):
    """``[(title, kind, values)]``: folder, map/placed (if any placed), label columns."""
    options = [("folder", "category", [_folder(n) for n in names])]
    if "placed" in roles:
        options.append(("map / placed", "category", list(roles)))
    for column, values in (labels or {}).items():
        options.append((column, "number", [float(v) for v in values]))
    return options


def _map_figure(coordinates, names, roles, labels, colour_by):
    import plotly.graph_objects as go

    n = len(names)
    x = [float(point[0]) for point in coordinates]
    one_d = len(coordinates[0]) == 1
    y = [0.0] * n if one_d else [float(point[1]) for point in coordinates]
    symbols = ["diamond" if role == "placed" else "circle" for role in roles]
    options = _colour_options(names, roles, labels)
    default = next((i for i, (title, _, _) in enumerate(options) if title == colour_by), 0)
    traces, owners = [], []

    def trace(members, option, **marker):
        return go.Scatter(  # SVG points (not WebGL): they render and hover anywhere
            x=[x[i] for i in members], y=[y[i] for i in members],
            customdata=list(members), hovertext=[names[i] for i in members],
            mode="markers", visible=option == default,
            hovertemplate="%{hovertext}<br>MDS 1 = %{x:.4g}"
            + ("" if one_d else "<br>MDS 2 = %{y:.4g}") + "<extra>%{fullData.name}</extra>",
            marker={"size": 10, "symbol": [symbols[i] for i in members],
                    "line": {"width": 0.6, "color": "#333"}, **marker},
        )

    for option, (title, kind, values) in enumerate(options):
        if kind == "category":
            for k, category in enumerate(dict.fromkeys(values)):
                members = [i for i in range(n) if values[i] == category]
                item = trace(members, option, color=_PALETTE[k % len(_PALETTE)])
                item.name = str(category)
                traces.append(item)
                owners.append(option)
            continue
        known = [i for i in range(n) if math.isfinite(values[i])]
        unknown = [i for i in range(n) if not math.isfinite(values[i])]
        if known:
            item = trace(known, option, color=[values[i] for i in known],
                         colorscale="Viridis", showscale=True,
                         colorbar={"title": {"text": title}})
            item.name = title
            item.showlegend = False
            traces.append(item)
            owners.append(option)
        if unknown:
            item = trace(unknown, option, color=_NO_VALUE)
            item.name = f"{title}: no value"
            traces.append(item)
            owners.append(option)
    figure = go.Figure(traces)
    buttons = [{"label": title, "method": "update",
                "args": [{"visible": [owner == option for owner in owners]}]}
               for option, (title, _, _) in enumerate(options)]
    figure.update_layout(
        margin={"l": 60, "r": 20, "t": 70, "b": 50}, hovermode="closest",
        template="plotly_white", legend={"title": {"text": ""}},
        updatemenus=[{"buttons": buttons, "active": default, "x": 0, "xanchor": "left",
                      "y": 1.12, "yanchor": "top", "direction": "down", "pad": {"l": 80}}],
        annotations=[{"text": "colour by:", "x": 0, "xref": "paper", "y": 1.09,
                      "yref": "paper", "xanchor": "left", "yanchor": "middle",
                      "showarrow": False}],
    )
    figure.update_xaxes(title_text="MDS 1", zeroline=False)
    if one_d:
        figure.update_yaxes(visible=False, range=[-1, 1])
    else:
        figure.update_yaxes(title_text="MDS 2", zeroline=False, scaleanchor="x",
                            scaleratio=1)
    return figure


def _stress_figure(dimensions, stress):
    import plotly.graph_objects as go

    figure = go.Figure(go.Scatter(x=list(dimensions), y=list(stress), mode="lines+markers",
                                  hovertemplate="D* = %{x}<br>stress = %{y:.4f}"
                                  "<extra></extra>"))
    figure.update_layout(margin={"l": 60, "r": 20, "t": 20, "b": 50}, height=300,
                         template="plotly_white")
    figure.update_xaxes(title_text="D* (dimensions of the map)", dtick=1)
    figure.update_yaxes(title_text="Kruskal stress (Eq. 8)", rangemode="tozero")
    return figure


def _number(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _table(header, rows, *, text_columns=()):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="text">{html.escape(str(cell))}</td>' if k in text_columns
            else f"<td>{html.escape(str(cell))}</td>" for k, cell in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _parameters_section(analysis_rows, columns, lines, notes, counts):
    if not columns:
        return ('<section id="parameters"><h2>Your parameters (Table I)</h2>'
                '<p class="note">Run with <code>--labels params.csv</code> (a '
                '<code>file</code> column and numeric columns) to see how much of each '
                "parameter the map explains.</p></section>")
    parts = ['<section id="parameters"><h2>Your parameters (Table I)</h2><ul>']
    parts += [f"<li>{html.escape(line)}</li>" for line in lines]
    parts.append("</ul>")
    header = ["D*", *(f"R² {c} (n={counts.get(c, 0)})" for c in columns)]
    rows = [[row["D*"], *(_number(row[f"R2_{c}"]) for c in columns)] for row in analysis_rows]
    parts.append("<h3>R² of a linear model of each parameter (Eq. 13)</h3>")
    parts.append(_table(header, rows))
    pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i + 1:]]
    if pairs:
        parts.append("<h3>Angle between regression directions (Eq. 14), degrees</h3>")
        header = ["D*", *(f"{a} vs {b}" for a, b in pairs)]
        rows = [[row["D*"], *(_number(row[f"angle_{a}_{b}"], 1) for a, b in pairs)]
                for row in analysis_rows]
        parts.append(_table(header, rows))
        parts.append('<p class="note">90° means the two parameters change the textures '
                     "in independent directions; near 0° or 180°, along the same one.</p>")
    if notes:
        parts.append('<p class="note">Undefined values: ' + "; ".join(
            html.escape(f"{key}: {why}") for key, why in notes.items()) + ".</p>")
    parts.append('<p class="note">R² is the fraction of a parameter\'s variance that a '
                 "linear function of the D* map coordinates explains (the paper's Table I). "
                 "Even random numbers reach about D*/(n-1) by chance, so compare with that; "
                 "a parameter can also show non-linearly, which R² does not measure.</p>"
                 "</section>")
    return "".join(parts)


def render_report(*, names, coordinates, thumbnails, roles=None, labels=None,
                  dimensions=(), stress=(), analysis_rows=(), lines=(), notes=None,
                  counts=None, skipped=(), settings=None, title="Texture map"):
    """The report page as one string of HTML.

    Parameters
    ----------
    names : list of str
        The images' names.
    coordinates : array-like of shape (n_images, n_components)
        Their map coordinates; the first two are drawn (one: a strip).
    thumbnails : list of str
        A PNG data URI of each image.
    roles : list of str or None, default=None
        ``"map"`` or ``"placed"`` per image (placed ones are drawn as diamonds);
        None: all ``"map"``.
    labels : dict of str to sequence of float or None, default=None
        Parameters to colour by (NaN: no value); the first colours the map at first.
    dimensions : sequence of int, default=()
        The D* of ``stress`` and ``analysis_rows``.
    stress : sequence of float, default=()
        Kruskal's stress at each D*.
    analysis_rows : sequence of dict, default=()
        Rows of ``r2.csv`` (``D*``, ``R2_<column>``, ``angle_<a>_<b>``).
    lines : sequence of str, default=()
        A plain-language sentence per labels column.
    notes : dict of str to str or None, default=None
        Why values are undefined.
    counts : dict of str to int or None, default=None
        Images with a value, per labels column.
    skipped : sequence of (str, str), default=()
        Files that were not used, with the reason.
    settings : dict or None, default=None
        The run's settings, shown at the end.
    title : str, default="Texture map"
        The page's title.

    Returns
    -------
    page : str
    """
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    names = [str(name) for name in names]
    roles = list(roles) if roles is not None else ["map"] * len(names)
    coordinates = [list(map(float, point)) for point in coordinates]
    if not (len(names) == len(coordinates) == len(thumbnails) == len(roles)):
        raise ValueError(f"names, coordinates, thumbnails and roles must describe the same "
                         f"images; got {len(names)}, {len(coordinates)}, {len(thumbnails)} "
                         f"and {len(roles)}.")
    columns = list(labels or {})
    colour_by = columns[0] if columns else "map / placed" if "placed" in roles else "folder"
    config = {"displaylogo": False, "responsive": True}
    map_html = pio.to_html(
        _map_figure(coordinates, names, roles, labels, colour_by), config=config,
        include_plotlyjs=False, full_html=False, div_id="map", default_height="600px",
        post_script=_HOVER_SCRIPT)
    n_map, n_placed = roles.count("map"), roles.count("placed")
    dims = len(coordinates[0]) if coordinates else 0
    summary = f"{n_map} images mapped in {dims} dimension{'s' if dims != 1 else ''}"
    if n_placed:
        summary += f", {n_placed} placed on the map afterwards (diamonds)"
    settings = settings or {}
    method = {"cnn": "CNN Gram matrices (Eq. 1–4)", "ps": "power spectra (Eq. 5–7)"}.get(
        settings.get("method"), settings.get("method", "?"))
    shown = "MDS 1 and 2" if dims > 2 else "the map" if dims == 2 else "MDS 1 (a strip)"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>',
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(summary)}; texture vectors: {html.escape(method)}"
        + (f", weights {html.escape(str(settings['weights']))}"
           if settings.get("method") == "cnn" and "weights" in settings else "")
        + ".</p>",
        '<section id="map-section"><h2>Map</h2>',
        f'<p class="note">Showing {shown}. Nearby points have similar textures. Hover a '
        "point to see its image; choose the colouring with “colour by”; drag to zoom, "
        "double-click to zoom out.</p>",
        # before the map: its hover script reads this when the map is drawn
        '<script type="application/json" id="report-data">'
        + _json_for_script({"names": names, "thumbnails": list(thumbnails), "roles": roles})
        + "</script>",
        # the panel first (shown on the right), so that the map is drawn at its width
        '<div class="map-row"><aside id="hover-panel"><img id="hover-thumbnail" alt="">'
        '<div id="hover-name">Hover a point to see its image.</div></aside>',
        '<div class="map-plot">', map_html, "</div></div></section>",
        _parameters_section(list(analysis_rows), columns, list(lines), notes or {},
                            counts or {}),
    ]
    if len(dimensions):
        parts += [
            '<section id="stress"><h2>Stress per dimension D*</h2>',
            '<p class="note">Kruskal\'s stress (Eq. 8): how far the distances in a D*-'
            "dimensional map are from the texture distances (0 = exact). Where it stops "
            "falling, more dimensions add little.</p>",
            pio.to_html(_stress_figure(dimensions, stress), config=config,
                        include_plotlyjs=False, full_html=False, div_id="stress-plot",
                        default_height="300px"),
            _table(["D*", "stress"], [[d, _number(s, 4)] for d, s in
                                      zip(dimensions, stress, strict=True)]),
            "</section>",
        ]
    parts.append('<section id="skipped"><h2>Skipped files</h2>')
    if skipped:
        parts.append(_table(["file", "reason"], [list(item) for item in skipped],
                            text_columns=(0, 1)))
    else:
        parts.append("<p>None: every file found was used.</p>")
    parts += [
        "</section>", '<section id="settings"><h2>Settings</h2>',
        f"<pre>{html.escape(json.dumps(settings, indent=2, default=str))}</pre></section>",
        "</body></html>", "",
    ]
    return "\n".join(parts)


def write_report(path, **content):
    """Write :func:`render_report` to ``path`` (UTF-8).

    Parameters
    ----------
    path : str or path-like
        The HTML file to write.
    **content
        The keyword arguments of :func:`render_report`.
    """
    page = render_report(**content)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
