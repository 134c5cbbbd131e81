#include "lote/storage/storage.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "lote/aws/credentials.h"
#include "lote/storage/fault_injecting_storage.h"
#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::storage {
namespace {

namespace fs = std::filesystem;

std::string ReadAllFrom(io::ByteSource* source) {
  std::string out;
  char buf[7];  // small on purpose: several Read calls
  while (true) {
    auto n = source->Read(buf, sizeof(buf));
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

// Reads `source` to its end with reads of the given sizes, in turn.
std::string ReadWithSizes(io::ByteSource* source, const std::vector<size_t>& sizes) {
  std::string out;
  std::vector<char> buf(*std::max_element(sizes.begin(), sizes.end()));
  for (size_t i = 0;; ++i) {
    auto n = source->Read(buf.data(), sizes[i % sizes.size()]);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

// `n` bytes in which each 8-byte word holds its own offset: a range read from the wrong place,
// twice or not at all cannot go unnoticed.
std::string OffsetPattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(((i / 8) >> (8 * (i % 8))) & 0xff);
  return out;
}

// "" when equal, else where the first difference is (instead of printing MiBs).
std::string Difference(const std::string& got, const std::string& want) {
  if (got == want) return "";
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return "got " + std::to_string(got.size()) + " bytes, want " + std::to_string(want.size()) +
         "; first difference at byte " + std::to_string(i);
}

// Writes `n` small objects below `prefix` (every tenth one a level deeper) from 8 threads, each
// holding its own number; returns their URIs, sorted. Names are not zero-padded, so sorted order
// is not the order they were written in ("obj-10" before "obj-9").
std::vector<std::string> WriteMany(Storage* storage, const std::string& prefix, int n) {
  std::vector<std::string> uris(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    uris[static_cast<size_t>(i)] =
        JoinUri(prefix, (i % 10 == 9 ? "sub/obj-" : "obj-") + std::to_string(i));
  }
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        if (!storage->Write(uris[static_cast<size_t>(i)], std::to_string(i)).ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  std::sort(uris.begin(), uris.end());
  return uris;
}

std::vector<std::string> UrisOf(const std::vector<ObjectInfo>& listed) {
  std::vector<std::string> uris;
  for (const ObjectInfo& info : listed) uris.push_back(info.uri);
  return uris;
}

// One backend under test: the storage, the root URI a test works below (fresh for each test),
// and what removes what the test left there.
struct BackendUnderTest {
  std::shared_ptr<Storage> storage;
  std::string root;
  std::function<void()> cleanup;
};

// The backend a StorageContract parameter names. An error (e.g. a service that did not start)
// fails the test: a backend that cannot be tested is never skipped.
Result<BackendUnderTest> MakeBackend(const std::string& name) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  if (name == "file") {
    const std::string root =
        (fs::temp_directory_path() /
         ("lote_storage_test_" + std::to_string(::getpid()) + "_" + std::to_string(n)))
            .string();
    fs::create_directories(root);
    return BackendUnderTest{NewLocalStorage(), root, [root] { fs::remove_all(root); }};
  }
  if (name == "mem") {
    return BackendUnderTest{NewMemStorage(), "mem://t" + std::to_string(n), [] {}};
  }
  if (name == "s3") {  // a bucket per test on the binary's moto_server
    LOTE_ASSIGN_OR_RETURN(lote::testing::MotoServer * moto, lote::testing::SharedMotoServer());
    const std::string bucket = lote::testing::UniqueBucketName("contract");
    LOTE_RETURN_IF_ERROR(moto->CreateBucket(bucket));
    S3StorageOptions options = lote::testing::MotoS3Options(moto->endpoint());
    options.read_part_bytes = 1 << 20;  // streaming reads cross several ranges
    LOTE_ASSIGN_OR_RETURN(auto storage, NewS3Storage(std::move(options)));
    return BackendUnderTest{storage, "s3://" + bucket + "/t", [] {}};
  }
  return InvalidArgumentError("no such backend under test: " + name);
}

// Runs every contract test against each backend (see MakeBackend).
class StorageContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto backend = MakeBackend(GetParam());
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    storage_ = backend->storage;
    root_ = backend->root;
    cleanup_ = backend->cleanup;
  }
  void TearDown() override {
    if (cleanup_) cleanup_();
  }
  std::string U(std::string_view rel) const { return JoinUri(root_, rel); }

  std::string root_;
  std::shared_ptr<Storage> storage_;
  std::function<void()> cleanup_;
};

TEST_P(StorageContract, WritesAndReadsWholeObjectsAndRanges) {
  ASSERT_TRUE(storage_->Write(U("a/b/c.txt"), "hello world").ok());
  auto whole = storage_->Read(U("a/b/c.txt"));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, "hello world");
  auto range = storage_->ReadRange(U("a/b/c.txt"), 6, 3);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, "wor");
  auto tail = storage_->ReadRange(U("a/b/c.txt"), 9, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, "ld");
  auto past = storage_->ReadRange(U("a/b/c.txt"), 100, 5);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(*past, "");
  auto stat = storage_->Stat(U("a/b/c.txt"));
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->size, 11u);
  EXPECT_FALSE(stat->etag.empty());
}

