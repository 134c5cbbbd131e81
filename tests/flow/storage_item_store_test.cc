#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "lote/flow/item_store.h"
#include "lote/storage/storage.h"

namespace lote::flow {
namespace {

namespace fs = std::filesystem;

constexpr char kGet[] = "arn:aws:states:::s3:getObject";
constexpr char kList[] = "arn:aws:states:::s3:listObjectsV2";
constexpr char kPut[] = "arn:aws:states:::s3:putObject";

// A store over a private MemStorage with buckets under mem://lake/.
class MemItemStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(StorageItemStoreOptions{}); }

  void Reset(StorageItemStoreOptions options) {
    options.bucket_root = "mem://lake/";
    options.open = [this](const std::string& uri) -> Result<std::shared_ptr<storage::Storage>> {
      opened_.push_back(uri);
      return mem_;
    };
    store_ = NewStorageItemStore(std::move(options));
  }

  void Put(const std::string& bucket_and_key, const std::string& data) {
    ASSERT_TRUE(mem_->Write("mem://lake/" + bucket_and_key, data).ok());
  }

  Outcome<Json> Get(const std::string& key, Json config) {
    return store_->ReadItems(kGet, Json{{"Bucket", "data-bucket"}, {"Key", key}}, config);
  }

  // The cause of a failed read, checked to be an ItemReaderFailed.
  std::string GetError(const std::string& key, Json config) {
    Outcome<Json> r = Get(key, std::move(config));
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_EQ(r.error().error, kStatesItemReaderFailed);
    return r.error().cause;
  }

  std::shared_ptr<storage::Storage> mem_ = storage::NewMemStorage();
  std::vector<std::string> opened_;
  std::unique_ptr<ItemStore> store_;
};

