// Same data, flags and word lists give a byte-identical model file on any machine: neither the
// clock, nor the modification times of the inputs, nor the folder they are read from reach the
// bytes that `lote train extract`, `lote train classify` and `lote bundle` write (a fresh clone
// has other mtimes). The tagger's word lists come from tests/data/word_lists, which mirrors the
// Debian layout, so the tests do not depend on installed packages.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "cli_runner.h"
#include "lote/base/digest.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;

const std::string kExtractData = std::string(LOTE_TEST_DATA_DIR) + "/extract_cli";
const std::string kLists = std::string(LOTE_TEST_DATA_DIR) + "/word_lists";
// Without SOURCE_DATE_EPOCH, whatever the environment running the tests sets.
const std::string kNoEpoch = "env -u SOURCE_DATE_EPOCH";

std::string TrainExtract(const std::string& out) {
  return "train extract --train " + kExtractData +
         "/train.conll --format conll --name ner --doc-window 0 " + "--no-gazetteer --out " + out;
}

// Copies the training data and the word lists into `dir`, every file with modification time
// `mtime`.
void CopyInputs(const std::string& dir, fs::file_time_type mtime) {
  fs::create_directories(dir);
  fs::copy_file(kExtractData + "/train.conll", dir + "/train.conll");
  fs::copy_file(kExtractData + "/dev.conll", dir + "/dev.conll");
  fs::copy(kLists, dir + "/lists", fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) fs::last_write_time(e.path(), mtime);
  }
}

// Two passes, dev set, the word lists under dir/lists.
std::string TrainExtractFrom(const std::string& dir, const std::string& out) {
  return "train extract --train " + dir + "/train.conll --dev " + dir +
         "/dev.conll --format conll --name ner --word-lists-root " + dir + "/lists --out " + out;
}

TEST(ReproducibleModelCli, TrainExtractGivesTheSameBytesFromCopiesInOtherFoldersAndTimes) {
  TempDir tmp;
  const auto now = fs::file_time_type::clock::now();
  CopyInputs(tmp / "a", now - std::chrono::hours(24 * 365 * 5));
  CopyInputs(tmp / "deeper/b", now);
  auto r = RunLote(TrainExtractFrom(tmp / "a", tmp / "a.lote"), kNoEpoch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("from 7 word lists"), std::string::npos) << r.err;
  r = RunLote(TrainExtractFrom(tmp / "deeper/b", tmp / "b.lote"), kNoEpoch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string a = ReadAll(tmp / "a.lote");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, ReadAll(tmp / "b.lote"));

  // The meta names each list by its Debian path with the SHA-256 of the bytes, and says nothing
  // of where they were read.
  const std::string dic = ReadAll(kLists + "/usr/share/hunspell/es_ES.dic");
  EXPECT_NE(a.find("\"name\":\"/usr/share/hunspell/es_ES.dic\""), std::string::npos);
  EXPECT_NE(a.find("\"sha256\":\"" + Sha256Hex(dic) + "\""), std::string::npos);
  EXPECT_EQ(a.find(tmp.path()), std::string::npos);

  // The lists change the model: without them it is another one.
  r = RunLote("train extract --train " + (tmp / "a") + "/train.conll --dev " + (tmp / "a") +
                  "/dev.conll --format conll --name ner --no-gazetteer --out " + (tmp / "n.lote"),
              kNoEpoch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadAll(tmp / "n.lote"), a);
}

TEST(ReproducibleModelCli, MissingWordListIsAnErrorNamingTheFileAndItsPackage) {
  TempDir tmp;
  CopyInputs(tmp / "in", fs::file_time_type::clock::now());
  const std::string missing =
      tmp / "in/lists/usr/lib/python3/dist-packages/faker/providers/person/es_MX/__init__.py";
  fs::remove(missing);
  auto r = RunLote(TrainExtractFrom(tmp / "in", tmp / "m.lote"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("python3-fake-factory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-gazetteer"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "m.lote"));

  // A folder with no lists at all: the first one is named.
  r = RunLote("train extract --train " + kExtractData + "/train.conll --format conll " +
              "--word-lists-root " + (tmp / "none") + " --out " + (tmp / "m.lote"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("es_ES.dic"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hunspell-es"), std::string::npos) << r.err;
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
    fs::copy_file(kExtractData + "/train.conll", tmp / d + "/train.conll");
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