TEST_P(StorageContract, StreamsReadsThroughAByteSource) {
  ASSERT_TRUE(storage_->Write(U("s.txt"), "0123456789abcdefghij").ok());
  auto source = storage_->OpenRead(U("s.txt"));
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(ReadAllFrom(source->get()), "0123456789abcdefghij");
  EXPECT_EQ((*source)->name(), U("s.txt"));
}

TEST_P(StorageContract, MissingObjectsAreNotFound) {
  EXPECT_EQ(storage_->Read(U("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->Stat(U("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->OpenRead(U("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->Delete(U("nope")).code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->Rename(U("nope"), U("x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->List(U("nodir")).status().code(), StatusCode::kNotFound);
}

TEST_P(StorageContract, WriterPublishesOnlyOnClose) {
  auto writer = storage_->NewWriter(U("out/part.bin"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("abc").ok());
  ASSERT_TRUE((*writer)->Append("def").ok());
  EXPECT_EQ(storage_->Stat(U("out/part.bin")).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(*storage_->Read(U("out/part.bin")), "abcdef");
  EXPECT_EQ((*writer)->Append("x").code(), StatusCode::kFailedPrecondition);
}

TEST_P(StorageContract, AbandonedWriterLeavesNothingVisible) {
  {
    auto writer = storage_->NewWriter(U("out/gone.bin"));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("abc").ok());
  }
  EXPECT_EQ(storage_->Stat(U("out/gone.bin")).status().code(), StatusCode::kNotFound);
  auto listed = storage_->List(root_);
  // The folder may be empty (local: it exists; mem: nothing under the prefix).
  if (listed.ok()) {
    EXPECT_TRUE(listed->empty());
  }
}

TEST_P(StorageContract, WriteReplacesAtomically) {
  ASSERT_TRUE(storage_->Write(U("m.json"), "old").ok());
  ASSERT_TRUE(storage_->Write(U("m.json"), "new content").ok());
  EXPECT_EQ(*storage_->Read(U("m.json")), "new content");
}

TEST_P(StorageContract, CreateIfAbsentIsExclusive) {
  ASSERT_TRUE(storage_->CreateIfAbsent(U("marker"), "first").ok());
  Status again = storage_->CreateIfAbsent(U("marker"), "second");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*storage_->Read(U("marker")), "first");
}

TEST_P(StorageContract, CreateIfAbsentLetsExactlyOneConcurrentCallerWin) {
  constexpr int kThreads = 8;
  std::atomic<int> wins{0};
  std::vector<Status> results(kThreads);
  std::latch start(kThreads);  // all threads call at once
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[static_cast<size_t>(i)] = storage_->CreateIfAbsent(U("race"), std::to_string(i));
      if (results[static_cast<size_t>(i)].ok()) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  int winner = -1;
  for (int i = 0; i < kThreads; ++i) {
    const Status& r = results[static_cast<size_t>(i)];
    if (r.ok()) {
      winner = i;
    } else {
      EXPECT_EQ(r.code(), StatusCode::kAlreadyExists) << r.ToString();
    }
  }
  auto content = storage_->Read(U("race"));
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, std::to_string(winner)) << "the object holds the winner's bytes";
}

TEST_P(StorageContract, ListsRecursivelySortedAndSkipsHiddenFiles) {
  ASSERT_TRUE(storage_->Write(U("in/b.jsonl"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/a.csv"), "22").ok());
  ASSERT_TRUE(storage_->Write(U("in/sub/c.txt"), "333").ok());
  ASSERT_TRUE(storage_->Write(U("in/.hidden"), "x").ok());
  ASSERT_TRUE(storage_->Write(U("other/d.txt"), "x").ok());
  auto listed = storage_->List(U("in"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].uri, U("in/a.csv"));
  EXPECT_EQ((*listed)[0].size, 2u);
  EXPECT_EQ((*listed)[1].uri, U("in/b.jsonl"));
  EXPECT_EQ((*listed)[2].uri, U("in/sub/c.txt"));
  auto one = storage_->List(U("in/b.jsonl"));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
}

TEST_P(StorageContract, ListsByGlobWithoutCrossingFolders) {
  ASSERT_TRUE(storage_->Write(U("in/a.jsonl"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/b.jsonl"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/c.csv"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/sub/d.jsonl"), "1").ok());
  auto listed = storage_->List(U("in/*.jsonl"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].uri, U("in/a.jsonl"));
  EXPECT_EQ((*listed)[1].uri, U("in/b.jsonl"));
  auto none = storage_->List(U("in/*.parquet"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StorageContract, ListsOnlyWhatSortsAfterAGivenUri) {
  ASSERT_TRUE(storage_->Write(U("in/a.jsonl"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/b.jsonl"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/c.csv"), "1").ok());
  ASSERT_TRUE(storage_->Write(U("in/sub/d.jsonl"), "1").ok());
  auto after = storage_->ListAfter(U("in"), U("in/a.jsonl"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(UrisOf(*after),
            (std::vector<std::string>{U("in/b.jsonl"), U("in/c.csv"), U("in/sub/d.jsonl")}));
  // Between two objects (the URI need not exist), and with a glob.
  auto between = storage_->ListAfter(U("in/*.jsonl"), U("in/a.jsonl-"));
  ASSERT_TRUE(between.ok()) << between.status().ToString();
  EXPECT_EQ(UrisOf(*between), std::vector<std::string>{U("in/b.jsonl")});
  // Nothing after the last: empty, not NotFound. Nothing given: exactly List.
  auto none = storage_->ListAfter(U("in"), U("in/sub/d.jsonl"));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  auto all = storage_->ListAfter(U("in"), "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  EXPECT_EQ(storage_->ListAfter(U("nothing-here"), "").status().code(), StatusCode::kNotFound);
}

TEST_P(StorageContract, RenameMovesAndReplaces) {
  ASSERT_TRUE(storage_->Write(U("tmp/x"), "payload").ok());
  ASSERT_TRUE(storage_->Write(U("final/x"), "stale").ok());
  ASSERT_TRUE(storage_->Rename(U("tmp/x"), U("final/x")).ok());
  EXPECT_EQ(*storage_->Read(U("final/x")), "payload");
  EXPECT_EQ(storage_->Stat(U("tmp/x")).status().code(), StatusCode::kNotFound);
}

TEST_P(StorageContract, DeletePrefixRemovesEverythingBelowIncludingUnfinishedWrites) {
  ASSERT_TRUE(storage_->Write(U("stage/a/1"), "x").ok());
  ASSERT_TRUE(storage_->Write(U("stage/2"), "x").ok());
  ASSERT_TRUE(storage_->Write(U("stagex"), "keep").ok());
  auto unfinished = storage_->NewWriter(U("stage/b/3"));
  ASSERT_TRUE(unfinished.ok());
  ASSERT_TRUE((*unfinished)->Append("partial").ok());
  ASSERT_TRUE(storage_->DeletePrefix(U("stage")).ok());
  EXPECT_EQ(storage_->List(U("stage")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*storage_->Read(U("stagex")), "keep");
  EXPECT_TRUE(storage_->DeletePrefix(U("nothing-here")).ok());
  if (GetParam() == "file") {
    EXPECT_FALSE(fs::exists(U("stage")));
  }
}

TEST_P(StorageContract, EtagChangesWhenContentChanges) {
  ASSERT_TRUE(storage_->Write(U("e"), "v1").ok());
  auto first = storage_->Stat(U("e"));
  ASSERT_TRUE(storage_->Write(U("e"), "v2 longer").ok());
  auto second = storage_->Stat(U("e"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->etag, second->etag);
}

TEST_P(StorageContract, LockIsExclusiveUntilReleased) {
  auto first = storage_->TryLock(U("_lock"), "pid=1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = storage_->TryLock(U("_lock"), "pid=2");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("pid=1"), std::string::npos);
  first->reset();
  auto third = storage_->TryLock(U("_lock"), "pid=3");
  EXPECT_TRUE(third.ok());
}

TEST_P(StorageContract, ZeroByteObjectsAreObjects) {
  ASSERT_TRUE(storage_->Write(U("z/empty"), "").ok());
  auto stat = storage_->Stat(U("z/empty"));
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->size, 0u);
  EXPECT_FALSE(stat->etag.empty());
  auto whole = storage_->Read(U("z/empty"));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, "");
  // S3 answers a Range on an empty object with 416: the contract says empty, not an error.
  auto range = storage_->ReadRange(U("z/empty"), 0, 10);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(*range, "");
  auto source = storage_->OpenRead(U("z/empty"));
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(ReadAllFrom(source->get()), "");
  // A writer closed without any Append publishes an empty object too.
  auto writer = storage_->NewWriter(U("z/streamed"));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Close().ok());
  ASSERT_TRUE(storage_->CreateIfAbsent(U("z/marker"), "").ok());
  EXPECT_EQ(storage_->CreateIfAbsent(U("z/marker"), "").code(), StatusCode::kAlreadyExists);
  auto listed = storage_->List(U("z"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(UrisOf(*listed),
            (std::vector<std::string>{U("z/empty"), U("z/marker"), U("z/streamed")}));
  for (const ObjectInfo& info : *listed) EXPECT_EQ(info.size, 0u) << info.uri;
  ASSERT_TRUE(storage_->Rename(U("z/empty"), U("z/moved")).ok());
  EXPECT_EQ(*storage_->Read(U("z/moved")), "");
  EXPECT_EQ(storage_->Stat(U("z/empty")).status().code(), StatusCode::kNotFound);
}

// S3 keys are UTF-8 and percent-encoded on the wire (a literal "%2F" or "+" in a key is where
// double encoding or form decoding shows); local names are bytes.
TEST_P(StorageContract, KeysWithSpacesAndNonAsciiCharactersRoundTrip) {
  const std::vector<std::string> names = {
      "dir with space/file name.txt",
      "\u00f1and\u00fa/a\u00f1o 2024 \u20ac.jsonl",  // ñandú/año 2024 €.jsonl
      "\u65e5\u672c\u8a9e/\u30c7\u30fc\u30bf.csv",   // 日本語/データ.csv
      "emoji \U0001F600/x y",
      "plus+equals=amp&comma,at@hash#/v",
      "percent%2F20 and %/w",
  };
  std::vector<std::string> uris;
  for (const std::string& name : names) {
    uris.push_back(U(name));
    ASSERT_TRUE(storage_->Write(U(name), "content of " + name).ok()) << name;
  }
  std::sort(uris.begin(), uris.end());  // byte order, which is code point order in UTF-8
  auto listed = storage_->List(root_);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(UrisOf(*listed), uris);
  auto globbed = storage_->List(U("dir with space/*.txt"));
  ASSERT_TRUE(globbed.ok()) << globbed.status().ToString();
  EXPECT_EQ(UrisOf(*globbed), std::vector<std::string>{U("dir with space/file name.txt")});
  auto utf8_glob = storage_->List(U("\u00f1and\u00fa/*"));
  ASSERT_TRUE(utf8_glob.ok()) << utf8_glob.status().ToString();
  EXPECT_EQ(utf8_glob->size(), 1u);

  std::vector<std::string> renamed;
  for (const std::string& name : names) {
    const std::string content = "content of " + name;
    auto stat = storage_->Stat(U(name));
    ASSERT_TRUE(stat.ok()) << name << ": " << stat.status().ToString();
    EXPECT_EQ(stat->size, content.size()) << name;
    auto read = storage_->Read(U(name));
    ASSERT_TRUE(read.ok()) << name;
    EXPECT_EQ(*read, content);
    const std::string to = U("renamed/" + name + " (2) \u00e9");
    ASSERT_TRUE(storage_->Rename(U(name), to).ok()) << name;
    EXPECT_EQ(*storage_->Read(to), content) << to;
    EXPECT_EQ(storage_->Stat(U(name)).status().code(), StatusCode::kNotFound) << name;
    renamed.push_back(to);
  }
  std::sort(renamed.begin(), renamed.end());
  auto listed_renamed = storage_->List(U("renamed"));
  ASSERT_TRUE(listed_renamed.ok());
  EXPECT_EQ(UrisOf(*listed_renamed), renamed);
  for (const std::string& uri : renamed) {
    ASSERT_TRUE(storage_->Delete(uri).ok()) << uri;
    EXPECT_EQ(storage_->Stat(uri).status().code(), StatusCode::kNotFound) << uri;
  }
  auto after = storage_->List(root_);
  // Local storage keeps the emptied folders (an empty listing); object stores have nothing left
  // under the prefix (NotFound).
  if (after.ok()) {
    EXPECT_TRUE(after->empty());
  } else {
    EXPECT_EQ(after.status().code(), StatusCode::kNotFound);
  }
}

// More than one page of ListObjectsV2 (1,000 keys).
TEST_P(StorageContract, ListsMoreThanAThousandObjectsCompletelyAndSorted) {
  const std::vector<std::string> uris = WriteMany(storage_.get(), U("many"), 1100);
  ASSERT_TRUE(storage_->Write(U("manyx"), "not below").ok());
  ASSERT_TRUE(storage_->Write(U("many-sibling/x"), "not below").ok());
  auto listed = storage_->List(U("many"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1100u);
  EXPECT_EQ(UrisOf(*listed), uris);
  for (const ObjectInfo& info : *listed) {
    const std::string number = info.uri.substr(info.uri.rfind('-') + 1);
    EXPECT_EQ(info.size, number.size()) << info.uri;
  }
  // A glob over the same prefix filters every page, and does not descend into sub/.
  std::vector<std::string> want;
  for (const std::string& uri : uris) {
    if (uri.rfind(U("many/obj-1"), 0) == 0) want.push_back(uri);
  }
  auto globbed = storage_->List(U("many/obj-1*"));
  ASSERT_TRUE(globbed.ok()) << globbed.status().ToString();
  EXPECT_EQ(UrisOf(*globbed), want);
  EXPECT_EQ(want.size(), 190u);  // 1, 10-18, 100-198, 1000-1098: sub/ holds those ending in 9
  // After an object of the first page: the rest, over every later page.
  auto after = storage_->ListAfter(U("many"), uris[5]);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(UrisOf(*after), std::vector<std::string>(uris.begin() + 6, uris.end()));
}

TEST_P(StorageContract, DeletePrefixRemovesMoreThanAThousandObjects) {
  const std::vector<std::string> uris = WriteMany(storage_.get(), U("del"), 1100);
  ASSERT_TRUE(storage_->Write(U("delx"), "keep").ok());
  ASSERT_TRUE(storage_->Write(U("del-keep/y"), "keep").ok());
  ASSERT_TRUE(storage_->DeletePrefix(U("del")).ok());
  EXPECT_EQ(storage_->List(U("del")).status().code(), StatusCode::kNotFound);
  for (const std::string& uri : {uris.front(), uris[999], uris[1000], uris.back()}) {
    EXPECT_EQ(storage_->Stat(uri).status().code(), StatusCode::kNotFound) << uri;
  }
  EXPECT_EQ(*storage_->Read(U("delx")), "keep");
  EXPECT_EQ(*storage_->Read(U("del-keep/y")), "keep");
}

TEST_P(StorageContract, RenameOntoAnExistingObjectReplacesItsContentAndSize) {
  ASSERT_TRUE(storage_->Write(U("r/dst"), std::string(100, 'o')).ok());
  auto old_stat = storage_->Stat(U("r/dst"));
  ASSERT_TRUE(old_stat.ok());
  ASSERT_TRUE(storage_->Write(U("r/src"), "new").ok());
  ASSERT_TRUE(storage_->Rename(U("r/src"), U("r/dst")).ok());
  auto stat = storage_->Stat(U("r/dst"));
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->size, 3u);
  EXPECT_NE(stat->etag, old_stat->etag);
  EXPECT_EQ(*storage_->Read(U("r/dst")), "new");
  EXPECT_EQ(storage_->Stat(U("r/src")).status().code(), StatusCode::kNotFound);
  auto listed = storage_->List(U("r"));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(UrisOf(*listed), std::vector<std::string>{U("r/dst")});
  // Into a folder that does not exist yet.
  ASSERT_TRUE(storage_->Rename(U("r/dst"), U("r/deeper/still/dst")).ok());
  EXPECT_EQ(*storage_->Read(U("r/deeper/still/dst")), "new");
}

// S3 refuses a CopyObject onto itself without a metadata change; a copy + delete that ignored
// that would delete the object.
TEST_P(StorageContract, RenameOntoItselfKeepsTheObject) {
  ASSERT_TRUE(storage_->Write(U("same"), "still here").ok());
  ASSERT_TRUE(storage_->Rename(U("same"), U("same")).ok());
  auto read = storage_->Read(U("same"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "still here");
}

// 20 MiB and 3 bytes: above S3Storage's default multipart threshold (16 MiB) and across its
// OpenRead range size (8 MiB), so both boundaries are crossed; a partial last word.
TEST_P(StorageContract, StreamsAMultiMebibyteObjectExactlyInSmallAndLargeReads) {
  const std::string data = OffsetPattern((20u << 20) + 3);
  auto writer = storage_->NewWriter(U("big/blob.bin"));
  ASSERT_TRUE(writer.ok());
  for (size_t at = 0; at < data.size(); at += (1u << 20) + 7) {
    ASSERT_TRUE((*writer)->Append(std::string_view(data).substr(at, (1u << 20) + 7)).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
  auto stat = storage_->Stat(U("big/blob.bin"));
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->size, data.size());

  auto small = storage_->OpenRead(U("big/blob.bin"));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  // Small and odd sizes, mixed with reads larger than a range, so reads straddle every boundary.
  EXPECT_EQ(Difference(ReadWithSizes(small->get(), {1, 7, 4093, 1 << 16, (3 << 20) + 5}), data),
            "");
  auto large = storage_->OpenRead(U("big/blob.bin"));
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(Difference(ReadWithSizes(large->get(), {(8 << 20) + 1}), data), "");
  auto whole = storage_->Read(U("big/blob.bin"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(Difference(*whole, data), "");
  for (uint64_t at : std::vector<uint64_t>{(8u << 20) - 10, (16u << 20) - 3, data.size() - 5}) {
    auto range = storage_->ReadRange(U("big/blob.bin"), at, 20);
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(Difference(*range, data.substr(at, 20)), "") << "at " << at;
  }
}

TEST_P(StorageContract, ReadRangeAtAndAfterTheEndIsShortOrEmpty) {
  ASSERT_TRUE(storage_->Write(U("r.txt"), "hello world").ok());
  auto read = [&](uint64_t offset, uint64_t length) {
    auto r = storage_->ReadRange(U("r.txt"), offset, length);
    EXPECT_TRUE(r.ok()) << offset << "+" << length << ": " << r.status().ToString();
    return r.ok() ? *r : std::string("<error>");
  };
  EXPECT_EQ(read(10, 5), "d");  // across the end
  EXPECT_EQ(read(11, 5), "");   // at the end
  EXPECT_EQ(read(12, 5), "");   // after it
  EXPECT_EQ(read(uint64_t{1} << 40, 1), "");
  EXPECT_EQ(read(0, 0), "");  // nothing asked (no "bytes=0--1" on the wire)
  EXPECT_EQ(read(3, 0), "");
  EXPECT_EQ(read(0, UINT64_MAX), "hello world");  // offset + length must not overflow
  EXPECT_EQ(read(6, UINT64_MAX), "world");
  EXPECT_EQ(storage_->ReadRange(U("missing"), 0, 1).status().code(), StatusCode::kNotFound);
}

TEST_P(StorageContract, RejectsUrisOfAnotherScheme) {
  std::string foreign = GetParam() == "mem" ? "/tmp/y" : "mem://x/y";
  EXPECT_EQ(storage_->Read(foreign).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract, ::testing::Values("file", "mem", "s3"));

TEST(LocalStorage, LockIsFreedWhenTheHolderIsKilled) {
  std::string path =
      (fs::temp_directory_path() / ("lote_lock_test_" + std::to_string(::getpid()))).string();
  auto storage = NewLocalStorage();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = storage->TryLock(path, "child");
    char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto held = storage->TryLock(path, "parent");
  EXPECT_EQ(held.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(held.status().message().find("child"), std::string::npos);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto taken = storage->TryLock(path, "parent");
  EXPECT_TRUE(taken.ok()) << taken.status().ToString();
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove(path);
}

TEST(LocalStorage, AcceptsFileUrisAndPlainPaths) {
  std::string dir =
      (fs::temp_directory_path() / ("lote_uri_test_" + std::to_string(::getpid()))).string();
  auto storage = NewLocalStorage();
  ASSERT_TRUE(storage->Write("file://" + dir + "/a.txt", "x").ok());
  EXPECT_EQ(*storage->Read(dir + "/a.txt"), "x");
  auto listed = storage->List("file://" + dir);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].uri, "file://" + dir + "/a.txt");
  fs::remove_all(dir);
}

TEST(StorageRegistry, RoutesByScheme) {
  EXPECT_EQ(UriScheme("/data/x"), "file");
  EXPECT_EQ(UriScheme("file:///data/x"), "file");
  EXPECT_EQ(UriScheme("mem://b/k"), "mem");
  EXPECT_EQ(UriScheme("s3://bucket/k"), "s3");
  auto file = OpenStorage("/tmp");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->scheme(), "file");
  auto mem1 = OpenStorage("mem://a/b");
  auto mem2 = OpenStorage("mem://c");
  ASSERT_TRUE(mem1.ok() && mem2.ok());
  EXPECT_EQ(mem1->get(), mem2->get());  // one shared process-wide store
  auto s3 = OpenStorage("s3://bucket/in/");
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ((*s3)->scheme(), "s3");
  EXPECT_EQ(OpenStorage("gopher://x").status().code(), StatusCode::kNotFound);
}

TEST(StorageUri, JoinsWithoutDoublingSlashes) {
  EXPECT_EQ(JoinUri("mem://b/out", "x/y"), "mem://b/out/x/y");
  EXPECT_EQ(JoinUri("mem://b/out/", "/x"), "mem://b/out/x");
  EXPECT_EQ(JoinUri("/data", "r"), "/data/r");
}

TEST(FaultInjectingStorage, FailsExactlyTheNthWrite) {
  FaultInjectingStorage storage(NewMemStorage());
  storage.FailNthWrite(2, UnavailableError("injected"));
  EXPECT_TRUE(storage.Write("mem://f/1", "a").ok());
  EXPECT_EQ(storage.Write("mem://f/2", "b").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(storage.Write("mem://f/3", "c").ok());
  EXPECT_EQ(storage.Stat("mem://f/2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage.write_count(), 3u);
}

TEST(FaultInjectingStorage, StickyFailureKeepsFailing) {
  FaultInjectingStorage storage(NewMemStorage());
  storage.FailNthWrite(1, UnavailableError("down"), /*sticky=*/true);
  EXPECT_FALSE(storage.Write("mem://f/1", "a").ok());
  EXPECT_FALSE(storage.Rename("mem://f/1", "mem://f/2").ok());
  storage.FailNthWrite(0, Status());
  EXPECT_TRUE(storage.Write("mem://f/1", "a").ok());
}

TEST(FaultInjectingStorage, SimulatesADiskFilling) {
  FaultInjectingStorage storage(NewMemStorage());
  storage.SetSpaceLeft(10);
  auto writer = storage.NewWriter("mem://f/big");
  ASSERT_TRUE(writer.ok());
  EXPECT_TRUE((*writer)->Append("12345678").ok());
  Status full = (*writer)->Append("12345");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  writer->reset();
  EXPECT_EQ(storage.Stat("mem://f/big").status().code(), StatusCode::kNotFound);
}

TEST(StorageUri, NormalizesListRootsAndTellsWhatIsWithinWhat) {
  EXPECT_EQ(NormalizeUri("mem://b//in/./x/../y/"), "mem://b/in/y");
  EXPECT_EQ(NormalizeUri("/data//lake/./a/.."), "/data/lake");
  EXPECT_EQ(NormalizeUri("file:///data/lake/"), "file:///data/lake");
  EXPECT_EQ(NormalizeUri("rel/../.."), "..");
  EXPECT_EQ(ListRoot("mem://b/in/2024-*/x.jsonl"), "mem://b/in");
  EXPECT_EQ(ListRoot("/lake/*.jsonl"), "/lake");
  EXPECT_EQ(ListRoot("/*.jsonl"), "/");
  EXPECT_EQ(ListRoot("*.jsonl"), ".");
  EXPECT_EQ(ListRoot("/lake/a.jsonl"), "/lake/a.jsonl");
  EXPECT_TRUE(UriWithin("mem://b/a/x", "mem://b/a"));
  EXPECT_TRUE(UriWithin("mem://b/a", "mem://b/a"));
  EXPECT_FALSE(UriWithin("mem://b/ab", "mem://b/a"));
  EXPECT_FALSE(UriWithin("mem://b/a", "mem://b/a/x"));
  EXPECT_TRUE(UriWithin("/x", "/"));
}

TEST(LocalStorage, CanonicalUriResolvesSymlinksOfTheExistingPart) {
  const fs::path root = fs::temp_directory_path() / ("lote_canon_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "real");
  fs::create_directory_symlink(root / "real", root / "alias");
  auto local = NewLocalStorage();
  auto c = local->CanonicalUri((root / "alias/not/yet/../there").string());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, fs::canonical(root).string() + "/real/not/there");
  auto plain = local->CanonicalUri("file://" + (root / "real").string() + "/");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, fs::canonical(root / "real").string());
  fs::remove_all(root);
}

// A file swapped for a symlink after it was listed is still refused: the check is on the opened
// file, not on the name.
TEST(LocalStorage, ConfinedReadsRefuseFilesResolvingOutsideEvenAfterListing) {
  const fs::path root = fs::temp_directory_path() / ("lote_confine_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "in");
  fs::create_directories(root / "secret");
  auto write = [](const fs::path& p, const std::string& data) {
    std::FILE* f = std::fopen(p.c_str(), "w");
    std::fputs(data.c_str(), f);
    std::fclose(f);
  };
  write(root / "in/a.jsonl", "a");
  write(root / "secret/s.jsonl", "secret");
  LocalStorageOptions o;
  o.confine_to = fs::canonical(root / "in").string();
  std::vector<std::string> escaped;
  o.on_escape = [&](std::string_view uri) { escaped.emplace_back(uri); };
  auto confined = NewLocalStorage(o);
  auto listed = confined->List((root / "in").string());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  fs::remove(root / "in/a.jsonl");
  fs::create_symlink(root / "secret/s.jsonl", root / "in/a.jsonl");
  const std::string uri = (*listed)[0].uri;
  auto opened = confined->OpenRead(uri);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(opened.status().message().find("outside the input folder"), std::string::npos);
  EXPECT_EQ(confined->Read(uri).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(confined->Stat(uri).status().code(), StatusCode::kPermissionDenied);
  // Listed again, the escaping symlink is left out and reported.
  auto again = confined->List((root / "in").string());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_NE(escaped[0].find("a.jsonl"), std::string::npos);
  // Unconfined storage reads it.
  EXPECT_EQ(*NewLocalStorage()->Read(uri), "secret");
  fs::remove_all(root);
}

}  // namespace
}  // namespace lote::storage
