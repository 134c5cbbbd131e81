// ReadEntityJsonl: entity-annotated JSON Lines read as documents, with every bad line an error
// naming source and line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_util.h"
#include "lote/io/records.h"

namespace lote::io {
namespace {

Result<std::vector<BratDocument>> Read(const std::string& data, EntityJsonlOptions opt = {}) {
  auto src = std::make_unique<testing::TrickleSource>(data, 7, "m.jsonl");
  return ReadEntityJsonl(src.get(), opt);
}

TEST(EntityJsonl, ReadsObjectsWithCodePointOffsetsSortedBySpan) {
  // "😀" is one code point (four bytes): María starts at 10 in code points, 15 in bytes.
  auto docs = Read(
      "{\"id\": \"a1\", \"text\": \"¡Señor! 😀 María en Cali\", \"entities\": ["
      "{\"type\": \"LOC\", \"start\": 19, \"end\": 23, \"text\": \"Cali\"},"
      "{\"label\": \"PER\", \"start\": 10, \"end\": 15}]}\n"
      "\n"
      "{\"text\": \"nada\", \"entities\": []}\n");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 2u);
  const BratDocument& d = (*docs)[0];
  EXPECT_EQ(d.name, "a1");
  ASSERT_EQ(d.annotations.size(), 2u);
  EXPECT_EQ(d.annotations[0].type, "PER");
  EXPECT_EQ(d.annotations[0].start, 10u);
  EXPECT_EQ(d.annotations[0].text, "María");
  EXPECT_EQ(d.annotations[1].type, "LOC");
  EXPECT_EQ(d.annotations[1].text, "Cali");
  EXPECT_EQ((*docs)[1].name, "m.jsonl:3");  // no id: source and line
  EXPECT_TRUE((*docs)[1].annotations.empty());
}

TEST(EntityJsonl, ReadsDoccanoArraysFromAnotherField) {
  EntityJsonlOptions opt;
  opt.entities_field = "label";
  opt.text_field = "data";
  auto docs =
      Read("{\"id\": 7, \"data\": \"Pagué a Nequi\", \"label\": [[8, 13, \"ORG\"]]}\n", opt);
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].name, "7");
  ASSERT_EQ((*docs)[0].annotations.size(), 1u);
  EXPECT_EQ((*docs)[0].annotations[0].text, "Nequi");
}

TEST(EntityJsonl, EmptySourceHasNoDocuments) {
  auto docs = Read("");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(docs->empty());
}

TEST(EntityJsonl, BadLinesAreErrorsNamingSourceAndLine) {
  const std::string ok = "{\"text\": \"Ana\", \"entities\": []}\n";
  struct Case {
    std::string line;
    std::string message;
  } cases[] = {
      {"{\"text\": \"Ana\", \"entities\": [}", "m.jsonl:2: malformed JSON at byte 30"},
      {"[1, 2]", "m.jsonl:2: expected a JSON object, found array"},
      {"{\"entities\": []}", "m.jsonl:2: missing field 'text'"},
      {"{\"text\": 3, \"entities\": []}", "m.jsonl:2: field 'text' is a number, not a string"},
      {"{\"text\": \"Ana\"}", "m.jsonl:2: missing field 'entities'"},
      {"{\"text\": \"Ana\", \"entities\": {}}",
       "m.jsonl:2: field 'entities' is a object, not an array"},
      {"{\"text\": \"Ana\", \"entities\": [{\"start\": 0, \"end\": 3}]}",
       "m.jsonl:2: entity 1: expected {\"type\", \"start\", \"end\"} or [start, end, \"TYPE\"]"},
      {"{\"text\": \"Ana\", \"entities\": [[0, 3, \"\"]]}",
       "m.jsonl:2: entity 1: the type is not a non-empty string"},
      {"{\"text\": \"Ana\", \"entities\": [[0, 3, \"A B\"]]}",
       "m.jsonl:2: entity 1: the type 'A B' contains white space"},
      {"{\"text\": \"Ana\", \"entities\": [[0, 2.5, \"PER\"]]}",
       "m.jsonl:2: entity 1: start and end must be non-negative integers"},
      {"{\"text\": \"Ana\", \"entities\": [[-1, 2, \"PER\"]]}",
       "m.jsonl:2: entity 1: start and end must be non-negative integers"},
      {"{\"text\": \"Ana\", \"entities\": [[2, 2, \"PER\"]]}",
       "m.jsonl:2: entity 1: empty or reversed span 2-2"},
      {"{\"text\": \"Ana\", \"entities\": [[0, 3, \"PER\"], [1, 9, \"PER\"]]}",
       "m.jsonl:2: entity 2: span 1-9 out of range: the text has 3 characters"},
      {"{\"text\": \"Ana\", \"entities\": [{\"type\": \"PER\", \"start\": 0, \"end\": 3, "
       "\"text\": \"Ann\"}]}",
       "m.jsonl:2: entity 1 text 'Ann' differs from the record's 'Ana' at 0-3"},
      {"{\"text\": \"A\\u0000\", \"entities\": []}", "m.jsonl:2: text: NUL byte at byte 1"},
      {"{\"text\": \"A\xff\", \"entities\": []}", "m.jsonl:2: invalid UTF-8 at byte 11"},
  };
  for (const Case& c : cases) {
    auto docs = Read(ok + c.line + "\n" + ok);
    ASSERT_FALSE(docs.ok()) << c.line;
    EXPECT_EQ(docs.status().code(), StatusCode::kInvalidArgument) << c.line;
    EXPECT_EQ(docs.status().message(), c.message) << c.line;
  }
}

}  // namespace
}  // namespace lote::io