TEST_F(MemItemStoreTest, ReadsAJsonArrayObject) {
  Put("data-bucket/in/facts.json", R"([{"verdict":"true"},2,"three",null])");
  Outcome<Json> r = Get("in/facts.json", Json{{"InputType", "JSON"}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse(R"([{"verdict":"true"},2,"three",null])"));
  EXPECT_EQ(opened_.back(), "mem://lake/data-bucket/in/facts.json");
}

TEST_F(MemItemStoreTest, JsonItemsPointerSelectsANestedArray) {
  Put("data-bucket/nested.json", R"({"inventory":{"products":{"featured":[1,2]}}})");
  Outcome<Json> r = Get(
      "nested.json", Json{{"InputType", "JSON"}, {"ItemsPointer", "/inventory/products/featured"}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse("[1,2]"));
  EXPECT_NE(GetError("nested.json", Json{{"InputType", "JSON"}, {"ItemsPointer", "/nope"}})
                .find("selects nothing"),
            std::string::npos);
  EXPECT_NE(GetError("nested.json", Json{{"InputType", "JSON"}, {"ItemsPointer", "no-slash"}})
                .find("not a valid JSON Pointer"),
            std::string::npos);
  // Without a pointer, an object is not a list of items.
  std::string cause = GetError("nested.json", Json{{"InputType", "JSON"}});
  EXPECT_NE(cause.find("does not hold a JSON array"), std::string::npos) << cause;
}

TEST_F(MemItemStoreTest, InvalidJsonNamesObjectAndLineButNotContent) {
  Put("data-bucket/bad.json", "[\n{\"a\": 1},\n{\"ssn\": 123-45-6789}\n]");
  std::string cause = GetError("bad.json", Json{{"InputType", "JSON"}});
  EXPECT_NE(cause.find("mem://lake/data-bucket/bad.json"), std::string::npos) << cause;
  EXPECT_NE(cause.find("line 3"), std::string::npos) << cause;
  EXPECT_EQ(cause.find("6789"), std::string::npos) << cause;
  EXPECT_EQ(cause.find("ssn"), std::string::npos) << cause;
}

TEST_F(MemItemStoreTest, ReadsJsonLinesSkippingBlankLinesAndCrlf) {
  Put("data-bucket/in.jsonl", "\xEF\xBB\xBF{\"a\":1}\r\n\r\n[2]\n\"x\"\n  \n7");
  Outcome<Json> r = Get("in.jsonl", Json{{"InputType", "JSONL"}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse(R"([{"a":1},[2],"x",7])"));
}

TEST_F(MemItemStoreTest, InvalidJsonLineIsNamedByNumber) {
  Put("data-bucket/in.jsonl", "{\"a\":1}\n\n{\"card\":\"4111 1111\" oops}\n{}\n");
  std::string cause = GetError("in.jsonl", Json{{"InputType", "JSONL"}});
  EXPECT_NE(cause.find("invalid JSON at line 3 of mem://lake/data-bucket/in.jsonl"),
            std::string::npos)
      << cause;
  EXPECT_EQ(cause.find("4111"), std::string::npos) << cause;
  // Two values on one line are not one JSON value.
  Put("data-bucket/two.jsonl", "1 2\n");
  EXPECT_NE(GetError("two.jsonl", Json{{"InputType", "JSONL"}}).find("line 1"), std::string::npos);
}

TEST_F(MemItemStoreTest, CsvFirstRowGivesStringFieldsWithRfc4180Quoting) {
  Put("data-bucket/r.csv",
      "userId,movieId,note\r\n"
      "1,307,\"a, b\"\r\n"
      "2,481,\"line one\nline two\"\n"
      "3,1091,\"say \"\"hi\"\"\"\n"
      "\n"
      "4,5\n"              // fewer fields: empty strings
      "5,6,seven,extra\n"  // more fields: skipped
      "6,,\n");
  Outcome<Json> r = Get("r.csv", Json{{"InputType", "CSV"}, {"CSVHeaderLocation", "FIRST_ROW"}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse(R"([
    {"userId":"1","movieId":"307","note":"a, b"},
    {"userId":"2","movieId":"481","note":"line one\nline two"},
    {"userId":"3","movieId":"1091","note":"say \"hi\""},
    {"userId":"4","movieId":"5","note":""},
    {"userId":"5","movieId":"6","note":"seven"},
    {"userId":"6","movieId":"","note":""}])"));
}

TEST_F(MemItemStoreTest, CsvBackslashEscapesAsAwsDocuments) {
  Put("data-bucket/p.csv",
      "path,size\n"
      "C:\\\\Program Files\\\\App.exe,6534512\n"  // \\ is one backslash
      "a\\,b,\\\"q\\\"\n"                         // \, and \" are literal
      "x\\yz,1\n");                               // \y: the backslash is dropped
  Outcome<Json> r = Get("p.csv", Json{{"InputType", "CSV"}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse(R"([
    {"path":"C:\\Program Files\\App.exe","size":"6534512"},
    {"path":"a,b","size":"\"q\""},
    {"path":"xyz","size":"1"}])"));
}

TEST_F(MemItemStoreTest, CsvGivenHeadersAndEveryDelimiter) {
  const std::vector<std::pair<std::string, char>> delimiters = {
      {"COMMA", ','}, {"PIPE", '|'}, {"SEMICOLON", ';'}, {"SPACE", ' '}, {"TAB", '\t'}};
  for (const auto& [name, c] : delimiters) {
    std::string d(1, c);
    Put("data-bucket/d.csv", "1" + d + "307" + d + "3.5\n2" + d + "\"x" + d + "y\"" + d + "4\n");
    Outcome<Json> r = Get("d.csv", Json{{"InputType", "CSV"},
                                        {"CSVHeaderLocation", "GIVEN"},
                                        {"CSVHeaders", {"userId", "movieId", "rating"}},
                                        {"CSVDelimiter", name}});
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().cause;
    Json want = Json::array();
    want.push_back(Json{{"userId", "1"}, {"movieId", "307"}, {"rating", "3.5"}});
    want.push_back(Json{{"userId", "2"}, {"movieId", "x" + d + "y"}, {"rating", "4"}});
    EXPECT_EQ(r.value(), want) << name;
  }
}

TEST_F(MemItemStoreTest, CsvErrorsNameLineAndNeverContent) {
  Put("data-bucket/open.csv", "a,b\n1,2\n3,\"secret value\n4,5\n");
  std::string cause = GetError("open.csv", Json{{"InputType", "CSV"}});
  EXPECT_NE(cause.find("quoted field 2 of the record at line 3 is never closed"), std::string::npos)
      << cause;
  EXPECT_NE(cause.find("mem://lake/data-bucket/open.csv"), std::string::npos) << cause;
  EXPECT_EQ(cause.find("secret"), std::string::npos) << cause;

  Put("data-bucket/utf8.csv", "a,b\n1,2\n3,\xC3\x28\n");
  cause = GetError("utf8.csv", Json{{"InputType", "CSV"}});
  EXPECT_NE(cause.find("invalid UTF-8 at line 3"), std::string::npos) << cause;

  Put("data-bucket/dup.csv", "id,name,id\n1,2,3\n");
  cause = GetError("dup.csv", Json{{"InputType", "CSV"}});
  EXPECT_NE(cause.find("field 3"), std::string::npos) << cause;

  Put("data-bucket/wide.csv", std::string(11 * 1024, 'h') + "\n1\n");
  cause = GetError("wide.csv", Json{{"InputType", "CSV"}});
  EXPECT_NE(cause.find("longer than 10 KiB"), std::string::npos) << cause;

  EXPECT_NE(GetError("dup.csv", Json{{"InputType", "CSV"}, {"CSVHeaderLocation", "GIVEN"}})
                .find("CSVHeaders"),
            std::string::npos);
}

TEST_F(MemItemStoreTest, CsvEmptyOrHeaderOnlyObjectHasNoItems) {
  Put("data-bucket/empty.csv", "");
  Put("data-bucket/header.csv", "a,b\r\n");
  for (const char* key : {"empty.csv", "header.csv"}) {
    Outcome<Json> r = Get(key, Json{{"InputType", "CSV"}});
    ASSERT_TRUE(r.ok()) << r.error().cause;
    EXPECT_EQ(r.value(), Json::array()) << key;
  }
}

TEST_F(MemItemStoreTest, ItemsOverTheLimitsFail) {
  StorageItemStoreOptions options;
  options.max_items = 3;
  options.max_object_bytes = 64;
  options.max_item_bytes = 16;
  Reset(options);
  Put("data-bucket/four.jsonl", "1\n2\n3\n4\n");
  std::string cause = GetError("four.jsonl", Json{{"InputType", "JSONL"}});
  EXPECT_NE(cause.find("more than 3 items"), std::string::npos) << cause;
  // A ReaderConfig.MaxItems stops reading before the limit: no error.
  Outcome<Json> r = Get("four.jsonl", Json{{"InputType", "JSONL"}, {"MaxItems", 2}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse("[1,2]"));

  Put("data-bucket/big.json", "[" + std::string(70, ' ') + "]");
  cause = GetError("big.json", Json{{"InputType", "JSON"}});
  EXPECT_NE(cause.find("mem://lake/data-bucket/big.json is 72 bytes, more than the limit of 64"),
            std::string::npos)
      << cause;

  Put("data-bucket/long.jsonl", "1\n\"" + std::string(20, 'x') + "\"\n");
  cause = GetError("long.jsonl", Json{{"InputType", "JSONL"}});
  EXPECT_NE(cause.find("line 2"), std::string::npos) << cause;
  EXPECT_NE(cause.find("longer than 16 bytes"), std::string::npos) << cause;

  Put("data-bucket/item.json", "[1, \"" + std::string(20, 'x') + "\"]");
  cause = GetError("item.json", Json{{"InputType", "JSON"}});
  EXPECT_NE(cause.find("item 1 of"), std::string::npos) << cause;
}

TEST_F(MemItemStoreTest, MissingObjectAndUnsupportedInputsAreClearErrors) {
  std::string cause = GetError("nope.json", Json{{"InputType", "JSON"}});
  EXPECT_EQ(cause, "object not found: mem://lake/data-bucket/nope.json");

  Put("data-bucket/x.json", "[]");
  EXPECT_NE(GetError("x.json", Json{{"InputType", "MANIFEST"}}).find("not supported"),
            std::string::npos);
  EXPECT_NE(GetError("x.json", Json::object()).find("InputType must be JSON, JSONL or CSV"),
            std::string::npos);
  EXPECT_NE(GetError("x.jsonl.gz", Json{{"InputType", "JSONL"}}).find("compressed"),
            std::string::npos);
  Outcome<Json> r = store_->ReadItems(
      kGet, Json{{"Bucket", "data-bucket"}, {"Key", "x.json"}, {"VersionId", "v1"}},
      Json{{"InputType", "JSON"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("VersionId"), std::string::npos);
  r = store_->ReadItems(kGet, Json{{"Bucket", "data-bucket"}, {"Key", "x.json"}, {"Foo", 1}},
                        Json{{"InputType", "JSON"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("'Foo' is not supported"), std::string::npos);
  r = store_->ReadItems("arn:aws:states:::s3:headObject", Json{{"Bucket", "data-bucket"}},
                        Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesItemReaderFailed);
  r = store_->ReadItems(kGet, Json{{"Bucket", "data-bucket"}}, Json{{"InputType", "JSON"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("'Key' is required"), std::string::npos);
}

TEST_F(MemItemStoreTest, BadBucketNamesAndEscapingKeysAreRefusedBeforeAnyAccess) {
  for (const char* bucket : {"My_Bucket", "ab", "192.168.1.1", "a..b", "-abc", "abc-", "xn--abc",
                             "abc-s3alias", "bucket/../other", ""}) {
    Outcome<Json> r = store_->ReadItems(kGet, Json{{"Bucket", bucket}, {"Key", "x.json"}},
                                        Json{{"InputType", "JSON"}});
    ASSERT_FALSE(r.ok()) << bucket;
    EXPECT_NE(r.error().cause.find("not a valid S3 bucket name"), std::string::npos) << bucket;
  }
  for (const char* key :
       {"../x.json", "a/../../x.json", "/abs.json", "a//b.json", "./x.json", "a/.", "dir/", ""}) {
    std::string cause = GetError(key, Json{{"InputType", "JSON"}});
    EXPECT_NE(cause.find("Key "), std::string::npos) << key << ": " << cause;
  }
  Outcome<Json> r =
      store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}, {"Prefix", "a/../../"}}, Json());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("Prefix holds a '.' or '..' segment"), std::string::npos);
  r = store_->WriteResults(kPut, Json{{"Bucket", "Bad"}, {"Prefix", "p"}}, "run", Json::array(),
                           Json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesResultWriterFailed);
  r = store_->WriteResults(kPut, Json{{"Bucket", "results"}, {"Prefix", "../p"}}, "run",
                           Json::array(), Json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(opened_.empty());
  EXPECT_TRUE(IsValidBucketName("my.bucket-1"));
  EXPECT_TRUE(IsValidBucketName("amzn-s3-demo-bucket"));
}

TEST_F(MemItemStoreTest, ListObjectsGivesAwsShapedItemsByStringPrefix) {
  Put("data-bucket/folder1/a.csv", "12345");
  Put("data-bucket/folder1/sub/b.csv", "1");
  Put("data-bucket/folder10/c.csv", "");
  Put("data-bucket/other/d.csv", "xy");
  Put("other-bucket/folder1/e.csv", "z");
  Outcome<Json> r =
      store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}, {"Prefix", "folder1"}}, Json());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  ASSERT_EQ(r.value().size(), 3u);
  std::vector<std::string> keys;
  for (const Json& item : r.value()) {
    keys.push_back(item["Key"]);
    std::vector<std::string> fields;
    for (const auto& [k, v] : item.items()) fields.push_back(k);
    EXPECT_EQ(fields,
              (std::vector<std::string>{"Etag", "Key", "LastModified", "Size", "StorageClass"}));
    std::string etag = item["Etag"];
    EXPECT_TRUE(etag.size() > 2 && etag.front() == '"' && etag.back() == '"') << etag;
    EXPECT_TRUE(item["LastModified"].is_number_integer());
    EXPECT_EQ(item["StorageClass"], "STANDARD");
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"folder1/a.csv", "folder1/sub/b.csv", "folder10/c.csv"}));
  EXPECT_EQ(r.value()[0]["Size"], 5);

  // A trailing slash keeps to the folder; a Delimiter leaves out deeper keys; StartAfter skips.
  r = store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}, {"Prefix", "folder1/"}}, Json());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().size(), 2u);
  r = store_->ReadItems(
      kList, Json{{"Bucket", "data-bucket"}, {"Prefix", "folder1/"}, {"Delimiter", "/"}}, Json());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0]["Key"], "folder1/a.csv");
  r = store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}, {"StartAfter", "folder10/c.csv"}},
                        Json());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0]["Key"], "other/d.csv");

  // No prefix: the whole bucket, recursively; a prefix naming nothing: no items.
  r = store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}}, Json::object());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().size(), 4u);
  r = store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}, {"Prefix", "none/x"}}, Json());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::array());
  // ReaderConfig.MaxItems stops the listing.
  r = store_->ReadItems(kList, Json{{"Bucket", "data-bucket"}}, Json{{"MaxItems", 2}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().size(), 2u);
}

