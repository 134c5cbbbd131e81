// Reads the real data sets in ../shared/datasets (LOTE_DATASETS overrides the path). They are on
// every developer and CI machine, so a missing folder fails these tests instead of skipping them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "io/text_checks.h"
#include "io_test_util.h"
#include "lote/io/file_source.h"
#include "lote/io/records.h"

namespace lote::io {
namespace {

::testing::AssertionResult Present(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << path << " not found: these tests need the shared data sets (../shared/datasets "
         << "beside the checkout, or set LOTE_DATASETS to their folder)";
}

TEST(Datasets, Banking77TrainCsvHasAllRowsIncludingQuotedNewlines) {
  std::string path = testing::DatasetsDir() + "/banking77/train.csv";
  ASSERT_TRUE(Present(path));
  auto source = OpenFileSource(path);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  TextReaderOptions o;
  o.label_field = "category";
  o.require_label = true;
  auto reader = MakeTextRecordReader(Format::kCsv, std::move(*source), o);
  ASSERT_TRUE(reader.ok());
  size_t records = 0, multiline = 0;
  uint64_t last_line = 0;
  TextRecord r;
  for (;;) {
    auto more = (*reader)->Next(&r);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++records;
    if (r.text.find('\n') != std::string::npos) ++multiline;
    EXPECT_FALSE(r.label.empty());
    last_line = r.line;
  }
  EXPECT_EQ(records, 10003u);
  EXPECT_EQ(multiline, 10u);
  EXPECT_EQ(r.row, 10003u);
  EXPECT_GT(last_line, 10003u);  // quoted newlines push physical lines past the row count
}

TEST(Datasets, Banking77HeaderIsTextCategory) {
  std::string path = testing::DatasetsDir() + "/banking77/train.csv";
  ASSERT_TRUE(Present(path));
  TextReaderOptions o;
  o.text_field = "utterance";
  auto reader = MakeTextRecordReader(Format::kCsv, OpenFileSource(path).value(), o);
  ASSERT_TRUE(reader.ok());
  TextRecord r;
  auto bad = (*reader)->Next(&r);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("available: 'text', 'category'"), std::string::npos)
      << bad.status().message();
}

TEST(Datasets, Conll2002SpanishTrainHasAllSentences) {
  std::string path = testing::DatasetsDir() + "/conll2002_es/esp.train";
  ASSERT_TRUE(Present(path));
  auto source = OpenFileSource(path);
  ASSERT_TRUE(source.ok());
  ConllReader reader(std::move(*source));
  size_t sentences = 0, tokens = 0, entities = 0;
  TaggedSentence s;
  for (;;) {
    auto more = reader.Next(&s);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++sentences;
    tokens += s.tokens.size();
    for (const auto& t : s.tags) entities += t.rfind("B-", 0) == 0;
  }
  // Counts from conll2002_es/SOURCE.md.
  EXPECT_EQ(sentences, 8323u);
  EXPECT_EQ(tokens, 264715u);
  EXPECT_EQ(entities, 18797u);
}

TEST(Datasets, MeddocanTrainOffsetsAreCodePoints) {
  std::string dir = testing::DatasetsDir() + "/meddocan_es/train";
  ASSERT_TRUE(Present(dir));
  std::vector<std::string> warnings;
  auto docs = ReadBratFolder(dir, &warnings);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(docs->size(), 500u);
  size_t mentions = 0, non_ascii = 0;
  for (const BratDocument& d : *docs) {
    // Independent check of ParseBratDocument's own: walk code points from the start.
    std::vector<size_t> cp_start;
    for (size_t i = 0; i < d.text.size(); ++i) {
      if ((static_cast<unsigned char>(d.text[i]) & 0xC0) != 0x80) cp_start.push_back(i);
    }
    cp_start.push_back(d.text.size());
    for (const BratAnnotation& a : d.annotations) {
      ASSERT_LE(a.end, cp_start.size() - 1) << d.name;
      std::string span = d.text.substr(cp_start[a.start], cp_start[a.end] - cp_start[a.start]);
      EXPECT_EQ(span, a.text) << d.name << " " << a.id;
      ++mentions;
      if (cp_start[a.start] != a.start) ++non_ascii;
    }
  }
  EXPECT_EQ(mentions, 11333u);  // from meddocan_es/SOURCE.md
  EXPECT_GT(non_ascii, 0u);     // byte and code point offsets really differ in this set
}

}  // namespace
}  // namespace lote::io
