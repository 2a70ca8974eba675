// Markdown, CSV and JSON tables of a report (tables.h). Markdown numbers use
// the paper's two decimals; CSV and JSON keep every digit (shortest
// round-trip form), so nothing is lost to the table's rounding.
#include "report/tables.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>

namespace sagbench::report {
namespace {

using ordered_json = nlohmann::ordered_json;

struct Column {
  std::string header;
  bool right_aligned;
  std::function<std::string(const RunRow&)> cell;
};

std::string markdown_cell(std::string text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string fixed(const std::optional<double>& value, int decimals) {
  return value ? fmt::format("{:.{}f}", *value, decimals) : "-";
}

// A Markdown table padded to column width, so it also reads as plain text.
std::string format_table(const std::vector<Column>& columns, const std::vector<const RunRow*>& rows) {
  std::vector<std::vector<std::string>> cells(rows.size());
  std::vector<std::size_t> widths;
  for (const Column& column : columns) {
    widths.push_back(std::max<std::size_t>(column.header.size(), 3));
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      cells[r].push_back(markdown_cell(columns[c].cell(*rows[r])));
      widths[c] = std::max(widths[c], cells[r][c].size());
    }
  }
  auto line = [&](auto text_of) {
    std::string out = "|";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string text = text_of(c);
      out += columns[c].right_aligned ? fmt::format(" {:>{}} |", text, widths[c])
                                      : fmt::format(" {:<{}} |", text, widths[c]);
    }
    return out + "\n";
  };
  std::string out = line([&](std::size_t c) { return columns[c].header; });
  out += "|";
  for (std::size_t c = 0; c < columns.size(); ++c) {
    out += columns[c].right_aligned ? " " + std::string(widths[c] - 1, '-') + ": |"
                                    : " :" + std::string(widths[c] - 1, '-') + " |";
  }
  out += "\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out += line([&](std::size_t c) { return cells[r][c]; });
  }
  return out;
}

// The distinct non-empty values of `field` over `rows`, in row order.
std::vector<std::string> distinct(const std::vector<const RunRow*>& rows,
                                  const std::function<std::string(const RunRow&)>& field) {
  std::vector<std::string> values;
  for (const RunRow* row : rows) {
    std::string value = field(*row);
    if (!value.empty() && std::find(values.begin(), values.end(), value) == values.end()) {
      values.push_back(std::move(value));
    }
  }
  return values;
}

std::string count_text(const std::optional<std::int64_t>& count) {
  return count ? fmt::format("{}", *count) : "";
}

std::vector<Column> table_columns(const std::vector<const RunRow*>& rows) {
  std::vector<Column> columns;
  columns.push_back({"configuration", false, [](const RunRow& r) { return r.configuration; }});
  columns.push_back({"samples", true, [](const RunRow& r) {
                       return r.sample_count ? fmt::format("{}", *r.sample_count) : std::string("-");
                     }});
  for (const MetricInfo& info : metric_infos()) {
    const Metric m = info.metric;
    const bool measured =
        std::any_of(rows.begin(), rows.end(), [m](const RunRow* r) { return r->metrics[m]; });
    const bool published =
        std::any_of(rows.begin(), rows.end(), [m](const RunRow* r) { return r->published[m]; });
    const int decimals = info.decimals;
    if (measured || published) {
      columns.push_back(
          {info.header, true, [m, decimals](const RunRow& r) { return fixed(r.metrics[m], decimals); }});
    }
    if (published) {
      columns.push_back({fmt::format("{} (paper)", info.header), true,
                         [m, decimals](const RunRow& r) { return fixed(r.published[m], decimals); }});
    }
  }
  return columns;
}

