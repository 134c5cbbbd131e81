#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_util.h"
#include "lote/io/records.h"

namespace lote::io {
namespace {

using testing::Outcome;
using testing::ReadAll;

std::unique_ptr<TextRecordReader> Reader(Format format, std::string data, TextReaderOptions opt,
                                         std::string name = "in") {
  auto r = MakeTextRecordReader(format, MakeOwnedStringSource(std::move(data), std::move(name)),
                                std::move(opt));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TextReaderOptions Labelled(std::string label = "label") {
  TextReaderOptions o;
  o.label_field = std::move(label);
  return o;
}

// ---- CSV

TEST(CsvReader, ReadsQuotedFieldsEscapesAndNewlinesKeepingCrlf) {
  std::string data =
      "id,text,label\r\n"
      "1,plain,a\r\n"
      "2,\"with, comma and \"\"quotes\"\"\",b\r\n"
      "3,\"two\r\nlines\",c\r\n"
      "\r\n"
      "4,\"\",d";
  TextReaderOptions o = Labelled();
  o.id_field = "id";
  auto reader = Reader(Format::kCsv, data, o, "x.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 4u);
  for (const Outcome& x : all) ASSERT_TRUE(x.ok) << x.status.ToString();
  EXPECT_EQ(all[0].record.text, "plain");
  EXPECT_EQ(all[0].record.id, "1");
  EXPECT_EQ(all[0].record.line, 2u);
  EXPECT_EQ(all[1].record.text, "with, comma and \"quotes\"");
  EXPECT_EQ(all[2].record.text, "two\r\nlines");
  EXPECT_EQ(all[2].record.label, "c");
  EXPECT_TRUE(all[2].record.has_label);
  EXPECT_EQ(all[3].record.line, 7u);  // the blank line 6 is skipped, still counted
  EXPECT_EQ(all[3].record.row, 4u);
  EXPECT_EQ(all[3].record.text, "");
}

TEST(CsvReader, LineIsWhereTheRecordStartsAndRowCountsRecords) {
  std::string data = "text\n\"a\nb\nc\"\nd\n";
  auto reader = Reader(Format::kCsv, data, {});
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].record.line, 2u);
  EXPECT_EQ(all[0].record.row, 1u);
  EXPECT_EQ(all[0].record.text, "a\nb\nc");
  EXPECT_EQ(all[1].record.line, 5u);
  EXPECT_EQ(all[1].record.row, 2u);
}

TEST(CsvReader, EmptyFileAndHeaderOnlyYieldNoRecordsWithoutError) {
  for (std::string data : {"", "text,label\n", "text,label", "\n\n"}) {
    auto reader = Reader(Format::kCsv, data, Labelled());
    TextRecord r;
    auto more = reader->Next(&r);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    EXPECT_FALSE(*more);
    EXPECT_FALSE(reader->failed());
  }
}

TEST(CsvReader, MissingTextColumnIsFatalAndListsAvailableColumns) {
  auto reader = Reader(Format::kCsv, "sentence,category\nhola,x\n", {}, "d.csv");
  TextRecord r;
  auto first = reader->Next(&r);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(first.status().message(),
            "d.csv:1: column 'text' not in the header; available: 'sentence', 'category'");
  EXPECT_TRUE(reader->failed());
  EXPECT_EQ(reader->Next(&r).status().message(), first.status().message());
}

TEST(CsvReader, MissingRequiredLabelColumnIsFatalButOptionalLabelIsNot) {
  TextReaderOptions req = Labelled("intent");
  req.require_label = true;
  auto strict = Reader(Format::kCsv, "text,category\nhola,x\n", req, "d.csv");
  TextRecord r;
  auto bad = strict->Next(&r);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column 'intent' not in the header"), std::string::npos);

  auto lenient = Reader(Format::kCsv, "text,category\nhola,x\n", Labelled("intent"));
  ASSERT_TRUE(*lenient->Next(&r));
  EXPECT_FALSE(r.has_label);
  EXPECT_EQ(r.text, "hola");
}

TEST(CsvReader, UnparsableHeaderIsFatalFailedPrecondition) {
  auto reader = Reader(Format::kCsv, "\"text,label\nhola,x\n", {}, "h.csv");
  TextRecord r;
  auto bad = reader->Next(&r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "h.csv:1: unterminated quoted field (end of data inside quotes) (in the header)");
  EXPECT_TRUE(reader->failed());
  EXPECT_EQ(reader->Next(&r).status().code(), StatusCode::kFailedPrecondition);
}

TEST(CsvReader, WrongColumnCountIsRecordErrorAndReadingContinues) {
  auto reader = Reader(Format::kCsv, "text,label\na,1\nb,2,extra\nc\nd,4\n", Labelled(), "f.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_TRUE(all[0].ok);
  EXPECT_EQ(all[1].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(all[1].status.message(), "f.csv:3: expected 2 fields, found 3");
  EXPECT_EQ(all[2].status.message(), "f.csv:4: expected 2 fields, found 1");
  ASSERT_TRUE(all[3].ok);
  EXPECT_EQ(all[3].record.text, "d");
  EXPECT_EQ(all[3].record.row, 4u);
}

TEST(CsvReader, InvalidUtf8AndNulAreRecordErrorsNamingTheLine) {
  std::string data = std::string("text\nok\nbad\xC3(\nnul") + '\0' + "here\nfine\n";
  auto reader = Reader(Format::kCsv, data, {}, "u.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].status.message(), "u.csv:3: invalid UTF-8 at byte 3 of column 'text' (text)");
  EXPECT_EQ(all[2].status.message(), "u.csv:4: NUL byte at byte 3 of column 'text' (text)");
  ASSERT_TRUE(all[3].ok);
  EXPECT_EQ(all[3].record.text, "fine");
}

TEST(CsvReader, UnterminatedQuoteAtEndIsErrorNamingItsStartLine) {
  auto reader = Reader(Format::kCsv, "text\nfirst\n\"never\nclosed\n", {}, "q.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].ok);
  EXPECT_EQ(all[1].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(all[1].status.message(),
            "q.csv:3: unterminated quoted field (end of data inside quotes)");
  EXPECT_FALSE(reader->failed());
}

TEST(CsvReader, TextAfterClosingQuoteIsRecordError) {
  auto reader = Reader(Format::kCsv, "text\n\"a\"b\nc\n", {}, "q.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status.message(),
            "q.csv:2: unexpected character after closing quote at column 4 (record starts at "
            "line 2)");
  EXPECT_EQ(all[1].record.text, "c");
}

TEST(CsvReader, RecordOverLimitIsSkippedAndNextIsRead) {
  TextReaderOptions o;
  o.max_record_bytes = 64;
  std::string data = "text\n\"" + std::string(50, 'a') + "\n" + std::string(50, 'b') + "\"\nok\n";
  auto reader = Reader(Format::kCsv, data, o, "l.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(all[0].status.message(), "l.csv:2: record longer than 64 bytes");
  ASSERT_TRUE(all[1].ok);
  EXPECT_EQ(all[1].record.text, "ok");
  EXPECT_EQ(all[1].record.line, 4u);
}

TEST(CsvReader, RequiredLabelThatIsEmptyIsRecordError) {
  TextReaderOptions o = Labelled();
  o.require_label = true;
  auto reader = Reader(Format::kCsv, "text,label\na,\nb,y\n", o, "r.csv");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status.message(), "r.csv:2: empty label in column 'label'");
  EXPECT_EQ(all[1].record.label, "y");
}

TEST(CsvReader, ReadsThroughGzip) {
  std::string csv = "text,label\r\n\"multi\r\nline\",x\r\nsolo,y\r\n";
  auto source = MaybeDecompress(MakeOwnedStringSource(testing::GzipCompress(csv), "t.csv.gz"));
  auto reader = MakeTextRecordReader(Format::kCsv, std::move(source), Labelled());
  ASSERT_TRUE(reader.ok());
  auto all = ReadAll(reader->get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].record.text, "multi\r\nline");
  EXPECT_EQ(all[1].record.label, "y");
}

// ---- JSONL

TEST(JsonlReader, ReadsTextLabelIdConvertingNumbersAndSkippingBlankLines) {
  std::string data =
      "{\"text\":\"hola\",\"label\":\"saludo\",\"id\":7}\n"
      "\n"
      "  \r\n"
      "{\"text\":\"adiós\",\"label\":3,\"id\":\"a-1\"}\r\n"
      "{\"text\":\"x\",\"label\":null}\n"
      "{\"text\":\"y\",\"label\":2.5,\"id\":true}";
  TextReaderOptions o = Labelled();
  o.id_field = "id";
  auto reader = Reader(Format::kJsonl, data, o, "j.jsonl");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 4u);
  for (const Outcome& x : all) ASSERT_TRUE(x.ok) << x.status.ToString();
  EXPECT_EQ(all[0].record.id, "7");
  EXPECT_EQ(all[0].record.label, "saludo");
  EXPECT_EQ(all[1].record.text, "adiós");
  EXPECT_EQ(all[1].record.label, "3");
  EXPECT_EQ(all[1].record.line, 4u);
  EXPECT_EQ(all[1].record.row, 2u);
  EXPECT_FALSE(all[2].record.has_label);
  EXPECT_EQ(all[2].record.id, "");
  EXPECT_EQ(all[3].record.label, "2.5");
  EXPECT_EQ(all[3].record.id, "true");
}

TEST(JsonlReader, OnlyTopLevelFieldsCountAndTheLastDuplicateWins) {
  std::string data =
      "{\"meta\":{\"text\":\"nested\",\"id\":\"n\"},\"text\":\"a\",\"text\":\"b\","
      "\"id\":1e3,\"entities\":[{\"text\":\"e\"}]}\n"
      "{\"text\":\"c\",\"text\":null}\n"
      "{\"meta\":{\"text\":\"only nested\"}}\n";
  TextReaderOptions o;
  o.id_field = "id";
  auto reader = Reader(Format::kJsonl, data, o, "d.jsonl");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 3u);
  ASSERT_TRUE(all[0].ok) << all[0].status.ToString();
  EXPECT_EQ(all[0].record.text, "b");
  EXPECT_EQ(all[0].record.id, "1000.0");  // a number's JSON text, as nlohmann writes it
  ASSERT_FALSE(all[1].ok);
  EXPECT_EQ(all[1].status.message(), "d.jsonl:2: field 'text' is a null, not a string");
  ASSERT_FALSE(all[2].ok);
  EXPECT_EQ(all[2].status.message(), "d.jsonl:3: missing field 'text'");
}

TEST(JsonlReader, MalformedLineIsRecordErrorAndFollowingLinesAreRead) {
  std::string data =
      "{\"text\":\"uno\"}\n"
      "{\"text\":\"dos\", oops}\n"
      "[1,2]\n"
      "{\"text\":\"tres\"}\n"
      "{\"text\":\"cuatro\"}\n";
  auto reader = Reader(Format::kJsonl, data, {}, "m.jsonl");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 5u);
  EXPECT_TRUE(all[0].ok);
  EXPECT_FALSE(all[1].ok);
  EXPECT_EQ(all[1].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(all[1].status.message().rfind("m.jsonl:2: malformed JSON at byte ", 0), 0u)
      << all[1].status.message();
  EXPECT_EQ(all[2].status.message(), "m.jsonl:3: expected a JSON object, found array");
  EXPECT_EQ(all[3].record.text, "tres");
  EXPECT_EQ(all[4].record.text, "cuatro");
  EXPECT_FALSE(reader->failed());
}

TEST(JsonlReader, MalformedJsonMessageDoesNotQuoteTheRecord) {
  std::string secret(500, 's');
  auto reader = Reader(Format::kJsonl, "{\"text\":\"" + secret + "\" x}\n", {}, "m.jsonl");
  TextRecord r;
  auto bad = reader->Next(&r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("sssssssssss"), std::string::npos)
      << bad.status().message();
}

TEST(JsonlReader, MissingTextFieldInFirstObjectIsFatalListingKeys) {
  auto reader =
      Reader(Format::kJsonl, "{\"utterance\":\"hola\",\"intent\":\"x\"}\n", {}, "k.jsonl");
  TextRecord r;
  auto bad = reader->Next(&r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "k.jsonl:1: field 'text' not in the first object; available: 'intent', 'utterance'");
  EXPECT_TRUE(reader->failed());
}

TEST(JsonlReader, WithoutASchemaAFirstObjectMissingTextIsOnlyARecordError) {
  TextReaderOptions o;
  o.first_object_sets_columns = false;
  auto reader = Reader(Format::kJsonl, "{\"body\":\"hola\"}\n{\"text\":\"saldo\"}\n", o, "r");
  TextRecord r;
  auto bad = reader->Next(&r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "r:1: missing field 'text'");
  EXPECT_EQ(reader->last_error().problem, RecordProblem::kMissingField);
  EXPECT_FALSE(reader->failed());
  auto next = reader->Next(&r);
  ASSERT_TRUE(next.ok() && *next);
  EXPECT_EQ(r.text, "saldo");
  EXPECT_EQ(r.line, 2u);
}

TEST(JsonlReader, LaterRecordsMissingOrMistypedTextAreRecordErrors) {
  std::string data =
      "{\"text\":\"a\"}\n"
      "{\"other\":1}\n"
      "{\"text\":42}\n"
      "{\"text\":\"nul\\u0000inside\"}\n"
      "{\"text\":\"b\",\"label\":[1]}\n"
      "{\"text\":\"c\"}\n";
  auto reader = Reader(Format::kJsonl, data, Labelled(), "t.jsonl");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[1].status.message(), "t.jsonl:2: missing field 'text'");
  EXPECT_EQ(all[2].status.message(), "t.jsonl:3: field 'text' is a number, not a string");
  EXPECT_EQ(all[3].status.message(), "t.jsonl:4: NUL byte at byte 3 of field 'text'");
  EXPECT_EQ(all[4].status.message(),
            "t.jsonl:5: field 'label' is a array, not a string, number or boolean");
  EXPECT_EQ(all[5].record.text, "c");
}

TEST(JsonlReader, RequiredLabelMissingLaterIsRecordError) {
  TextReaderOptions o = Labelled();
  o.require_label = true;
  auto reader =
      Reader(Format::kJsonl, "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n", o, "r.jsonl");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].ok);
  EXPECT_EQ(all[1].status.message(), "r.jsonl:2: missing label field 'label'");
}

TEST(JsonlReader, InvalidUtf8AndRawNulAreRecordErrors) {
  std::string data =
      std::string("{\"text\":\"\xFF\"}\n{\"text\":\"a") + '\0' + "\"}\n{\"text\":\"ok\"}\n";
  auto reader = Reader(Format::kJsonl, data, {}, "u.jsonl");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].status.message(), "u.jsonl:1: invalid UTF-8 at byte 9");
  EXPECT_EQ(all[1].status.message(), "u.jsonl:2: NUL byte at byte 10");
  EXPECT_EQ(all[2].record.text, "ok");
}

