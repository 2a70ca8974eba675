// Tests for report/tables.h: the Markdown table's columns, numbers and paper
// values, the lines under it, and the CSV and JSON rows.
#include "report/tables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "report/report_test_support.h"

namespace sagbench::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      const std::size_t first = cell.find_first_not_of(' ');
      cells.push_back(
          first == std::string::npos ? "" : cell.substr(first, cell.find_last_not_of(' ') - first + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

// The Markdown table rows as header -> cell, by configuration.
std::map<std::string, std::map<std::string, std::string>> parse_table(
    const std::string& markdown, std::vector<std::string>* order = nullptr) {
  std::map<std::string, std::map<std::string, std::string>> rows;
  std::vector<std::string> header;
  for (const std::string& line : lines(markdown)) {
    if (line.empty() || line[0] != '|') {
      header.clear();
      continue;
    }
    const std::vector<std::string> cells = split_cells(line);
    if (header.empty()) {
      header = cells;
    } else if (cells[0].find("---") == std::string::npos) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        rows[cells[0]][header[i]] = cells[i];
      }
      if (order) {
        order->push_back(cells[0]);
      }
    }
  }
  return rows;
}

RunTable quickstart_table(const std::string& tag) {
  return load_run_table({testing::make_quickstart(sagbench::testing::make_temp_dir(tag)).string()});
}

TEST(Tables, MarkdownHasThePaperColumnsMeasuredNumbersAndPublishedValues) {
  const RunTable table = quickstart_table("tables_md");
  const std::string md = markdown_report(table, find_sweeps(table.rows));
  EXPECT_THAT(md, HasSubstr("# sagbench report\n\n## quickstart\n\n"));
  std::vector<std::string> order;
  auto rows = parse_table(md, &order);
  EXPECT_THAT(order, ElementsAre("base", "cfg_a", "sag_s0.5", "sag_s1", "sag_s2", "sag_s10"));
  const std::vector<std::string> header = split_cells(lines(md)[4]);
  EXPECT_THAT(header, ElementsAre("configuration", "samples", "FID", "FID (paper)", "sFID", "IS", "Prec",
                                  "Prec (paper)", "Rec"));
  EXPECT_EQ(rows["sag_s0.5"]["FID"], "18.25");
  EXPECT_EQ(rows["sag_s0.5"]["FID (paper)"], "20.31");
  EXPECT_EQ(rows["sag_s0.5"]["Prec"], "0.65");
  EXPECT_EQ(rows["sag_s0.5"]["Prec (paper)"], "0.66");
  EXPECT_EQ(rows["sag_s0.5"]["Rec"], "0.57");
  EXPECT_EQ(rows["sag_s0.5"]["sFID"], "-");
  EXPECT_EQ(rows["sag_s0.5"]["samples"], "1000");
  EXPECT_EQ(rows["base"]["FID"], "30.00");
  EXPECT_EQ(rows["base"]["FID (paper)"], "31.50");
  EXPECT_EQ(rows["base"]["IS"], "7.12");
  EXPECT_EQ(rows["base"]["Prec (paper)"], "-");
  EXPECT_EQ(rows["cfg_a"]["Rec"], "-");
  EXPECT_THAT(md,
              HasSubstr("|\n\n- Measured with evaluator fid-inception (adm); 1000 samples per configuration; "
                        "10000 reference images.\n"));
  EXPECT_THAT(md, HasSubstr("\n- Paper values: SAG README, Table 1.\n"));
  EXPECT_THAT(md,
              HasSubstr("\n- Sweep `sag_s{}` over `guidance.sag.s` = 0.5, 1, 2, 10: best FID 18.25 at 0.5 "
                        "(`sag_s0.5`); plot [sweep_quickstart_sag_s.svg](sweep_quickstart_sag_s.svg).\n"));
}