std::string evaluator_line(const std::vector<const RunRow*>& rows) {
  const std::vector<std::string> evaluators = distinct(rows, [](const RunRow& r) {
    return r.preprocessing.empty() ? r.extractor : fmt::format("{} ({})", r.extractor, r.preprocessing);
  });
  const std::vector<std::string> samples =
      distinct(rows, [](const RunRow& r) { return count_text(r.sample_count); });
  const std::vector<std::string> references =
      distinct(rows, [](const RunRow& r) { return count_text(r.reference_count); });
  std::vector<std::string> parts;
  if (!evaluators.empty()) {
    parts.push_back(fmt::format("evaluator {}", fmt::join(evaluators, ", ")));
  }
  if (!samples.empty()) {
    parts.push_back(fmt::format("{} samples per configuration", fmt::join(samples, ", ")));
  }
  if (!references.empty()) {
    parts.push_back(fmt::format("{} reference images", fmt::join(references, ", ")));
  }
  return parts.empty() ? "" : fmt::format("- Measured with {}.\n", fmt::join(parts, "; "));
}

std::string sweep_line(const Sweep& sweep, const std::vector<RunRow>& rows) {
  std::vector<std::string> values;
  for (const std::size_t i : sweep.rows) {
    values.push_back(rows[i].sweep_value);
  }
  std::string line =
      fmt::format("- Sweep `{}` over `{}` = {}: ", sweep.name, sweep.key, fmt::join(values, ", "));
  if (sweep.best) {
    const RunRow& best = rows[*sweep.best];
    line += fmt::format("best FID {:.2f} at {} (`{}`)", *best.metrics[Metric::kFid], best.sweep_value,
                        best.configuration);
  } else {
    line += "no FID";
  }
  if (!sweep.plot_file.empty()) {
    line += fmt::format("; plot [{0}]({0})", sweep.plot_file);
  }
  return line + ".\n";
}

ordered_json metrics_json(const MetricValues& values) {
  ordered_json out = ordered_json::object();
  for (const MetricInfo& info : metric_infos()) {
    if (values[info.metric]) {
      out[info.key] = *values[info.metric];
    }
  }
  return out;
}

template <class T>
ordered_json optional_json(const std::optional<T>& value) {
  return value ? ordered_json(*value) : ordered_json(nullptr);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    return text;
  }
  std::string out = "\"";
  for (const char c : text) {
    out += c == '"' ? "\"\"" : std::string(1, c);
  }
  return out + "\"";
}

std::string csv_number(const std::optional<double>& value) {
  return value ? fmt::format("{}", *value) : "";
}

}  // namespace

std::string markdown_report(const RunTable& table, const std::vector<Sweep>& sweeps) {
  std::vector<std::string> experiments;
  for (const RunRow& row : table.rows) {
    if (std::find(experiments.begin(), experiments.end(), row.experiment) == experiments.end()) {
      experiments.push_back(row.experiment);
    }
  }
  std::string out = "# sagbench report\n";
  for (const std::string& experiment : experiments) {
    std::vector<const RunRow*> rows;
    for (const RunRow& row : table.rows) {
      if (row.experiment == experiment) {
        rows.push_back(&row);
      }
    }
    out += fmt::format("\n## {}\n\n", experiment.empty() ? "(unnamed experiment)" : experiment);
    out += format_table(table_columns(rows), rows);
    out += "\n";
    out += evaluator_line(rows);
    const bool any_published =
        std::any_of(rows.begin(), rows.end(), [](const RunRow* r) { return !r->published.empty(); });
    if (any_published) {
      const std::vector<std::string> sources =
          distinct(rows, [](const RunRow& r) { return r.published_source; });
      out += fmt::format("- Paper values: {}.\n",
                         sources.empty() ? "source not given" : fmt::format("{}", fmt::join(sources, "; ")));
    }
    for (const Sweep& sweep : sweeps) {
      if (sweep.experiment == experiment) {
        out += sweep_line(sweep, table.rows);
      }
    }
  }
  if (!table.skipped.empty()) {
    out += fmt::format("\nNot evaluated yet (skipped): {}.\n", fmt::join(table.skipped, ", "));
  }
  return out;
}

