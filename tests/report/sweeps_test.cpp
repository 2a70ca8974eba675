// Tests for report/sweeps.h: grouping by experiment and sweep, numeric order,
// the best point is the lowest FID, file names, and which panels a plot has.
#include "report/sweeps.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/report_test_support.h"

namespace sagbench::report {
namespace {

using ::testing::ElementsAre;
namespace fs = std::filesystem;

RunRow swept(const std::string& experiment, const std::string& value, std::optional<double> fid,
             std::optional<double> precision = std::nullopt, const std::string& sweep = "sag_s{}") {
  RunRow row;
  row.experiment = experiment;
  row.configuration = "c" + value;
  row.sweep_name = sweep;
  row.sweep_key = "guidance.sag.s";
  row.sweep_value = value;
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (*end == '\0') {
    row.sweep_number = number;
  }
  row.metrics[Metric::kFid] = fid;
  row.metrics[Metric::kPrecision] = precision;
  return row;
}

std::vector<std::string> values(const Sweep& sweep, const std::vector<RunRow>& rows) {
  std::vector<std::string> out;
  for (const std::size_t i : sweep.rows) {
    out.push_back(rows[i].sweep_value);
  }
  return out;
}

TEST(Sweeps, GroupsByExperimentAndNameOrdersByValueAndMarksTheLowestFid) {
  RunRow listed;
  listed.experiment = "a";
  listed.configuration = "base";
  listed.metrics[Metric::kFid] = 1.0;  // better than every sweep point, but not part of a sweep
  const std::vector<RunRow> rows = {listed,
                                    swept("a", "10", 30.0),
                                    swept("a", "0.75", 12.0),
                                    swept("b", "1", 5.0),
                                    swept("a", "2", 12.0),  // a tie: the first by value wins
                                    swept("a", "0.25", std::nullopt),
                                    swept("a", "1", 15.0, 0.5, "cfg_{}")};
  const std::vector<Sweep> sweeps = find_sweeps(rows);
  ASSERT_EQ(sweeps.size(), 3u);
  EXPECT_EQ(sweeps[0].experiment, "a");
  EXPECT_EQ(sweeps[0].name, "sag_s{}");
  EXPECT_EQ(sweeps[0].key, "guidance.sag.s");
  EXPECT_THAT(values(sweeps[0], rows), ElementsAre("0.25", "0.75", "2", "10"));
  EXPECT_TRUE(sweeps[0].numeric);
  ASSERT_TRUE(sweeps[0].best);
  EXPECT_EQ(*sweeps[0].best, 2u);  // "0.75", FID 12
  EXPECT_EQ(sweeps[0].plot_file, "sweep_a_sag_s.svg");
  EXPECT_EQ(sweeps[1].experiment, "b");
  EXPECT_EQ(*sweeps[1].best, 3u);
  EXPECT_EQ(sweeps[2].plot_file, "sweep_a_cfg.svg");
}

TEST(Sweeps, FileNamesAreSanitizedAndUnique) {
  EXPECT_EQ(file_name_part("sag_s{}"), "sag_s");
  EXPECT_EQ(file_name_part("{}_scale"), "scale");
  EXPECT_EQ(file_name_part("s={} / blur"), "s____blur");
  EXPECT_EQ(file_name_part("{}"), "");
  const std::vector<RunRow> rows = {swept("e", "1", 1.0, std::nullopt, "s {}"),
                                    swept("e", "1", 1.0, std::nullopt, "s/{}")};
  const std::vector<Sweep> sweeps = find_sweeps(rows);
  ASSERT_EQ(sweeps.size(), 2u);
  EXPECT_EQ(sweeps[0].plot_file, "sweep_e_s.svg");
  EXPECT_EQ(sweeps[1].plot_file, "sweep_e_s_2.svg");
}

TEST(Sweeps, NonNumericValuesGiveACategoricalAxis) {
  const std::vector<RunRow> rows = {swept("e", "gaussian", 3.0), swept("e", "box", 2.0),
                                    swept("e", "0.5", 4.0)};
  const std::vector<Sweep> sweeps = find_sweeps(rows);
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_FALSE(sweeps[0].numeric);
  EXPECT_THAT(values(sweeps[0], rows), ElementsAre("0.5", "box", "gaussian"));
  const std::optional<LinePlot> plot = sweep_plot(sweeps[0], rows);
  ASSERT_TRUE(plot);
  ASSERT_EQ(plot->x_categories.size(), 3u);
  EXPECT_EQ(plot->x_categories[1], (std::pair<double, std::string>{1.0, "box"}));
  ASSERT_TRUE(plot->panels[0].best);
  EXPECT_EQ(plot->panels[0].best->x, 1.0);
}

TEST(Sweeps, PlotHasAFidPanelWithTheBestAndAPrecisionRecallPanelWhenMeasured) {
  const fs::path exp = testing::make_quickstart(sagbench::testing::make_temp_dir("sweeps_plot"));
  const RunTable table = load_run_table({exp.string()});
  const std::vector<Sweep> sweeps = find_sweeps(table.rows);
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(table.rows[*sweeps[0].best].configuration, "sag_s0.5");
  const std::optional<LinePlot> plot = sweep_plot(sweeps[0], table.rows);
  ASSERT_TRUE(plot);
  EXPECT_EQ(plot->x_label, "guidance.sag.s");
  ASSERT_EQ(plot->panels.size(), 2u);
  const Panel& fid = plot->panels[0];
  ASSERT_EQ(fid.series.size(), 2u);  // measured and published
  EXPECT_EQ(fid.series[0].points,
            (std::vector<std::pair<double, double>>{{0.5, 18.25}, {1, 20.5}, {2, 22}, {10, 40}}));
  EXPECT_EQ(fid.series[1].points, (std::vector<std::pair<double, double>>{{0.5, 20.31}}));
  EXPECT_TRUE(fid.series[1].hollow);
  ASSERT_TRUE(fid.best);
  EXPECT_EQ(fid.best->x, 0.5);
  EXPECT_EQ(fid.best->y, 18.25);
  EXPECT_EQ(fid.best->label, "best: 0.5 (FID 18.25)");
  const Panel& pr = plot->panels[1];
  ASSERT_EQ(pr.series.size(), 3u);  // precision, its published value, recall
  EXPECT_EQ(pr.series[0].label, "precision");
  EXPECT_EQ(pr.series[1].label, "precision (paper)");
  EXPECT_EQ(pr.series[2].label, "recall");
  EXPECT_EQ(pr.series[2].points.size(), 4u);
}

TEST(Sweeps, WithoutPrecisionRecallOnlyTheFidPanelAndWithoutMetricsNoPlot) {
  const std::vector<RunRow> rows = {swept("e", "1", 2.0), swept("e", "2", 1.0)};
  const std::vector<Sweep> sweeps = find_sweeps(rows);
  const std::optional<LinePlot> plot = sweep_plot(sweeps[0], rows);
  ASSERT_TRUE(plot);
  EXPECT_EQ(plot->panels.size(), 1u);

  const std::vector<RunRow> empty = {swept("e", "1", std::nullopt)};
  const std::vector<Sweep> no_metrics = find_sweeps(empty);
  EXPECT_EQ(no_metrics[0].plot_file, "");
  EXPECT_FALSE(no_metrics[0].best);
  EXPECT_FALSE(sweep_plot(no_metrics[0], empty));
}

}  // namespace
}  // namespace sagbench::report
