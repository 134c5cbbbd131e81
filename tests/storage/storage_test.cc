#include "lote/storage/storage.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lote/storage/fault_injecting_storage.h"

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

// Runs every contract test against local files and mem://.
class StorageContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    if (GetParam() == "file") {
      root_ = (fs::temp_directory_path() / ("lote_storage_test_" + std::to_string(::getpid()) +
                                            "_" + std::to_string(counter++)))
                  .string();
      fs::create_directories(root_);
      storage_ = NewLocalStorage();
    } else {
      root_ = "mem://t" + std::to_string(counter++);
      storage_ = NewMemStorage();
    }
  }
  void TearDown() override {
    if (GetParam() == "file") fs::remove_all(root_);
  }
  std::string U(std::string_view rel) const { return JoinUri(root_, rel); }

  std::string root_;
  std::shared_ptr<Storage> storage_;
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
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (storage_->CreateIfAbsent(U("race"), std::to_string(i)).ok()) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
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

TEST_P(StorageContract, RejectsUrisOfAnotherScheme) {
  std::string foreign = GetParam() == "file" ? "mem://x/y" : "/tmp/y";
  EXPECT_EQ(storage_->Read(foreign).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract, ::testing::Values("file", "mem"));

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

TEST(StorageRegistry, RoutesBySchemeAndRefusesS3Clearly) {
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
  EXPECT_EQ(s3.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s3.status().message().find("s3://"), std::string::npos);
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
