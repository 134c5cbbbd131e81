#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_util.h"
#include "lote/io/records.h"

namespace lote::io {
namespace {

struct ConllOutcome {
  bool ok;
  TaggedSentence sentence;
  Status status;
};

std::vector<ConllOutcome> ReadConll(std::string data, TextEncoding enc = TextEncoding::kUtf8) {
  ConllReader reader(MakeOwnedStringSource(std::move(data), "c.conll"), enc);
  std::vector<ConllOutcome> out;
  for (int i = 0; i < 1000; ++i) {
    TaggedSentence s;
    auto more = reader.Next(&s);
    if (more.ok() && !*more) break;
    out.push_back({more.ok(), std::move(s), more.ok() ? Status() : more.status()});
    if (reader.failed()) break;
  }
  return out;
}

TEST(ConllReader, ReadsTokenFirstTagLastAndSplitsSentencesOnBlankLines) {
  auto all = ReadConll(
      "-DOCSTART- -X- O\n\n"
      "Melbourne NP B-LOC\n(\tFpa\tO\n\n\n"
      "El DA O\r\nAbogado NC B-PER\nGeneral AQ I-PER");
  ASSERT_EQ(all.size(), 2u);
  ASSERT_TRUE(all[0].ok);
  EXPECT_EQ(all[0].sentence.tokens, (std::vector<std::string>{"Melbourne", "("}));
  EXPECT_EQ(all[0].sentence.tags, (std::vector<std::string>{"B-LOC", "O"}));
  EXPECT_EQ(all[0].sentence.first_line, 3u);
  EXPECT_EQ(all[1].sentence.tokens, (std::vector<std::string>{"El", "Abogado", "General"}));
  EXPECT_EQ(all[1].sentence.tags, (std::vector<std::string>{"O", "B-PER", "I-PER"}));
  EXPECT_EQ(all[1].sentence.first_line, 7u);
}

TEST(ConllReader, AcceptsIobesAndBilouPrefixesWithTwoColumns) {
  auto all = ReadConll("a S-X\nb B-Y\nc E-Y\nd U-Z\ne L-Z\n");
  ASSERT_EQ(all.size(), 1u);
  ASSERT_TRUE(all[0].ok) << all[0].status.ToString();
  EXPECT_EQ(all[0].sentence.tags.size(), 5u);
}

TEST(ConllReader, BadLineDropsItsSentenceNamingFileAndLine) {
  auto all = ReadConll(
      "uno O\ndos\ntres O\n\n"
      "cuatro X-PER\n\n"
      "cinco B-\n\n"
      "seis O\n");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(all[0].status.message(), "c.conll:2: missing tag column after token 'dos'");
  EXPECT_EQ(all[1].status.message(),
            "c.conll:5: tag 'X-PER' is neither O nor B-/I-/E-/S-/L-/U- followed by a type");
  EXPECT_EQ(all[2].status.message(),
            "c.conll:7: tag 'B-' is neither O nor B-/I-/E-/S-/L-/U- followed by a type");
  ASSERT_TRUE(all[3].ok);
  EXPECT_EQ(all[3].sentence.tokens, (std::vector<std::string>{"seis"}));
  EXPECT_EQ(all[3].sentence.first_line, 9u);
}

TEST(ConllReader, InvalidUtf8SuggestsLatin1WhichReadsIt) {
  std::string latin1 =
      "Espa\xF1"
      "a B-LOC\n";
  auto utf8 = ReadConll(latin1);
  ASSERT_EQ(utf8.size(), 1u);
  EXPECT_EQ(utf8[0].status.message(),
            "c.conll:1: invalid UTF-8 at byte 4 (if the file is Latin-1, read it with "
            "TextEncoding::kLatin1)");
  auto fixed = ReadConll(latin1, TextEncoding::kLatin1);
  ASSERT_EQ(fixed.size(), 1u);
  ASSERT_TRUE(fixed[0].ok);
  EXPECT_EQ(fixed[0].sentence.tokens[0], "España");
}

TEST(ConllReader, EmptySourceHasNoSentences) {
  EXPECT_TRUE(ReadConll("").empty());
  EXPECT_TRUE(ReadConll("\n\n-DOCSTART- O\n\n").empty());
}

// ---- BRAT

TEST(BratDocument, OffsetsAreCodePointsAndAnnotationsAreSorted) {
  std::string text = "Paciente: José Núñez, 70 años.\nMadrid";
  std::string ann =
      "T2\tEDAD 22 29\t70 años\n"
      "T1\tNOMBRE 10 20\tJosé Núñez\r\n"
      "#1\tAnnotatorNotes T1\tnota\n"
      "R1\tRel Arg1:T1 Arg2:T2\n"
      "T3\tTERRITORIO 31 37\tMadrid\n";
  std::vector<std::string> warnings;
  auto doc = ParseBratDocument("caso", text, ann, "caso.ann", &warnings);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "caso");
  ASSERT_EQ(doc->annotations.size(), 3u);
  EXPECT_EQ(doc->annotations[0].id, "T1");
  EXPECT_EQ(doc->annotations[0].type, "NOMBRE");
  EXPECT_EQ(doc->annotations[0].start, 10u);
  EXPECT_EQ(doc->annotations[0].end, 20u);
  EXPECT_EQ(doc->annotations[0].text, "José Núñez");
  EXPECT_EQ(doc->annotations[1].id, "T2");
  EXPECT_EQ(doc->annotations[2].text, "Madrid");
  EXPECT_TRUE(warnings.empty());
}

TEST(BratDocument, SpanOverNewlineMatchesTheSpaceBratWrites) {
  auto doc =
      ParseBratDocument("d", "calle\nMayor 5", "T1\tCALLE 0 11\tcalle Mayor\n", "d.ann", nullptr);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->annotations[0].text, "calle Mayor");
}