TEST(JsonlReader, EmptyFileYieldsNothing) {
  auto reader = Reader(Format::kJsonl, "", {});
  TextRecord r;
  auto more = reader->Next(&r);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(JsonlReader, ReadsThroughZstd) {
  std::string data = "{\"text\":\"uno\",\"label\":1}\n{\"text\":\"dos\",\"label\":2}\n";
  auto source = MaybeDecompress(MakeOwnedStringSource(testing::ZstdCompress(data), "t.jsonl.zst"));
  auto reader = MakeTextRecordReader(Format::kJsonl, std::move(source), Labelled());
  ASSERT_TRUE(reader.ok());
  auto all = ReadAll(reader->get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].record.text, "dos");
  EXPECT_EQ(all[1].record.label, "2");
}

TEST(JsonlReader, ALineOverTheOneMebibyteDefaultFailsAloneAndALargerLimitReadsIt) {
  std::string big = "{\"text\":\"" + std::string(10 << 20, 'a') + "\"}\n{\"text\":\"next\"}\n";
  TextReaderOptions larger;
  larger.max_record_bytes = 16 << 20;
  auto fine = Reader(Format::kJsonl, big, larger);
  auto all = ReadAll(fine.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].record.text.size(), size_t{10 << 20});
  TextReaderOptions o;  // the default: 1 MiB
  auto limited = Reader(Format::kJsonl, big, o, "big.jsonl");
  all = ReadAll(limited.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(all[0].status.message(), "big.jsonl:1: line longer than 1048576 bytes");
  EXPECT_EQ(all[1].record.text, "next");
  EXPECT_EQ(all[1].record.row, 2u);
}

