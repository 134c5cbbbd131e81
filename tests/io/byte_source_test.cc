#include "lote/io/byte_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_util.h"

namespace lote::io {
namespace {

using testing::Drain;
using testing::FailingSource;
using testing::GzipCompress;
using testing::TrickleSource;
using testing::ZstdCompress;

std::vector<std::string> Lines(ByteSource* source, size_t max = 64 << 20) {
  LineReader reader(source, max);
  std::vector<std::string> out;
  std::string line;
  for (;;) {
    auto more = reader.Next(&line);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.push_back(line);
  }
  return out;
}

TEST(LineReader, SplitsOnNewlineDroppingCrAndKeepsFinalLineWithoutNewline) {
  auto src = MakeStringSource("a\r\nbb\n\nccc", "s");
  EXPECT_EQ(Lines(src.get()), (std::vector<std::string>{"a", "bb", "", "ccc"}));
}

TEST(LineReader, EmptySourceHasNoLinesAndTrailingNewlineAddsNone) {
  auto empty = MakeStringSource("", "s");
  EXPECT_TRUE(Lines(empty.get()).empty());
  auto one = MakeStringSource("x\n", "s");
  EXPECT_EQ(Lines(one.get()), (std::vector<std::string>{"x"}));
}

TEST(LineReader, DropsByteOrderMarkOnlyAtStart) {
  auto src = MakeStringSource("\xEF\xBB\xBFhead\n\xEF\xBB\xBFx\n", "s");
  EXPECT_EQ(Lines(src.get()), (std::vector<std::string>{"head", "\xEF\xBB\xBFx"}));
  // The BOM split across reads is still recognised.
  TrickleSource trickle("\xEF\xBB\xBFhi", 1);
  EXPECT_EQ(Lines(&trickle), (std::vector<std::string>{"hi"}));
}

TEST(LineReader, SameLinesWhateverTheReadSize) {
  std::string data;
  for (int i = 0; i < 300; ++i) data += std::string(i % 17, 'x') + std::to_string(i) + "\r\n";
  auto whole = MakeStringSource(data, "s");
  std::vector<std::string> expected = Lines(whole.get());
  ASSERT_EQ(expected.size(), 300u);
  for (size_t chunk : {1, 2, 3, 7, 64}) {
    TrickleSource src(data, chunk);
    EXPECT_EQ(Lines(&src), expected) << chunk;
  }
}

TEST(LineReader, ReportsCrlfSoCallersCanKeepIt) {
  auto src = MakeStringSource("a\r\nb\nc\r", "s");
  LineReader reader(src.get());
  std::string line;
  ASSERT_TRUE(*reader.Next(&line));
  EXPECT_TRUE(reader.had_crlf());
  ASSERT_TRUE(*reader.Next(&line));
  EXPECT_FALSE(reader.had_crlf());
  ASSERT_TRUE(*reader.Next(&line));
  EXPECT_EQ(line, "c");
  EXPECT_FALSE(reader.had_crlf());
}

TEST(LineReader, TenMegabyteLineWorksWithDefaultLimit) {
  std::string big(10 << 20, 'a');
  std::string data = "first\n" + big + "\nlast";
  auto src = MakeStringSource(data, "big.txt");
  auto lines = Lines(src.get());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), big.size());
  EXPECT_EQ(lines[2], "last");
}

TEST(LineReader, LineOverLimitIsResourceExhaustedNamingLineThenReadingContinues) {
  std::string data = "ok\n" + std::string(10 << 20, 'a') + "\r\nnext\n" + std::string(5000, 'b');
  for (size_t chunk : {size_t{1} << 30, size_t{999}}) {
    TrickleSource src(data, chunk, "big.txt");
    LineReader reader(&src, 1024);
    std::string line;
    ASSERT_TRUE(*reader.Next(&line));
    EXPECT_EQ(line, "ok");
    auto bad = reader.Next(&line);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(bad.status().message(), "big.txt:2: line longer than 1024 bytes");
    ASSERT_TRUE(*reader.Next(&line));
    EXPECT_EQ(line, "next");
    EXPECT_EQ(reader.line_number(), 3u);
    // The final over-long line has no newline.
    auto last = reader.Next(&line);
    ASSERT_FALSE(last.ok());
    EXPECT_EQ(last.status().message(), "big.txt:4: line longer than 1024 bytes");
    auto end = reader.Next(&line);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(*end);
  }
}

TEST(LineReader, LineOfExactlyTheLimitPassesEvenWithCrlf) {
  std::string data = std::string(8, 'x') + "\r\n" + std::string(9, 'y') + "\n";
  TrickleSource src(data, 3);
  LineReader reader(&src, 8);
  std::string line;
  ASSERT_TRUE(*reader.Next(&line));
  EXPECT_EQ(line, std::string(8, 'x'));
  EXPECT_EQ(reader.Next(&line).status().code(), StatusCode::kResourceExhausted);
}

