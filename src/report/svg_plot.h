// Line plots as hand-written SVG 1.1 (no library): panels side by side, each
// with axes, "nice" ticks (1, 2, 5 x 10^k), series of markers joined by lines,
// a legend, and one highlighted point (the best of a sweep). Every number is
// written with a fixed format, so equal inputs give byte-identical files, and
// the file opens in any browser. Tested by tests/report/svg_plot_test.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sagbench::report {

enum class Marker { kCircle, kSquare, kDiamond };

struct Series {
  std::string label;  // legend entry
  std::string color;  // SVG color, e.g. "#1f77b4"
  Marker marker = Marker::kCircle;
  bool hollow = false;                            // open markers and a dashed line (published values)
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
};

struct Highlight {
  double x = 0;
  double y = 0;
  std::string label;  // written under the point
};

struct Panel {
  std::string y_label;
  std::vector<Series> series;
  std::optional<Highlight> best;  // the lowest point (room is left under it for the label)
};

struct LinePlot {
  std::string title;
  std::string x_label;
  std::vector<Panel> panels;
  // When set, the x axis is categorical: ticks at these positions with these
  // labels (sweep values that are not numbers) instead of numeric ticks.
  std::vector<std::pair<double, std::string>> x_categories;
};

// An axis range [lo, hi] covering the data, with ticks at the multiples of
// `step` inside it.
struct Axis {
  double lo = 0;
  double hi = 1;
  double step = 1;
  int decimals = 0;  // digits after the point of the tick labels

  std::vector<double> ticks() const;
  std::string label(double value) const;
};

// [data_lo, data_hi] padded by 5% each side (a single value gets +-10% around
// it), with a 1/2/5 x 10^k step that gives about `target_ticks` ticks.
Axis nice_axis(double data_lo, double data_hi, int target_ticks = 6);

// `text` with &, <, >, " and ' escaped for XML content and attributes.
std::string xml_escape(std::string_view text);

// The whole SVG document (starts with "<svg", ends with "</svg>\n").
std::string render_svg(const LinePlot& plot);

}  // namespace sagbench::report
