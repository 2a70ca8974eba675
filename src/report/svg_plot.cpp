// Hand-written SVG line plots (svg_plot.h). Pixel coordinates are written with
// two decimals and tick labels with the decimals of their step, so the bytes
// depend only on the data.
#include "report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace sagbench::report {
namespace {

// Layout in pixels: a title band, then panels side by side; inside a panel a
// legend row above the plot area and tick labels and the axis label below it.
constexpr double kTitleHeight = 34;
constexpr double kPanelWidth = 460;
constexpr double kPanelHeight = 350;
constexpr double kMarginLeft = 72;
constexpr double kMarginRight = 22;
constexpr double kMarginTop = 34;  // legend row
constexpr double kMarginBottom = 56;
constexpr const char* kBestColor = "#d62728";
constexpr const char* kGridColor = "#e5e5e5";
constexpr const char* kAxisColor = "#333333";

std::string px(double value) {
  return fmt::format("{:.2f}", value);
}

// Maps data coordinates to pixels inside one panel's plot area.
struct Frame {
  double left, right, top, bottom;
  Axis x, y;

  double map_x(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * (right - left); }
  double map_y(double v) const { return bottom - (v - y.lo) / (y.hi - y.lo) * (bottom - top); }
};

void append_marker(std::string& out, Marker marker, double cx, double cy, const std::string& color,
                   bool hollow) {
  const std::string fill = hollow ? "#ffffff" : color;
  switch (marker) {
    case Marker::kCircle:
      out += fmt::format(R"(<circle cx="{}" cy="{}" r="4" fill="{}" stroke="{}" stroke-width="1.5"/>)",
                         px(cx), px(cy), fill, color);
      break;
    case Marker::kSquare:
      out += fmt::format(
          R"(<rect x="{}" y="{}" width="8" height="8" fill="{}" stroke="{}" stroke-width="1.5"/>)",
          px(cx - 4), px(cy - 4), fill, color);
      break;
    case Marker::kDiamond:
      out += fmt::format(
          R"(<polygon points="{},{} {},{} {},{} {},{}" fill="{}" stroke="{}" stroke-width="1.5"/>)", px(cx),
          px(cy - 5), px(cx + 5), px(cy), px(cx), px(cy + 5), px(cx - 5), px(cy), fill, color);
      break;
  }
  out += "\n";
}

void append_text(std::string& out, double x, double y, const char* anchor, std::string_view text,
                 const std::string& extra = "") {
  out += fmt::format(R"(<text x="{}" y="{}" text-anchor="{}"{}>{}</text>)", px(x), px(y), anchor, extra,
                     xml_escape(text));
  out += "\n";
}

void append_axes(std::string& out, const Frame& f, const LinePlot& plot, const Panel& panel) {
  std::vector<std::pair<double, std::string>> x_ticks = plot.x_categories;
  if (x_ticks.empty()) {
    for (const double t : f.x.ticks()) {
      x_ticks.emplace_back(t, f.x.label(t));
    }
  }
  for (const auto& [value, label] : x_ticks) {
    const double x = f.map_x(value);
    out += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{3}"/>)", px(x), px(f.top),
                       px(f.bottom), kGridColor);
    out += "\n";
    out += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{3}"/>)", px(x), px(f.bottom),
                       px(f.bottom + 5), kAxisColor);
    out += "\n";
    append_text(out, x, f.bottom + 18, "middle", label);
  }
  for (const double t : f.y.ticks()) {
    const double y = f.map_y(t);
    out += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}"/>)", px(f.left), px(y),
                       px(f.right), kGridColor);
    out += "\n";
    out += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}"/>)", px(f.left - 5), px(y),
                       px(f.left), kAxisColor);
    out += "\n";
    append_text(out, f.left - 8, y + 4, "end", f.y.label(t));
  }
  out += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{}"/>)", px(f.left),
                     px(f.top), px(f.right - f.left), px(f.bottom - f.top), kAxisColor);
  out += "\n";
  append_text(out, (f.left + f.right) / 2, f.bottom + 42, "middle", plot.x_label);
  const double y_label_x = f.left - kMarginLeft + 16;
  const double y_label_y = (f.top + f.bottom) / 2;
  append_text(out, y_label_x, y_label_y, "middle", panel.y_label,
              fmt::format(R"svg( transform="rotate(-90 {} {})")svg", px(y_label_x), px(y_label_y)));
}

void append_legend(std::string& out, const Frame& f, const Panel& panel) {
  double x = f.left;
  const double y = f.top - 14;
  for (const Series& s : panel.series) {
    if (s.label.empty()) {
      continue;
    }
    out += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5"{}/>)", px(x),
                       px(y), px(x + 24), px(y), s.color, s.hollow ? R"( stroke-dasharray="5,4")" : "");
    out += "\n";
    append_marker(out, s.marker, x + 12, y, s.color, s.hollow);
    append_text(out, x + 30, y + 4, "start", s.label);
    x += 42 + 7.0 * static_cast<double>(s.label.size());  // ~7 px per character at 12 px
  }
}

void append_series(std::string& out, const Frame& f, const Series& s) {
  if (s.points.size() > 1) {
    std::string points;
    for (const auto& [x, y] : s.points) {
      points += fmt::format("{}{},{}", points.empty() ? "" : " ", px(f.map_x(x)), px(f.map_y(y)));
    }
    out += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"{}/>)", points,
                       s.color, s.hollow ? R"( stroke-dasharray="5,4")" : "");
    out += "\n";
  }
  for (const auto& [x, y] : s.points) {
    append_marker(out, s.marker, f.map_x(x), f.map_y(y), s.color, s.hollow);
  }
}