TEST(LineReader, SourceErrorIsStickyAfterLinesBeforeIt) {
  FailingSource src("a\nb");
  LineReader reader(&src);
  std::string line;
  ASSERT_TRUE(*reader.Next(&line));
  EXPECT_EQ(line, "a");
  auto bad = reader.Next(&line);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(reader.Next(&line).status().code(), StatusCode::kUnavailable);
}

TEST(StringSource, OwnedSourceKeepsItsBytes) {
  auto src = MakeOwnedStringSource(std::string("hello"), "mem://x");
  EXPECT_EQ(src->name(), "mem://x");
  EXPECT_EQ(*Drain(src.get(), 2), "hello");
}

std::string SampleText() {
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "línea " + std::to_string(i * 7919 % 10007) + "\n";
  return s;
}

TEST(GzipSource, RoundTripsInAnyReadSize) {
  std::string text = SampleText();
  std::string gz = GzipCompress(text);
  for (size_t chunk : {1, 13, 4096, 1 << 20}) {
    auto src = MakeGzipSource(std::make_unique<TrickleSource>(gz, chunk));
    auto out = Drain(src.get(), chunk);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, text) << chunk;
  }
}

TEST(GzipSource, ReadsConcatenatedMembersAsOneStream) {
  std::string gz = GzipCompress("uno\n") + GzipCompress("") + GzipCompress("dos\n");
  auto src = MakeGzipSource(MakeOwnedStringSource(gz, "two.gz"));
  EXPECT_EQ(*Drain(src.get()), "uno\ndos\n");
}

TEST(GzipSource, CorruptAndTruncatedStreamsAreDataLossNamingSource) {
  std::string gz = GzipCompress(SampleText());
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  auto a = MakeGzipSource(MakeOwnedStringSource(corrupt, "in.csv.gz"));
  auto ra = Drain(a.get());
  ASSERT_FALSE(ra.ok());
  EXPECT_EQ(ra.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(ra.status().message().find("in.csv.gz"), std::string::npos);
  char buf[16];
  EXPECT_EQ(a->Read(buf, sizeof(buf)).status().code(), StatusCode::kDataLoss);  // sticky

  auto b = MakeGzipSource(MakeOwnedStringSource(gz.substr(0, gz.size() - 3), "cut.gz"));
  auto rb = Drain(b.get());
  ASSERT_FALSE(rb.ok());
  EXPECT_EQ(rb.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(rb.status().message(), "cut.gz: corrupt gzip stream: truncated");

  auto c = MakeGzipSource(MakeOwnedStringSource("plain text, not gzip", "fake.gz"));
  EXPECT_EQ(Drain(c.get()).status().code(), StatusCode::kDataLoss);
}

TEST(GzipSource, EmptyInputIsEmptyOutput) {
  auto src = MakeGzipSource(MakeOwnedStringSource("", "empty.gz"));
  auto out = Drain(src.get());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "");
}

TEST(ZstdSource, RoundTripsInAnyReadSizeAndAcrossFrames) {
  std::string text = SampleText();
  std::string zst = ZstdCompress(text) + ZstdCompress("tail\n");
  for (size_t chunk : {1, 13, 4096, 1 << 20}) {
    auto src = MakeZstdSource(std::make_unique<TrickleSource>(zst, chunk));
    auto out = Drain(src.get(), chunk);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, text + "tail\n") << chunk;
  }
}

TEST(ZstdSource, CorruptAndTruncatedStreamsAreDataLossNamingSource) {
  std::string zst = ZstdCompress(SampleText());
  auto a = MakeZstdSource(MakeOwnedStringSource(zst.substr(0, zst.size() / 2), "cut.zst"));
  auto ra = Drain(a.get());
  ASSERT_FALSE(ra.ok());
  EXPECT_EQ(ra.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ra.status().message(), "cut.zst: corrupt zstd stream: truncated");

  auto b = MakeZstdSource(MakeOwnedStringSource("not zstd at all", "bad.zst"));
  auto rb = Drain(b.get());
  ASSERT_FALSE(rb.ok());
  EXPECT_EQ(rb.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(rb.status().message().find("bad.zst"), std::string::npos);
}

TEST(MaybeDecompress, ChoosesByExtensionIgnoringCase) {
  auto gz = MaybeDecompress(MakeOwnedStringSource(GzipCompress("g\n"), "a.CSV.GZ"));
  EXPECT_EQ(*Drain(gz.get()), "g\n");
  auto zst = MaybeDecompress(MakeOwnedStringSource(ZstdCompress("z\n"), "a.jsonl.zst"));
  EXPECT_EQ(*Drain(zst.get()), "z\n");
  auto plain = MaybeDecompress(MakeOwnedStringSource("p\n", "a.txt"));
  EXPECT_EQ(*Drain(plain.get()), "p\n");
}

}  // namespace
}  // namespace lote::io