std::string csv_report(const RunTable& table) {
  std::vector<std::string> header = {"experiment", "configuration", "sweep_name", "sweep_key", "sweep_value"};
  for (const MetricInfo& info : metric_infos()) {
    header.emplace_back(info.key);
    if (info.metric == Metric::kInceptionScore) {
      header.emplace_back("inception_score_std");
    }
  }
  for (const MetricInfo& info : metric_infos()) {
    header.push_back(fmt::format("published_{}", info.key));
  }
  for (const char* name :
       {"published_source", "sample_count", "reference_count", "extractor", "preprocessing", "run_dir"}) {
    header.emplace_back(name);
  }
  std::string out = fmt::format("{}\n", fmt::join(header, ","));
  for (const RunRow& r : table.rows) {
    std::vector<std::string> fields = {r.experiment, r.configuration, r.sweep_name, r.sweep_key,
                                       r.sweep_value};
    for (const MetricInfo& info : metric_infos()) {
      fields.push_back(csv_number(r.metrics[info.metric]));
      if (info.metric == Metric::kInceptionScore) {
        fields.push_back(csv_number(r.inception_score_std));
      }
    }
    for (const MetricInfo& info : metric_infos()) {
      fields.push_back(csv_number(r.published[info.metric]));
    }
    for (const std::string& field :
         {r.published_source, count_text(r.sample_count), count_text(r.reference_count), r.extractor,
          r.preprocessing, r.run_dir}) {
      fields.push_back(field);
    }
    std::vector<std::string> quoted;
    for (const std::string& field : fields) {
      quoted.push_back(csv_field(field));
    }
    out += fmt::format("{}\n", fmt::join(quoted, ","));
  }
  return out;
}

std::string json_report(const RunTable& table, const std::vector<Sweep>& sweeps) {
  ordered_json rows = ordered_json::array();
  for (const RunRow& r : table.rows) {
    ordered_json row;
    row["experiment"] = r.experiment;
    row["configuration"] = r.configuration;
    row["sweep"] = r.is_sweep()
                       ? ordered_json{{"name", r.sweep_name}, {"key", r.sweep_key}, {"value", r.sweep_value}}
                       : ordered_json(nullptr);
    row["metrics"] = metrics_json(r.metrics);
    if (r.inception_score_std) {
      row["metrics"]["inception_score_std"] = *r.inception_score_std;
    }
    row["published"] = r.published.empty() ? ordered_json(nullptr)
                                           : ordered_json{{"metrics", metrics_json(r.published)},
                                                          {"source", r.published_source}};
    row["sample_count"] = optional_json(r.sample_count);
    row["reference_count"] = optional_json(r.reference_count);
    row["evaluator"] = {{"extractor", r.extractor}, {"preprocessing", r.preprocessing}};
    row["run_dir"] = r.run_dir;
    rows.push_back(std::move(row));
  }
  ordered_json sweep_list = ordered_json::array();
  for (const Sweep& sweep : sweeps) {
    ordered_json configurations = ordered_json::array();
    for (const std::size_t i : sweep.rows) {
      configurations.push_back(table.rows[i].configuration);
    }
    ordered_json best = nullptr;
    if (sweep.best) {
      const RunRow& b = table.rows[*sweep.best];
      best = {
          {"configuration", b.configuration}, {"value", b.sweep_value}, {"fid", *b.metrics[Metric::kFid]}};
    }
    sweep_list.push_back(
        {{"experiment", sweep.experiment},
         {"name", sweep.name},
         {"key", sweep.key},
         {"configurations", configurations},
         {"best", best},
         {"plot", sweep.plot_file.empty() ? ordered_json(nullptr) : ordered_json(sweep.plot_file)}});
  }
  const ordered_json out = {{"rows", rows}, {"sweeps", sweep_list}, {"skipped", table.skipped}};
  return out.dump(2) + "\n";
}

}  // namespace sagbench::report