TEST(StorageItemStore, DefaultRootAddressesRealS3Uris) {
  std::vector<std::string> opened;
  StorageItemStoreOptions options;
  options.open = [&](const std::string& uri) -> Result<std::shared_ptr<storage::Storage>> {
    opened.push_back(uri);
    return UnavailableError("offline");
  };
  auto store = NewStorageItemStore(options);
  Outcome<Json> r = store->ReadItems(kGet, Json{{"Bucket", "my-bucket"}, {"Key", "data/x.json"}},
                                     Json{{"InputType", "JSON"}});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0], "s3://my-bucket/data/x.json");
  EXPECT_NE(r.error().cause.find("s3://my-bucket/data/x.json"), std::string::npos);
}

class FileItemStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("lote_items_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    StorageItemStoreOptions options;
    options.bucket_root = "file://" + root_.string();  // no trailing '/': one is added
    store_ = NewStorageItemStore(options);
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& data) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << data;
  }

  fs::path root_;
  std::unique_ptr<ItemStore> store_;
};

TEST_F(FileItemStoreTest, ReadsAFolderPerBucket) {
  Write("lake-a/in/rows.jsonl", "{\"n\":1}\n{\"n\":2}\n");
  Write("lake-a/in/more/x.bin", "abc");
  Write("lake-b/in/rows.jsonl", "{\"n\":3}\n");
  Outcome<Json> r = store_->ReadItems(kGet, Json{{"Bucket", "lake-a"}, {"Key", "in/rows.jsonl"}},
                                      Json{{"InputType", "JSONL"}});
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::parse(R"([{"n":1},{"n":2}])"));

  r = store_->ReadItems(kList, Json{{"Bucket", "lake-a"}, {"Prefix", "in/"}}, Json::object());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  ASSERT_EQ(r.value().size(), 2u);
  EXPECT_EQ(r.value()[0]["Key"], "in/more/x.bin");
  EXPECT_EQ(r.value()[0]["Size"], 3);
  EXPECT_EQ(r.value()[1]["Key"], "in/rows.jsonl");
  struct stat st;
  ASSERT_EQ(::stat((root_ / "lake-a/in/rows.jsonl").c_str(), &st), 0);
  EXPECT_EQ(r.value()[1]["LastModified"], static_cast<int64_t>(st.st_mtim.tv_sec));

  // A missing prefix folder is an empty list; a missing bucket folder is an error.
  r = store_->ReadItems(kList, Json{{"Bucket", "lake-a"}, {"Prefix", "nothing/"}}, Json());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  EXPECT_EQ(r.value(), Json::array());
  r = store_->ReadItems(kList, Json{{"Bucket", "lake-zz"}, {"Prefix", "in/"}}, Json());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("bucket 'lake-zz' does not exist"), std::string::npos)
      << r.error().cause;
  r = store_->ReadItems(kGet, Json{{"Bucket", "lake-a"}, {"Key", "in/none.json"}},
                        Json{{"InputType", "JSON"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.error().cause.find("object not found: file://" + root_.string() + "/lake-a/in/none.json"),
      std::string::npos)
      << r.error().cause;
}

TEST_F(FileItemStoreTest, WritesResultFilesAndManifestOnDisk) {
  Json succeeded = Json::parse(R"([{"id":1},"two"])");
  Outcome<Json> r = store_->WriteResults(kPut, Json{{"Bucket", "out"}, {"Prefix", "jobs"}},
                                         "exec-1/Map/a0", succeeded, Json::array());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  std::string key = r.value()["Key"];
  EXPECT_EQ(r.value()["Bucket"], "out");
  ASSERT_TRUE(fs::exists(root_ / "out" / key)) << key;
  std::string dir = key.substr(0, key.size() - std::string("manifest.json").size());
  EXPECT_TRUE(fs::exists(root_ / "out" / (dir + "SUCCEEDED_0.json")));
  EXPECT_FALSE(fs::exists(root_ / "out" / (dir + "FAILED_0.json")));
}

class ResultWriterTest : public MemItemStoreTest {
 protected:
  Json ReadJson(const std::string& bucket, const std::string& key) {
    Result<std::string> data = mem_->Read("mem://lake/" + bucket + "/" + key);
    EXPECT_TRUE(data.ok()) << key;
    return data.ok() ? Json::parse(*data) : Json();
  }
};

TEST_F(ResultWriterTest, WritesWhatAwsWritesUnderPrefixAndRunId) {
  const std::string run = "exec/with@odd#chars/Map/a1";
  Json succeeded = Json::parse(R"([{"id":1,"ok":true},"plain"])");
  Json failed = Json::parse(R"([{"Error":"States.TaskFailed","Cause":"boom"}])");
  Outcome<Json> r = store_->WriteResults(
      kPut, Json{{"Bucket", "results"}, {"Prefix", "csvProcessJobs"}}, run, succeeded, failed);
  ASSERT_TRUE(r.ok()) << r.error().cause;
  const std::string key = r.value()["Key"];
  ASSERT_TRUE(key.starts_with("csvProcessJobs/")) << key;
  ASSERT_TRUE(key.ends_with("/manifest.json")) << key;
  const std::string id = key.substr(15, key.size() - 15 - 14);
  // One UUID-shaped segment: nothing of '/', '@', '#' survives.
  ASSERT_EQ(id.size(), 36u) << id;
  for (size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[i], '-') << id;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string::npos) << id;
  EXPECT_EQ(r.value(), (Json{{"Bucket", "results"}, {"Key", key}}));

  Json manifest = ReadJson("results", key);
  const std::string base = "csvProcessJobs/" + id + "/";
  std::string succeeded_text = *mem_->Read("mem://lake/results/" + base + "SUCCEEDED_0.json");
  std::string failed_text = *mem_->Read("mem://lake/results/" + base + "FAILED_0.json");
  Json want = Json::parse(R"({"DestinationBucket":"results","MapRunArn":"","ResultFiles":{
      "FAILED":[{"Key":"","Size":0}],"PENDING":[],"SUCCEEDED":[{"Key":"","Size":0}]}})");
  want["MapRunArn"] = run;
  want["ResultFiles"]["FAILED"][0] =
      Json{{"Key", base + "FAILED_0.json"}, {"Size", failed_text.size()}};
  want["ResultFiles"]["SUCCEEDED"][0] =
      Json{{"Key", base + "SUCCEEDED_0.json"}, {"Size", succeeded_text.size()}};
  EXPECT_EQ(manifest, want);

  Json ok = Json::parse(succeeded_text);
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[0]["Status"], "SUCCEEDED");
  EXPECT_EQ(Json::parse(ok[0]["Output"].get<std::string>()), succeeded[0]);
  EXPECT_EQ(ok[1]["Output"], "\"plain\"");
  Json bad = Json::parse(failed_text);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0]["Status"], "FAILED");
  EXPECT_EQ(bad[0]["Error"], "States.TaskFailed");
  EXPECT_EQ(bad[0]["Cause"], "boom");

  // The same run id writes to the same place (a resumed execution); another one elsewhere.
  Outcome<Json> again = store_->WriteResults(
      kPut, Json{{"Bucket", "results"}, {"Prefix", "csvProcessJobs/"}}, run, succeeded, failed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value()["Key"], key);
  Outcome<Json> other =
      store_->WriteResults(kPut, Json{{"Bucket", "results"}, {"Prefix", "csvProcessJobs"}},
                           run + "x", succeeded, failed);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other.value()["Key"], key);
}

