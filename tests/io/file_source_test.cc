#include "lote/io/file_source.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io_test_util.h"

namespace lote::io {
namespace {

const std::string kData = LOTE_TEST_DATA_DIR "/io";

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "lote_io_" + std::to_string(::getpid()) + "_" + name;
}

TEST(FileSource, ReadsFileThroughMaybeDecompressIntoCsvRecords) {
  auto source = OpenFileSource(kData + "/sample.csv");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->name(), kData + "/sample.csv");
  TextReaderOptions o;
  o.label_field = "label";
  auto reader = MakeTextRecordReader(Format::kCsv, MaybeDecompress(std::move(*source)), o);
  ASSERT_TRUE(reader.ok());
  auto all = testing::ReadAll(reader->get());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].record.text, "hola,\r\nmundo");
  EXPECT_EQ(all[0].record.label, "saludo");
}

TEST(FileSource, LargeFileReadsIdenticallyInSmallAndHugeReads) {
  std::string path = TempPath("large.bin");
  std::string data;
  for (int i = 0; i < 400000; ++i) data += std::to_string(i) + ",";
  ASSERT_GT(data.size(), size_t{2} << 20);
  std::ofstream(path, std::ios::binary) << data;
  for (size_t chunk : {size_t{1000}, size_t{3} << 20}) {
    auto source = OpenFileSource(path);
    ASSERT_TRUE(source.ok());
    auto got = testing::Drain(source->get(), chunk);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, data);
  }
  EXPECT_EQ(*ReadFileToString(path), data);
  ::unlink(path.c_str());
}

TEST(FileSource, MissingFileIsNotFoundNamingPath) {
  auto source = OpenFileSource(kData + "/no-such-file.csv");
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kNotFound);
  EXPECT_NE(source.status().message().find("no-such-file.csv"), std::string::npos);
  EXPECT_EQ(ReadFileToString(kData + "/nope").status().code(), StatusCode::kNotFound);
}

TEST(FileSource, DirectoryIsFailedPrecondition) {
  auto source = OpenFileSource(kData);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kFailedPrecondition);
}

// Opens `path` as an unprivileged user when running as root, who reads any file: a forked child
// drops to uid/gid 65534 (nobody) first. Returns the status code and whether the message named
// the path; nullopt when the child could not drop privileges.
std::optional<std::pair<StatusCode, bool>> OpenAsUnprivileged(const std::string& path) {
  if (::geteuid() != 0) {
    auto source = OpenFileSource(path);
    return std::pair{source.status().code(),
                     source.status().message().find(path) != std::string::npos};
  }
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    unsigned char reply[2] = {0xff, 0};
    if (::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0) {
      auto source = OpenFileSource(path);
      reply[0] = static_cast<unsigned char>(source.status().code());
      reply[1] = source.status().message().find(path) != std::string::npos;
    }
    (void)!::write(fds[1], reply, sizeof(reply));
    ::_exit(0);
  }
  ::close(fds[1]);
  unsigned char reply[2] = {0xff, 0};
  const bool got = ::read(fds[0], reply, sizeof(reply)) == 2;
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (!got || reply[0] == 0xff) return std::nullopt;
  return std::pair{static_cast<StatusCode>(reply[0]), reply[1] != 0};
}

// As root (CI, containers) the check runs in a child that has given up root.
TEST(FileSource, UnreadableFileIsPermissionDenied) {
  std::string path = TempPath("secret.txt");
  std::ofstream(path) << "x";
  ::chmod(path.c_str(), 0);
  const auto result = OpenAsUnprivileged(path);
  ::unlink(path.c_str());
  if (!result) GTEST_SKIP() << "running as root and cannot drop privileges to test permissions";
  EXPECT_EQ(result->first, StatusCode::kPermissionDenied);
  EXPECT_TRUE(result->second) << "the message names the path";
}

TEST(ListDirectory, ReturnsSortedNamesWithoutDots) {
  auto names = ListDirectory(kData + "/brat");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"a-1.txt", "a.ann", "a.txt", "orphan.ann"}));
  EXPECT_EQ(ListDirectory(kData + "/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ListDirectory(kData + "/sample.csv").status().code(), StatusCode::kFailedPrecondition);
}

TEST(IsDirectory, TellsFilesFromFoldersAndMissingPaths) {
  EXPECT_TRUE(*IsDirectory(kData));
  EXPECT_FALSE(*IsDirectory(kData + "/sample.csv"));
  EXPECT_EQ(IsDirectory(kData + "/missing").status().code(), StatusCode::kNotFound);
}

TEST(ReadBratFolder, ReadsPairsInNameOrderWarningAboutMissingHalves) {
  std::vector<std::string> warnings;
  auto docs = ReadBratFolder(kData + "/brat", &warnings);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].name, "a");
  ASSERT_EQ((*docs)[0].annotations.size(), 2u);
  EXPECT_EQ((*docs)[0].annotations[1].type, "TERRITORIO");
  EXPECT_EQ((*docs)[0].annotations[1].start, 18u);
  EXPECT_EQ((*docs)[1].name, "a-1");
  EXPECT_TRUE((*docs)[1].annotations.empty());
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], kData + "/brat/orphan.ann: no matching .txt; skipped");
  EXPECT_EQ(warnings[1], kData + "/brat/a-1.txt: no .ann file; read with no annotations");
}

TEST(ReadBratFolder, MissingFolderIsNotFound) {
  EXPECT_EQ(ReadBratFolder(kData + "/missing", nullptr).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lote::io