TEST(BratDocument, DiscontinuousSpanBecomesHullWithWarning) {
  std::vector<std::string> warnings;
  auto doc = ParseBratDocument("d", "Juan y Pedro Pérez", "T1\tNOMBRE 0 4;13 18\tJuan Pérez\n",
                               "d.ann", &warnings);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->annotations[0].start, 0u);
  EXPECT_EQ(doc->annotations[0].end, 18u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "d.ann:1: discontinuous annotation T1 read as its hull 0-18");
}

TEST(BratDocument, OverlappingAnnotationsAreAllKept) {
  auto doc =
      ParseBratDocument("d", "Banco de Bogotá",
                        "T1\tORG 0 15\tBanco de Bogotá\nT2\tLOC 9 15\tBogotá\n", "d.ann", nullptr);
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->annotations.size(), 2u);
  EXPECT_EQ(doc->annotations[1].start, 9u);
}

TEST(BratDocument, BadAnnotationsAreErrorsNamingAnnFileAndLine) {
  std::string text = "Ana vive en Cali";
  struct Case {
    std::string ann;
    std::string message;
  } cases[] = {
      {"\nT1\tNOMBRE 0 3\tAna\nT2\tCIUDAD 12 20\tCali\n",
       "d.ann:3: span 12-20 out of range: d has 16 characters"},
      {"T1\tNOMBRE 0 3\tAnn\n",
       "d.ann:1: annotation T1 text 'Ann' differs from the document's 'Ana' at 0-3"},
      {"T1\tNOMBRE 0 3 Ana\n",
       "d.ann:1: malformed text-bound annotation (expected ID<TAB>TYPE START END<TAB>TEXT)"},
      {"T1\tNOMBRE x 3\tAna\n", "d.ann:1: bad span 'x 3' (expected START END)"},
      {"T1\tNOMBRE 3 3\t\n", "d.ann:1: empty or reversed span 3-3"},
      {"T1\t0 3\tAna\n", "d.ann:1: bad span '3' (expected START END)"},
  };
  for (const Case& c : cases) {
    auto doc = ParseBratDocument("d", text, c.ann, "d.ann", nullptr);
    ASSERT_FALSE(doc.ok()) << c.ann;
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(doc.status().message(), c.message);
  }
}

TEST(BratDocument, InvalidUtf8TextIsError) {
  auto doc = ParseBratDocument("d", "caf\xE9", "", "d.ann", nullptr);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message(), "d: text: invalid UTF-8 at byte 3");
}

}  // namespace
}  // namespace lote::io