TEST_F(ResultWriterTest, NoPrefixAndNoResultsGivesAnEmptyManifest) {
  Outcome<Json> r =
      store_->WriteResults(kPut, Json{{"Bucket", "results"}}, "run", Json::array(), Json::array());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  std::string key = r.value()["Key"];
  EXPECT_EQ(key.find('/'), 36u) << key;
  Json manifest = ReadJson("results", key);
  EXPECT_EQ(manifest["ResultFiles"], Json::parse(R"({"FAILED":[],"PENDING":[],"SUCCEEDED":[]})"));
}

TEST_F(ResultWriterTest, ManyResultsAreSplitAcrossFiles) {
  StorageItemStoreOptions options;
  options.max_object_bytes = 200;
  Reset(options);
  Json succeeded = Json::array();
  for (int i = 0; i < 10; ++i) succeeded.push_back(i);
  Outcome<Json> r = store_->WriteResults(kPut, Json{{"Bucket", "results"}, {"Prefix", "p"}}, "run",
                                         succeeded, Json::array());
  ASSERT_TRUE(r.ok()) << r.error().cause;
  Json manifest = ReadJson("results", r.value()["Key"]);
  const Json& files = manifest["ResultFiles"]["SUCCEEDED"];
  ASSERT_GT(files.size(), 1u);
  Json all = Json::array();
  for (size_t i = 0; i < files.size(); ++i) {
    std::string k = files[i]["Key"];
    EXPECT_TRUE(k.ends_with("/SUCCEEDED_" + std::to_string(i) + ".json")) << k;
    std::string text = *mem_->Read("mem://lake/results/" + k);
    EXPECT_LE(text.size(), 200u);
    EXPECT_EQ(files[i]["Size"], text.size());
    for (const Json& e : Json::parse(text))
      all.push_back(Json::parse(e["Output"].get<std::string>()));
  }
  EXPECT_EQ(all, succeeded);

  // One result larger than a whole file cannot be written.
  Json huge = Json::array({std::string(300, 'x')});
  r = store_->WriteResults(kPut, Json{{"Bucket", "results"}, {"Prefix", "p"}}, "run2", huge,
                           Json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, kStatesResultWriterFailed);
  EXPECT_NE(r.error().cause.find("larger than 200 bytes"), std::string::npos);
}

TEST_F(ResultWriterTest, RefusesOtherResourcesAndParameters) {
  Outcome<Json> r =
      store_->WriteResults("arn:aws:states:::s3:getObject", Json{{"Bucket", "results"}}, "run",
                           Json::array(), Json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("not supported"), std::string::npos);
  r = store_->WriteResults(kPut, Json{{"Bucket", "results"}, {"Key", "x"}}, "run", Json::array(),
                           Json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("'Key' is not supported"), std::string::npos);
  r = store_->WriteResults(kPut, Json{{"Prefix", "p"}}, "run", Json::array(), Json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("'Bucket' is required"), std::string::npos);
}

}  // namespace
}  // namespace lote::flow
