// Tests for report/svg_plot.h: nice axes, XML escaping, and documents that
// are well formed (balanced tags, escaped text) with one marker per point and
// the best point ringed.
#include "report/svg_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

namespace sagbench::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Empty when every element is closed in order; else what went wrong.
std::string tag_balance_error(const std::string& svg) {
  std::vector<std::string> open;
  for (std::size_t pos = svg.find('<'); pos != std::string::npos; pos = svg.find('<', pos + 1)) {
    const std::size_t end = svg.find('>', pos);
    if (end == std::string::npos) {
      return "unterminated tag at " + std::to_string(pos);
    }
    const std::string tag = svg.substr(pos + 1, end - pos - 1);
    if (tag.find('<') != std::string::npos) {
      return "'<' inside a tag at " + std::to_string(pos);
    }
    const std::string name = tag.substr(tag[0] == '/' ? 1 : 0, tag.find_first_of(" />", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name) {
        return "unexpected </" + name + ">";
      }
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

LinePlot two_panel_plot() {
  LinePlot plot;
  plot.title = "quickstart: sag_s{} (guidance.sag.s) <&>";
  plot.x_label = "guidance.sag.s";
  Panel fid;
  fid.y_label = "FID";
  fid.series.push_back({"FID", "#1f77b4", Marker::kCircle, false, {{0.5, 18.25}, {1, 20.5}, {2, 22}}});
  fid.series.push_back({"FID (paper)", "#7f7f7f", Marker::kCircle, true, {{0.5, 20.31}}});
  fid.best = Highlight{0.5, 18.25, "best: 0.5 (FID 18.25)"};
  Panel pr;
  pr.y_label = "precision / recall";
  pr.series.push_back({"precision", "#1f77b4", Marker::kCircle, false, {{0.5, 0.65}, {1, 0.66}, {2, 0.68}}});
  pr.series.push_back({"recall", "#ff7f0e", Marker::kSquare, false, {{0.5, 0.57}, {1, 0.55}, {2, 0.5}}});
  plot.panels = {fid, pr};
  return plot;
}

TEST(SvgPlot, NiceAxisCoversTheDataWithRoundSteps) {
  const Axis a = nice_axis(18.25, 40);
  EXPECT_EQ(a.step, 5);
  EXPECT_EQ(a.decimals, 0);
  EXPECT_LE(a.lo, 18.25);
  EXPECT_GE(a.hi, 40);
  EXPECT_THAT(a.ticks(), ElementsAre(20, 25, 30, 35, 40));

  const Axis p = nice_axis(0.5, 0.68);
  EXPECT_DOUBLE_EQ(p.step, 0.05);
  EXPECT_EQ(p.decimals, 2);
  EXPECT_EQ(p.label(p.ticks().front()), "0.50");
  EXPECT_EQ(p.label(p.ticks().back()), "0.65");

  const Axis single = nice_axis(0.5, 0.5);  // one point still gets a range around it
  EXPECT_LT(single.lo, 0.5);
  EXPECT_GT(single.hi, 0.5);
  const Axis zero = nice_axis(0, 0);
  EXPECT_LT(zero.lo, 0);
  EXPECT_EQ(zero.label(-1e-17), "0.0");  // never "-0.0"
}

TEST(SvgPlot, XmlEscapeCoversMarkupCharacters) {
  EXPECT_EQ(xml_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
}

TEST(SvgPlot, DocumentIsWellFormedWithAMarkerPerPointAndTheBestRinged) {
  const std::string svg = render_svg(two_panel_plot());
  EXPECT_THAT(svg, StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(tag_balance_error(svg), "");
  EXPECT_THAT(svg, HasSubstr("<title>quickstart: sag_s{} (guidance.sag.s) &lt;&amp;&gt;</title>"));
  EXPECT_EQ(count(svg, "<&>"), 0u);
  // Width and height: two 460 px panels.
  EXPECT_THAT(svg, HasSubstr("width=\"920.00\" height=\"384.00\""));
  EXPECT_EQ(count(svg, "<g id=\"panel"), 2u);
  // Circles: 3 + 1 FID points, 3 precision points, 3 legend entries. Rects: the
  // background, 2 frames, 3 recall points and its legend entry. One best ring.
  EXPECT_EQ(count(svg, "r=\"4\""), 4u + 3u + 3u);
  EXPECT_EQ(count(svg, "<rect x=\""), 1u + 2u + 3u + 1u);
  EXPECT_EQ(count(svg, "r=\"9\""), 1u);
  EXPECT_THAT(svg, HasSubstr(">best: 0.5 (FID 18.25)</text>"));
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray=\"5,4\""));  // the published series
  EXPECT_THAT(svg, HasSubstr(">precision / recall</text>"));
  EXPECT_THAT(svg, HasSubstr(">FID (paper)</text>"));
  // Every coordinate has two decimals.
  const std::regex coordinate(R"re(\b(cx|cy|x|y|x1|y1|x2|y2)="(-?[0-9]+\.[0-9]{2})")re");
  EXPECT_TRUE(std::regex_search(svg, coordinate));
  const std::regex loose(R"re(\b(cx|cy|x1|y1|x2|y2)="-?[0-9]+(\.[0-9]{1}|\.[0-9]{3,})?")re");
  EXPECT_FALSE(std::regex_search(svg, loose));
}

TEST(SvgPlot, TheBestPointSitsOnItsMarker) {
  LinePlot plot;
  plot.title = "t";
  plot.x_label = "x";
  Panel panel;
  panel.y_label = "FID";
  panel.series.push_back({"FID", "#000000", Marker::kCircle, false, {{1, 10}, {2, 5}, {3, 7}}});
  panel.best = Highlight{2, 5, "best"};
  plot.panels = {panel};
  const std::string svg = render_svg(plot);
  const std::smatch marker = [&] {
    std::smatch m;
    const std::regex ring(R"re(<circle cx="([0-9.]+)" cy="([0-9.]+)" r="9")re");
    EXPECT_TRUE(std::regex_search(svg, m, ring));
    return m;
  }();
  EXPECT_THAT(svg,
              HasSubstr("<circle cx=\"" + marker[1].str() + "\" cy=\"" + marker[2].str() + "\" r=\"4\""));
  EXPECT_EQ(tag_balance_error(svg), "");
}

TEST(SvgPlot, CategoricalAxisLabelsTheCategories) {
  LinePlot plot;
  plot.title = "t";
  plot.x_label = "guidance.sag.blur";
  plot.x_categories = {{0, "box"}, {1, "gaussian"}};
  Panel panel;
  panel.y_label = "FID";
  panel.series.push_back({"FID", "#000000", Marker::kDiamond, false, {{0, 3}, {1, 2}}});
  plot.panels = {panel};
  const std::string svg = render_svg(plot);
  EXPECT_THAT(svg, HasSubstr(">box</text>"));
  EXPECT_THAT(svg, HasSubstr(">gaussian</text>"));
  EXPECT_EQ(count(svg, "<polygon"), 2u + 1u);  // two points and the legend
  EXPECT_EQ(tag_balance_error(svg), "");
  EXPECT_EQ(render_svg(plot), svg);  // deterministic
}

}  // namespace
}  // namespace sagbench::report