void append_best(std::string& out, const Frame& f, const Highlight& best) {
  const double x = f.map_x(best.x);
  const double y = f.map_y(best.y);
  out += fmt::format(R"(<circle cx="{}" cy="{}" r="9" fill="none" stroke="{}" stroke-width="2.5"/>)", px(x),
                     px(y), kBestColor);
  out += "\n";
  // The label sits under the point (the best is the lowest, so nothing else is
  // there; render_svg leaves room), centred unless near the frame's sides.
  const char* anchor = x - f.left < 90 ? "start" : f.right - x < 90 ? "end" : "middle";
  const double label_x = anchor[0] == 's'   ? std::max(f.left + 4, x - 12)
                         : anchor[0] == 'e' ? std::min(f.right - 4, x + 12)
                                            : x;
  append_text(out, label_x, y + 26, anchor, best.label,
              fmt::format(R"( fill="{}" font-weight="bold")", kBestColor));
}

// y range of a panel: every point and the highlight.
std::pair<double, double> y_extent(const Panel& panel) {
  double lo = INFINITY;
  double hi = -INFINITY;
  for (const Series& s : panel.series) {
    for (const auto& point : s.points) {
      lo = std::min(lo, point.second);
      hi = std::max(hi, point.second);
    }
  }
  if (panel.best) {
    lo = std::min(lo, panel.best->y);
    hi = std::max(hi, panel.best->y);
  }
  return lo <= hi ? std::pair{lo, hi} : std::pair{0.0, 1.0};
}

Axis x_axis(const LinePlot& plot) {
  if (!plot.x_categories.empty()) {  // categories sit at 0, 1, ..., n-1
    Axis axis;
    axis.lo = -0.5;
    axis.hi = static_cast<double>(plot.x_categories.size()) - 0.5;
    return axis;
  }
  double lo = INFINITY;
  double hi = -INFINITY;
  for (const Panel& panel : plot.panels) {
    for (const Series& s : panel.series) {
      for (const auto& point : s.points) {
        lo = std::min(lo, point.first);
        hi = std::max(hi, point.first);
      }
    }
  }
  return lo <= hi ? nice_axis(lo, hi) : nice_axis(0, 1);
}

}  // namespace

std::vector<double> Axis::ticks() const {
  std::vector<double> values;
  const auto first = static_cast<std::int64_t>(std::ceil(lo / step - 1e-9));
  const auto last = static_cast<std::int64_t>(std::floor(hi / step + 1e-9));
  for (std::int64_t k = first; k <= last; ++k) {
    values.push_back(static_cast<double>(k) * step);
  }
  return values;
}

std::string Axis::label(double value) const {
  if (std::abs(value) < step * 1e-9) {
    value = 0;  // never "-0.00"
  }
  return fmt::format("{:.{}f}", value, decimals);
}

Axis nice_axis(double data_lo, double data_hi, int target_ticks) {
  SAG_CHECK(std::isfinite(data_lo) && std::isfinite(data_hi) && data_lo <= data_hi, "range [{}, {}]", data_lo,
            data_hi);
  double lo = data_lo;
  double hi = data_hi;
  if (hi > lo) {
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  } else {
    const double half = lo != 0 ? std::abs(lo) * 0.1 : 0.5;
    lo -= half;
    hi += half;
  }
  const double raw = (hi - lo) / std::max(1, target_ticks - 1);
  int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double mantissa = raw / std::pow(10.0, exponent);
  int nice = mantissa < 1.5 ? 1 : mantissa < 3 ? 2 : mantissa < 7 ? 5 : 10;  // the closest of 1, 2, 5, 10
  if (nice == 10) {
    nice = 1;
    ++exponent;
  }
  Axis axis;
  // Dividing by an exact power of ten keeps 0.1, 0.02, ... correctly rounded.
  axis.step = exponent >= 0 ? nice * std::pow(10.0, exponent) : nice / std::pow(10.0, -exponent);
  axis.decimals = std::max(0, -exponent);
  axis.lo = lo;
  axis.hi = hi;
  return axis;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_svg(const LinePlot& plot) {
  SAG_CHECK(!plot.panels.empty(), "a plot needs a panel");
  const double width = kPanelWidth * static_cast<double>(plot.panels.size());
  const double height = kTitleHeight + kPanelHeight;
  std::string out = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
      R"(font-family="Helvetica, Arial, sans-serif" font-size="12" fill="{2}">)",
      px(width), px(height), kAxisColor);
  out += "\n<title>" + xml_escape(plot.title) + "</title>\n";
  out += fmt::format(R"(<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>)", px(width), px(height));
  out += "\n";
  append_text(out, width / 2, 22, "middle", plot.title, R"( font-size="15" font-weight="bold")");
  const Axis x = x_axis(plot);
  for (std::size_t i = 0; i < plot.panels.size(); ++i) {
    const Panel& panel = plot.panels[i];
    const double panel_left = kPanelWidth * static_cast<double>(i);
    auto [y_lo, y_hi] = y_extent(panel);
    if (panel.best) {  // room under the lowest point for the best point's label
      y_lo -= (y_hi - y_lo) * 0.2;
    }
    const Frame frame{panel_left + kMarginLeft,
                      panel_left + kPanelWidth - kMarginRight,
                      kTitleHeight + kMarginTop,
                      kTitleHeight + kPanelHeight - kMarginBottom,
                      x,
                      nice_axis(y_lo, y_hi)};
    out += fmt::format("<g id=\"panel{}\">\n", i);
    append_axes(out, frame, plot, panel);
    append_legend(out, frame, panel);
    for (const Series& s : panel.series) {
      append_series(out, frame, s);
    }
    if (panel.best) {
      append_best(out, frame, *panel.best);
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace sagbench::report