TEST(Tables, MarkdownColumnsFollowTheDataAndTablesSplitByExperiment) {
  const fs::path root = sagbench::testing::make_temp_dir("tables_split");
  testing::write_metrics(root / "e1" / "a", testing::run_metrics("e1", "a", {{"fid", 1.0}}));
  testing::write_metrics(root / "e2" / "b|c", testing::run_metrics("e2", "b|c", {{"recall", 0.123}}));
  RunTable table = load_run_table({(root / "e2").string(), (root / "e1").string()});
  table.skipped.push_back("runs/e1/pending");
  const std::string md = markdown_report(table, find_sweeps(table.rows));
  EXPECT_LT(md.find("## e2"), md.find("## e1"));
  EXPECT_THAT(md, HasSubstr("| configuration | samples |  Rec |\n"));
  EXPECT_THAT(md, HasSubstr("| b\\|c          |    1000 | 0.12 |\n"));
  EXPECT_THAT(md, HasSubstr("| configuration | samples |  FID |\n"));
  EXPECT_THAT(md, Not(HasSubstr("paper")));
  EXPECT_THAT(md, Not(HasSubstr("Sweep")));
  EXPECT_THAT(md, HasSubstr("\nNot evaluated yet (skipped): runs/e1/pending.\n"));
}

TEST(Tables, CsvHasOneFlatRowPerConfigurationWithFullPrecision) {
  const RunTable table = quickstart_table("tables_csv");
  const std::vector<std::string> csv = lines(csv_report(table));
  ASSERT_EQ(csv.size(), 7u);
  EXPECT_EQ(csv[0],
            "experiment,configuration,sweep_name,sweep_key,sweep_value,fid,sfid,inception_score,inception_"
            "score_std,"
            "precision,recall,published_fid,published_sfid,published_inception_score,published_precision,"
            "published_recall,published_source,sample_count,reference_count,extractor,preprocessing,run_dir");
  const std::string base_dir = table.rows[0].run_dir;
  EXPECT_EQ(csv[1],
            "quickstart,base,,,,30,9.5,7.1234,0.25,0.6,0.58,31.5,,,,,\"SAG README, Table 1\",1000,10000,"
            "fid-inception,adm," +
                base_dir);
  EXPECT_THAT(csv[3],
              ::testing::StartsWith("quickstart,sag_s0.5,sag_s{},guidance.sag.s,0.5,18.25,,,,0.65,0.57,"
                                    "20.31,,,0.66,,"));
}

TEST(Tables, JsonHoldsTheRowsSweepsAndBestPoint) {
  const RunTable table = quickstart_table("tables_json");
  const nlohmann::json j = nlohmann::json::parse(json_report(table, find_sweeps(table.rows)));
  ASSERT_EQ(j["rows"].size(), 6u);
  EXPECT_EQ(j["rows"][2]["configuration"], "sag_s0.5");
  EXPECT_EQ(j["rows"][2]["metrics"]["fid"], 18.25);
  EXPECT_EQ(j["rows"][2]["published"]["metrics"]["precision"], 0.66);
  EXPECT_EQ(j["rows"][2]["published"]["source"], "SAG README, Table 1");
  EXPECT_EQ(j["rows"][2]["sweep"]["value"], "0.5");
  EXPECT_TRUE(j["rows"][1]["published"].is_null());
  EXPECT_TRUE(j["rows"][0]["sweep"].is_null());
  EXPECT_EQ(j["rows"][0]["metrics"]["inception_score_std"], 0.25);
  ASSERT_EQ(j["sweeps"].size(), 1u);
  EXPECT_EQ(j["sweeps"][0]["configurations"], nlohmann::json({"sag_s0.5", "sag_s1", "sag_s2", "sag_s10"}));
  EXPECT_EQ(j["sweeps"][0]["best"]["configuration"], "sag_s0.5");
  EXPECT_EQ(j["sweeps"][0]["best"]["fid"], 18.25);
  EXPECT_EQ(j["sweeps"][0]["plot"], "sweep_quickstart_sag_s.svg");
  EXPECT_TRUE(j["skipped"].empty());
}

}  // namespace
}  // namespace sagbench::report
