// Same data and flags give a byte-identical model file on any machine: neither the clock nor
// the modification times of the inputs reach the bytes that `lote train extract`, `lote train
// classify` and `lote bundle` write (a fresh clone has other mtimes).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "cli_runner.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(LOTE_TEST_DATA_DIR) + "/extract_cli";
const std::string kSample = LOTE_SAMPLE_DIR;
// Without SOURCE_DATE_EPOCH, whatever the environment running the tests sets.
const std::string kNoEpoch = "env -u SOURCE_DATE_EPOCH";

std::string TrainExtract(const std::string& out) {
  return "train extract --train " + kData +
         "/train.conll --format conll --name ner --doc-window 0 " + "--no-gazetteer --out " + out;
}

TEST(ReproducibleModelCli, SourceDateEpochIsCreatedAtAndAMalformedOneIsRefused) {
  TempDir tmp;
  auto r = RunLote(TrainExtract(tmp / "m.lote"), "SOURCE_DATE_EPOCH=1700000000");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadAll(tmp / "m.lote").find("\"created_at\":\"2023-11-14T22:13:20Z\""),
            std::string::npos);
  r = RunLote(TrainExtract(tmp / "n.lote"), kNoEpoch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadAll(tmp / "n.lote").find("\"created_at\":\"\""), std::string::npos);
  for (const char* bad : {"yesterday", "-5", "17e8", "1700000000.5"}) {
    r = RunLote(TrainExtract(tmp / "x.lote"), std::string("SOURCE_DATE_EPOCH=") + bad);
    EXPECT_EQ(r.exit_code, 3) << bad;
    EXPECT_NE(r.err.find("SOURCE_DATE_EPOCH"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / "x.lote"));
  }
}

TEST(ReproducibleModelCli, TrainAndBundleIgnoreModificationTimes) {
  TempDir tmp;
  const auto now = fs::file_time_type::clock::now();
  for (const char* d : {"a", "b"}) {
    fs::create_directories(tmp / d);
    fs::copy_file(kSample + "/train.jsonl", tmp / d + "/train.jsonl");
    fs::copy_file(kData + "/train.conll", tmp / d + "/train.conll");
  }
  for (const char* f : {"a/train.jsonl", "a/train.conll"}) {
    fs::last_write_time(tmp / f, now - std::chrono::hours(24 * 400));
  }
  for (const char* f : {"b/train.jsonl", "b/train.conll"}) fs::last_write_time(tmp / f, now);
  for (const char* d : {"a", "b"}) {
    const std::string dir = tmp / d;
    auto r = RunLote("train classify --train " + dir + "/train.jsonl --name intents --out " + dir +
                         "/intents.lote",
                     kNoEpoch);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = RunLote("train extract --train " + dir + "/train.conll --format conll --name ner " +
                    "--doc-window 0 --no-gazetteer --out " + dir + "/ner.lote",
                kNoEpoch);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  fs::last_write_time(tmp / "a/ner.lote", now - std::chrono::hours(24 * 30));
  EXPECT_EQ(ReadAll(tmp / "a/intents.lote"), ReadAll(tmp / "b/intents.lote"));
  EXPECT_EQ(ReadAll(tmp / "a/ner.lote"), ReadAll(tmp / "b/ner.lote"));
  for (const char* d : {"a", "b"}) {
    const std::string dir = tmp / d;
    auto r = RunLote("bundle --name banca --out " + dir + "/banca.lote " + dir + "/intents.lote " +
                         dir + "/ner.lote",
                     kNoEpoch);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(ReadAll(tmp / "a/banca.lote"), ReadAll(tmp / "b/banca.lote"));
}

}  // namespace
}  // namespace lote::testing
