// Haetae console, the Reports page: draws each chart (vendored Chart.js) and fills its table
// view from /reports/data/*.json, which answers what /api/v1/metrics answers, from the same
// query. Every word comes from the page (data-words), in the reader's language. The CSV links
// are plain links to the server, which builds them from that same query.
(function () {
  "use strict";
  var root = document.getElementById("reports");
  if (!root) return;
  var words = JSON.parse(root.dataset.words);
  var query = root.dataset.query;
  var message = document.getElementById("reports-message");
  var COLORS = {
    mean: "#2f5fb3",
    median: "#2b8a3e",
    p90: "#d9480f",
    target: "#b3261e",
    count: "#2f5fb3",
    canceled: "#868e96",
    box: "rgba(47, 95, 179, 0.35)",
  };

  function format(pattern, values) {
    return pattern.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === null || values[key] === undefined ? "" : String(values[key]);
    });
  }

  // As the CSV writes them: durations in minutes with 2 decimals, shares in percent.
  function minutes(seconds) {
    return seconds === null || seconds === undefined ? null : Math.round(seconds / 0.6) / 100;
  }

  function percent(share) {
    return share === null || share === undefined ? null : Math.round(share * 10000) / 100;
  }

  function short(value) {
    return value >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  }

  // A duration read at a glance: minutes, or hours and days when long.
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var m = seconds / 60;
    if (m < 120) return format(words.min, { n: short(m) });
    if (m < 48 * 60) return format(words.h, { n: short(m / 60) });
    return format(words.d, { n: short(m / 1440) });
  }

  function cell(value, text, hint) {
    return { value: value, text: text, hint: hint || "" };
  }

  function durationCell(seconds) {
    var shown = minutes(seconds);
    var long = seconds !== null && seconds !== undefined && seconds >= 7200;
    return cell(seconds, shown === null ? "" : String(shown), long ? duration(seconds) : "");
  }

  // The table view: one row per entry, its cells in the order of the heading's data-key.
  function fill(figure, rows) {
    var table = figure.querySelector(".chart-table table");
    var keys = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.dataset.key;
    });
    var body = table.querySelector("tbody");
    body.textContent = "";
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      keys.forEach(function (key) {
        var td = document.createElement("td");
        var c = row[key] || cell(null, "");
        td.dataset.key = key;
        td.dataset.value = c.value === null || c.value === undefined ? "" : String(c.value);
        td.textContent = c.text;
        if (c.hint) {
          var hint = document.createElement("span");
          hint.className = "hint";
          hint.textContent = " (" + c.hint + ")";
          td.appendChild(hint);
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  // The y axis reads in minutes, hours or days, whichever suits the chart's largest value;
  // the points are given in minutes (as the table and the CSV) and scaled here.
  function durationAxis(datasets) {
    var largest = 0;
    datasets.forEach(function (d) {
      d.data.forEach(function (v) {
        [].concat(v).forEach(function (x) {
          if (x !== null && x !== undefined && x > largest) largest = x;
        });
      });
    });
    var unit = largest >= 48 * 60 ? 1440 : largest >= 120 ? 60 : 1;
    return {
      beginAtZero: true,
      title: { display: true, text: unit === 1440 ? words.days : unit === 60 ? words.hours : words.minutes },
      ticks: {
        callback: function (value) {
          return short(value / unit);
        },
      },
      afterBuildTicks: function (axis) {
        // Ticks on whole units (or halves): 0, 0.5, 1 ... hours rather than 0, 20, 40 minutes.
        if (unit === 1) return;
        var top = axis.max / unit;
        var step = [0.5, 1, 2, 5, 10, 20, 50, 100].find(function (s) {
          return top / s <= 8;
        }) || 100;
        var ticks = [];
        for (var v = 0; v <= top + 1e-9; v += step) ticks.push({ value: v * unit });
        axis.ticks = ticks;
      },
    };
  }

  function durationTooltip(context) {
    var y = context.parsed.y;
    if (Array.isArray(context.raw)) {
      return context.dataset.label + ": " + duration(context.raw[0] * 60) + " – " +
        duration(context.raw[1] * 60);
    }
    return context.dataset.label + ": " + duration(y === null ? null : y * 60);
  }

  function draw(figure, config) {
    var canvas = figure.querySelector("canvas");
    var previous = window.Chart.getChart(canvas);
    if (previous) previous.destroy();
    config.options = Object.assign(
      {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
      },
      config.options || {}
    );
    figure.dataset.drawn = "true";
    return new window.Chart(canvas, config);
  }

  function line(label, data, color, extra) {
    return Object.assign(
      {
        type: "line",
        label: label,
        data: data,
        borderColor: color,
        backgroundColor: color,
        spanGaps: false,
        tension: 0,
        pointRadius: 3,
      },
      extra || {}
    );
  }

  function drawTrend(figure, report) {
    var key = figure.dataset.figure;
    var targets = JSON.parse(figure.dataset.targets || "[]");
    var stats = report.groups.map(function (g) {
      return g.figures[key];
    });
    var pick = function (name) {
      return stats.map(function (s) {
        return minutes(s[name]);
      });
    };
    var datasets = [
      line(words.mean, pick("mean"), COLORS.mean),
      line(words.median, pick("median"), COLORS.median),
      line(words.p90, pick("p90"), COLORS.p90),
    ];
    targets.forEach(function (t) {
      datasets.push(
        line(
          format(words.target, { scope: t.scope }),
          stats.map(function () {
            return minutes(t.seconds);
          }),
          COLORS.target,
          { borderDash: [6, 4], pointRadius: 0, borderWidth: 1 }
        )
      );
    });
    draw(figure, {
      type: "line",
      data: { labels: report.groups.map(label), datasets: datasets },
      options: {
        scales: { y: durationAxis(datasets) },
        plugins: { tooltip: { callbacks: { label: durationTooltip } } },
      },
    });
    fill(
      figure,
      report.groups.map(function (g) {
        var s = g.figures[key];
        var row = {
          label: cell(g.label, g.label),
          n: cell(s.n, String(s.n)),
          mean: durationCell(s.mean),
          median: durationCell(s.median),
          p90: durationCell(s.p90),
        };
        targets.forEach(function (t) {
          row["target:" + t.scope] = durationCell(t.seconds);
        });
        return row;
      })
    );
  }

  function label(group) {
    return group.label;
  }

  function drawDistribution(figure, answer) {
    var rows = answer.severities;
    var mark = function (name) {
      return rows.map(function (d) {
        return minutes(d[name]);
      });
    };
    var datasets = [
      {
        type: "bar",
        label: words.q1q3,
        data: rows.map(function (d) {
          return d.q1 === null ? null : [minutes(d.q1), minutes(d.q3)];
        }),
        backgroundColor: COLORS.box,
        borderColor: COLORS.mean,
        borderWidth: 1,
        minBarLength: 3,
      },
      line(words.median, mark("median"), COLORS.median, {
        showLine: false,
        pointStyle: "line",
        pointRadius: 14,
        borderWidth: 3,
      }),
      line(words.p90, mark("p90"), COLORS.p90, {
        showLine: false,
        pointStyle: "triangle",
        pointRadius: 6,
      }),
    ];
    draw(figure, {
      type: "bar",
      data: { labels: rows.map(label), datasets: datasets },
      options: {
        scales: { y: durationAxis(datasets) },
        plugins: { tooltip: { callbacks: { label: durationTooltip } } },
      },
    });
    fill(
      figure,
      rows.map(function (d) {
        var row = { label: cell(d.label, d.label), n: cell(d.n, String(d.n)) };
        ["min", "q1", "median", "q3", "p90", "max"].forEach(function (k) {
          row[k] = durationCell(d[k]);
        });
        return row;
      })
    );
  }

  function drawCounts(figure, report) {
    var counted = report.groups.map(function (g) {
      return g.figures.count;
    });
    var canceled = report.groups.map(function (g) {
      return g.figures.canceled;
    });
    draw(figure, {
      type: "bar",
      data: {
        labels: report.groups.map(label),
        datasets: [
          { label: words.count, data: counted, backgroundColor: COLORS.count },
          { label: words.canceled, data: canceled, backgroundColor: COLORS.canceled },
        ],
      },
      options: {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: words.incidents } },
        },
      },
    });
    fill(
      figure,
      report.groups.map(function (g) {
        return {
          label: cell(g.label, g.label),
          count: cell(g.figures.count, String(g.figures.count)),
          canceled: cell(g.figures.canceled, String(g.figures.canceled)),
        };
      })
    );
  }

  function verdict(met) {
    return met === null || met === undefined ? words.unmeasured : met ? words.met : words.missed;
  }

  function scope(value) {
    return value === "all" ? words.all : value;
  }

  function showTargets(report) {
    var figure = root.querySelector('[data-chart="targets"]');
    fill(
      figure,
      report.targets.map(function (t) {
        var share = t.figure === "recurrence_rate";
        var value = function (v) {
          if (!share) return durationCell(v);
          var p = percent(v);
          return cell(v, p === null ? "" : String(p));
        };
        var row = {
          scope: cell(t.scope, scope(t.scope)),
          figure: cell(t.figure, words.figures[t.figure] || t.figure),
          unit: cell(share ? "%" : "min", share ? "%" : "min"),
          target: value(t.target),
          actual: value(t.actual),
          median: value(t.median),
          p90: value(t.p90),
          met: cell(t.met, verdict(t.met)),
        };
        return row;
      })
    );
    figure.querySelector("details").open = true;
    figure.querySelectorAll("td[data-key=met]").forEach(function (td) {
      td.classList.add(td.dataset.value === "true" ? "met" : td.dataset.value === "false" ? "missed" : "unmeasured");
    });

    var mtbf = document.querySelector("#report-mtbf tbody");
    mtbf.textContent = "";
    report.mtbf.forEach(function (m) {
      var tr = document.createElement("tr");
      [scope(m.scope), String(m.incidents), duration(m.seconds)].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      mtbf.appendChild(tr);
    });

    var r = report.recurrence;
    var facts = {
      count: String(r.count),
      marked: String(r.marked),
      matched: String(r.matched),
      rate: r.rate === null ? "—" : percent(r.rate) + "%",
      target: percent(r.target) + "%",
      met: verdict(r.met),
    };
    document.querySelectorAll("#report-recurrence dd").forEach(function (dd) {
      dd.textContent = facts[dd.dataset.key];
    });

    var totals = report.totals;
    document.getElementById("reports-summary").textContent = totals.count + totals.canceled
      ? format(words.summary, {
          count: totals.count,
          canceled: totals.canceled,
          drills: report.drills,
        })
      : words.empty;
  }

  function get(path) {
    return fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(path + ": " + response.status);
        return response.json();
      });
  }

  function failed(error) {
    message.textContent = words.failed;
    message.hidden = false;
    root.dataset.state = "failed";
    if (window.console) window.console.error(error);
  }

  var figureSelect = document.querySelector("#report-figure select[name=figure]");
  if (figureSelect) {
    figureSelect.addEventListener("change", function () {
      figureSelect.form.submit();
    });
  }

  if (!window.Chart) {
    failed(new Error("Chart.js did not load"));
    return;
  }
  window.Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;

  var distribution = root.querySelector('[data-chart="distribution"]');
  root.setAttribute("aria-busy", "true");
  Promise.all([
    get("/reports/data/metrics.json?" + query + "&group_by=" + root.dataset.group).then(
      function (report) {
        root.querySelectorAll('[data-chart="trend"]').forEach(function (figure) {
          drawTrend(figure, report);
        });
        showTargets(report);
      }
    ),
    get(
      "/reports/data/distribution.json?" + query + "&figure=" + distribution.dataset.figure
    ).then(function (answer) {
      drawDistribution(distribution, answer);
    }),
    get("/reports/data/metrics.json?" + query + "&group_by=category").then(function (report) {
      drawCounts(root.querySelector('[data-chart="category"]'), report);
    }),
    get("/reports/data/metrics.json?" + query + "&group_by=service").then(function (report) {
      drawCounts(root.querySelector('[data-chart="service"]'), report);
    }),
  ])
    .then(function () {
      root.dataset.state = "ready";
    })
    .catch(failed)
    .then(function () {
      root.removeAttribute("aria-busy");
    });
})();
