// `lote ls` and `lote cp` through the CLI against moto_server started by the test: round trips
// local -> s3 -> s3 -> local byte for byte (empty, small, and a 20 MiB multipart object), a
// listing with a space and a non-ASCII character in a key, and the errors for a missing object
// and a missing bucket.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "lote/aws/credentials.h"
#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

using nlohmann::json;

class StorageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto moto = SharedMotoServer();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = *moto;
    bucket_ = UniqueBucketName("storage-cli");
    ASSERT_TRUE(moto_->CreateBucket(bucket_).ok());
    storage::S3StorageOptions o;
    o.endpoint = moto_->endpoint();
    o.region = "us-east-1";
    aws::Credentials c;
    c.access_key_id = "testing";
    c.secret_access_key = Secret("testing");
    o.credentials = aws::NewStaticCredentials(c);
    o.env = std::make_shared<const aws::AwsEnvironment>();
    auto s3 = storage::NewS3Storage(o);
    ASSERT_TRUE(s3.ok()) << s3.status().ToString();
    s3_ = *s3;
  }

  // As s3_cli_test.cc: credentials and endpoint as the AWS CLI takes them, nothing else.
  std::string Env() const {
    return "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CONFIG_FILE "
           "-u AWS_SHARED_CREDENTIALS_FILE -u AWS_ENDPOINT_URL_S3 HOME=" +
           (tmp_ / "home") +
           " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 "
           "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
           moto_->endpoint();
  }
  std::string S3(const std::string& key) const { return "s3://" + bucket_ + "/" + key; }

  TempDir tmp_;
  MotoServer* moto_ = nullptr;
  std::string bucket_;
  std::shared_ptr<storage::Storage> s3_;
};

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_F(StorageCli, CopiesLocalToS3ToS3ToLocalByteForByte) {
  // 20 MiB is past the 16 MiB multipart threshold: three 8 MiB parts, the last one short.
  const std::vector<std::pair<std::string, size_t>> files = {
      {"empty.bin", 0}, {"small.txt", 1234}, {"big.bin", 20u << 20}};
  for (const auto& [name, size] : files) {
    SCOPED_TRACE(name);
    const std::string data = RandomBytes(size, size + 1);
    WriteAll(tmp_ / name, data);
    // DST ending in '/': the folder, same name.
    auto up = RunLote("cp " + (tmp_ / name) + " " + S3("up/"), Env());
    ASSERT_EQ(up.exit_code, 0) << up.err;
    EXPECT_NE(up.out.find(std::to_string(size) + " bytes in "), std::string::npos) << up.out;
    auto stat = s3_->Stat(S3("up/" + name));
    ASSERT_TRUE(stat.ok()) << stat.status().ToString();
    EXPECT_EQ(stat->size, size);
    auto across = RunLote("cp " + S3("up/" + name) + " " + S3("copy/" + name), Env());
    ASSERT_EQ(across.exit_code, 0) << across.err;
    auto down = RunLote("cp " + S3("copy/" + name) + " file://" + (tmp_ / ("back/" + name)), Env());
    ASSERT_EQ(down.exit_code, 0) << down.err;
    const std::string back = ReadAll(tmp_ / ("back/" + name));
    EXPECT_EQ(back.size(), size);
    EXPECT_TRUE(back == data) << "the bytes differ after the round trip";
  }
}

TEST_F(StorageCli, ListsAPrefixWithASpaceAndANonAsciiKey) {
  ASSERT_TRUE(s3_->Write(S3("in/a.jsonl"), "12345").ok());
  ASSERT_TRUE(s3_->Write(S3("in/día 1/b c.jsonl"), std::string(1000, 'x')).ok());
  ASSERT_TRUE(s3_->Write(S3("inside.jsonl"), "not under in/").ok());
  auto text = RunLote("ls " + S3("in/"), Env());
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const std::regex line(R"( *(\d+)  (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)  (.+))");
  std::vector<std::string> lines;
  std::istringstream in(text.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 2u) << text.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, line)) << lines[0];
  EXPECT_EQ(m[1], "5");
  EXPECT_EQ(m[3], S3("in/a.jsonl"));
  ASSERT_TRUE(std::regex_match(lines[1], m, line)) << lines[1];
  EXPECT_EQ(m[1], "1000");
  EXPECT_EQ(m[3], S3("in/día 1/b c.jsonl"));

  auto js = RunLote("ls --format json '" + S3("in/*/*.jsonl") + "'", Env());
  ASSERT_EQ(js.exit_code, 0) << js.err;
  json row = json::parse(js.out);  // exactly one line: the glob's one match
  EXPECT_EQ(row["uri"], S3("in/día 1/b c.jsonl"));
  EXPECT_EQ(row["size"], 1000);
  EXPECT_TRUE(std::regex_match(row["mtime"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << row.dump();
}

TEST_F(StorageCli, CopyingAMissingObjectFailsNamingIt) {
  auto r = RunLote("cp " + S3("nothing/here.jsonl") + " " + (tmp_ / "x"), Env());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(S3("nothing/here.jsonl")), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "x"));
  auto local = RunLote("cp " + (tmp_ / "missing.txt") + " " + S3("x"), Env());
  EXPECT_EQ(local.exit_code, 3) << local.err;
  EXPECT_NE(local.err.find(tmp_ / "missing.txt"), std::string::npos) << local.err;
  EXPECT_EQ(s3_->Stat(S3("x")).status().code(), StatusCode::kNotFound);
}

TEST_F(StorageCli, ListingAMissingBucketIsAClearError) {
  auto r = RunLote("ls s3://no-such-bucket-2/raw/", Env());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("bucket no-such-bucket-2 does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("testing"), std::string::npos) << "a credential in the error";
}

}  // namespace
}  // namespace lote::testing