// ---- txt

TEST(TxtReader, OneRecordPerNonEmptyLineCountingSkippedLines) {
  auto reader = Reader(Format::kTxt, "uno\r\n\ndos\n\xC3\n\ntres", {}, "t.txt");
  auto all = ReadAll(reader.get());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].record.text, "uno");
  EXPECT_EQ(all[1].record.text, "dos");
  EXPECT_EQ(all[1].record.line, 3u);
  EXPECT_EQ(all[2].status.message(), "t.txt:4: invalid UTF-8 at byte 0");
  EXPECT_EQ(all[3].record.text, "tres");
  EXPECT_EQ(all[3].record.line, 6u);
  EXPECT_EQ(all[3].record.row, 4u);
}

TEST(TxtReader, SourceErrorIsFatal) {
  auto reader =
      MakeTextRecordReader(Format::kTxt, std::make_unique<testing::FailingSource>("a\n"), {});
  ASSERT_TRUE(reader.ok());
  auto all = ReadAll(reader->get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE((*reader)->failed());
}

// ---- factory and formats

// Every bad record's facts are fields of last_error(): callers never parse the message.
TEST(TextRecordReaders, LastErrorCarriesProblemLineRowAndReasonAsFields) {
  struct Case {
    Format format;
    std::string data;
    size_t max_bytes;
    RecordProblem problem;
    uint64_t line, row;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {Format::kJsonl, "{\"text\":\"a\"}\n\n{\"text\":\"b\"\n", 64 << 20,
       RecordProblem::kMalformedJson, 3, 2, ""},
      {Format::kJsonl, "{\"text\":\"a\"}\n{\"t\":1}\n", 64 << 20, RecordProblem::kMissingField, 2,
       2, "missing field 'text'"},
      {Format::kJsonl, "{\"text\":\"a\"}\n{\"text\":2}\n", 64 << 20, RecordProblem::kWrongType, 2,
       2, "field 'text' is a number, not a string"},
      {Format::kJsonl, "{\"text\":\"a\\u0000b\"}\n", 64 << 20, RecordProblem::kNulByte, 1, 1,
       "NUL byte at byte 1 of field 'text'"},
      {Format::kJsonl, "{\"text\":\"" + std::string(100, 'x') + "\"}\n", 64,
       RecordProblem::kTooLong, 1, 1, "line longer than 64 bytes"},
      {Format::kTxt, "ok\n\xff\n", 64 << 20, RecordProblem::kInvalidUtf8, 2, 2,
       "invalid UTF-8 at byte 0"},
      {Format::kCsv, "text,x\na,1\nb\n", 64 << 20, RecordProblem::kFieldCount, 3, 2,
       "expected 2 fields, found 1"},
      {Format::kCsv, "text\n\"a\"b\n", 64 << 20, RecordProblem::kMalformedCsv, 2, 1,
       "unexpected character after closing quote at column 4 (record starts at line 2)"},
      {Format::kCsv, "text\na\n\"" + std::string(100, 'y') + "\n" + std::string(100, 'y') + "\"\n",
       150, RecordProblem::kTooLong, 3, 2, "record longer than 150 bytes"},
  };
  for (const Case& c : cases) {
    TextReaderOptions o;
    o.max_record_bytes = c.max_bytes;
    auto reader = Reader(c.format, c.data, o, "f");
    EXPECT_EQ(reader->last_error().problem, RecordProblem::kNone);
    auto all = ReadAll(reader.get());
    const Outcome* bad = nullptr;
    for (const Outcome& x : all) {
      if (!x.ok) bad = &x;
    }
    ASSERT_NE(bad, nullptr) << c.data;
    const RecordError& e = reader->last_error();
    EXPECT_EQ(e.problem, c.problem) << c.data;
    EXPECT_EQ(e.line, c.line) << c.data;
    EXPECT_EQ(e.row, c.row) << c.data;
    if (!c.reason.empty()) {
      EXPECT_EQ(e.reason, c.reason) << c.data;
    }
    // The message is "SOURCE:LINE: reason", built from the same facts.
    EXPECT_EQ(bad->status.message(), "f:" + std::to_string(e.line) + ": " + e.reason) << c.data;
  }
}

TEST(MakeTextRecordReader, RejectsFormatsAndOptionsItCannotServe) {
  auto src = [] { return MakeOwnedStringSource("", "x"); };
  EXPECT_EQ(MakeTextRecordReader(Format::kConll, src(), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeTextRecordReader(Format::kBrat, src(), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeTextRecordReader(Format::kTxt, src(), Labelled()).status().code(),
            StatusCode::kInvalidArgument);
  TextReaderOptions no_text;
  no_text.text_field = "";
  EXPECT_EQ(MakeTextRecordReader(Format::kCsv, src(), no_text).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Formats, ParseNameAndPath) {
  EXPECT_EQ(*ParseFormat("NDJSON"), Format::kJsonl);
  EXPECT_EQ(*ParseFormat("csv"), Format::kCsv);
  EXPECT_EQ(ParseFormat("xml").status().code(), StatusCode::kInvalidArgument);
  for (Format f : {Format::kCsv, Format::kJsonl, Format::kTxt, Format::kConll, Format::kBrat}) {
    EXPECT_EQ(*ParseFormat(FormatName(f)), f);
  }
  EXPECT_EQ(*FormatFromPath("data/train.csv.gz", false), Format::kCsv);
  EXPECT_EQ(*FormatFromPath("a.b/x.JSONL.zst", false), Format::kJsonl);
  EXPECT_EQ(*FormatFromPath("x.ndjson", false), Format::kJsonl);
  EXPECT_EQ(*FormatFromPath("esp.iob", false), Format::kConll);
  EXPECT_EQ(*FormatFromPath("notes.txt", false), Format::kTxt);
  EXPECT_EQ(*FormatFromPath("corpus/train", true), Format::kBrat);
  EXPECT_EQ(FormatFromPath("esp.train", false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatFromPath("dir.csv/file", false).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lote::io
