// Grouping rows into sweeps, the best point, and the sweep plots (sweeps.h).
#include "report/sweeps.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace sagbench::report {
namespace {

constexpr const char* kMeasuredColor = "#1f77b4";
constexpr const char* kRecallColor = "#ff7f0e";
constexpr const char* kPaperColor = "#7f7f7f";

// (x, value) of every row of the sweep that has `metric` in `values_of`.
template <class ValuesOf>
std::vector<std::pair<double, double>> points(const Sweep& sweep, const std::vector<RunRow>& rows,
                                              const std::vector<double>& xs, Metric metric,
                                              ValuesOf values_of) {
  std::vector<std::pair<double, double>> out;
  for (std::size_t i = 0; i < sweep.rows.size(); ++i) {
    if (const std::optional<double>& v = values_of(rows[sweep.rows[i]])[metric]) {
      out.emplace_back(xs[i], *v);
    }
  }
  return out;
}

// The measured series of `metric` and, when the paper gives any, its published one.
void add_series(Panel& panel, const Sweep& sweep, const std::vector<RunRow>& rows,
                const std::vector<double>& xs, Metric metric, const std::string& label,
                const std::string& color, const std::string& paper_color, Marker marker) {
  Series measured{
      label, color, marker, false,
      points(sweep, rows, xs, metric, [](const RunRow& r) -> const MetricValues& { return r.metrics; })};
  Series paper{
      label + " (paper)", paper_color, marker, true,
      points(sweep, rows, xs, metric, [](const RunRow& r) -> const MetricValues& { return r.published; })};
  if (!measured.points.empty()) {
    panel.series.push_back(std::move(measured));
  }
  if (!paper.points.empty()) {
    panel.series.push_back(std::move(paper));
  }
}

bool any_measured(const Sweep& sweep, const std::vector<RunRow>& rows, Metric metric) {
  return std::any_of(sweep.rows.begin(), sweep.rows.end(),
                     [&](std::size_t i) { return rows[i].metrics[metric].has_value(); });
}

}  // namespace

std::string file_name_part(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "{}") == 0) {
      ++i;
      continue;
    }
    const char c = text[i];
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-' || c == '_';
    out += plain ? c : '_';
  }
  const std::size_t first = out.find_first_not_of('_');
  if (first == std::string::npos) {
    return "";
  }
  return out.substr(first, out.find_last_not_of('_') - first + 1);
}

std::vector<Sweep> find_sweeps(const std::vector<RunRow>& rows) {
  std::vector<Sweep> sweeps;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RunRow& row = rows[i];
    if (!row.is_sweep()) {
      continue;
    }
    const auto [it, inserted] = index.emplace(std::pair{row.experiment, row.sweep_name}, sweeps.size());
    if (inserted) {
      Sweep sweep;
      sweep.experiment = row.experiment;
      sweep.name = row.sweep_name;
      sweep.key = row.sweep_key;
      sweeps.push_back(std::move(sweep));
    }
    sweeps[it->second].rows.push_back(i);
  }
  std::set<std::string> used_files;
  for (Sweep& sweep : sweeps) {
    auto order = [&](std::size_t i) {
      const RunRow& r = rows[i];
      return std::make_tuple(!r.sweep_number.has_value(), r.sweep_number.value_or(0.0), r.sweep_value);
    };
    std::stable_sort(sweep.rows.begin(), sweep.rows.end(),
                     [&](std::size_t a, std::size_t b) { return order(a) < order(b); });
    sweep.numeric = std::all_of(sweep.rows.begin(), sweep.rows.end(),
                                [&](std::size_t i) { return rows[i].sweep_number.has_value(); });
    for (const std::size_t i : sweep.rows) {
      const std::optional<double>& fid = rows[i].metrics[Metric::kFid];
      if (fid && (!sweep.best || *fid < *rows[*sweep.best].metrics[Metric::kFid])) {
        sweep.best = i;
      }
    }
    if (any_measured(sweep, rows, Metric::kFid) || any_measured(sweep, rows, Metric::kPrecision) ||
        any_measured(sweep, rows, Metric::kRecall)) {
      const std::string stem = "sweep_" + file_name_part(sweep.experiment) + "_" + file_name_part(sweep.name);
      sweep.plot_file = stem + ".svg";
      for (int n = 2; !used_files.insert(sweep.plot_file).second; ++n) {  // names that sanitize alike
        sweep.plot_file = fmt::format("{}_{}.svg", stem, n);
      }
    }
  }
  return sweeps;
}

std::optional<LinePlot> sweep_plot(const Sweep& sweep, const std::vector<RunRow>& rows) {
  if (sweep.plot_file.empty()) {
    return std::nullopt;
  }
  LinePlot plot;
  plot.title = fmt::format("{}: {} ({})", sweep.experiment, sweep.name, sweep.key);
  plot.x_label = sweep.key;
  std::vector<double> xs;
  for (std::size_t i = 0; i < sweep.rows.size(); ++i) {
    const RunRow& row = rows[sweep.rows[i]];
    xs.push_back(sweep.numeric ? *row.sweep_number : static_cast<double>(i));
    if (!sweep.numeric) {
      plot.x_categories.emplace_back(static_cast<double>(i), row.sweep_value);
    }
  }
  if (any_measured(sweep, rows, Metric::kFid)) {
    Panel fid;
    fid.y_label = "FID (lower is better)";
    add_series(fid, sweep, rows, xs, Metric::kFid, "FID", kMeasuredColor, kPaperColor, Marker::kCircle);
    const RunRow& best = rows[*sweep.best];
    const auto position = std::find(sweep.rows.begin(), sweep.rows.end(), *sweep.best) - sweep.rows.begin();
    fid.best = Highlight{xs[static_cast<std::size_t>(position)], *best.metrics[Metric::kFid],
                         fmt::format("best: {} (FID {:.2f})", best.sweep_value, *best.metrics[Metric::kFid])};
    plot.panels.push_back(std::move(fid));
  }
  if (any_measured(sweep, rows, Metric::kPrecision) || any_measured(sweep, rows, Metric::kRecall)) {
    Panel pr;
    pr.y_label = "precision / recall";
    add_series(pr, sweep, rows, xs, Metric::kPrecision, "precision", kMeasuredColor, kMeasuredColor,
               Marker::kCircle);
    add_series(pr, sweep, rows, xs, Metric::kRecall, "recall", kRecallColor, kRecallColor, Marker::kSquare);
    plot.panels.push_back(std::move(pr));
  }
  return plot;
}

}  // namespace sagbench::report
