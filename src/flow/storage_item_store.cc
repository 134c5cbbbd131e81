// StorageItemStore: a distributed Map's ItemReader (s3:listObjectsV2, s3:getObject with JSON,
// JSONL or CSV objects) and ResultWriter (s3:putObject) over lote's storage, with S3 buckets
// mapped onto bucket_root. Behaviour follows AWS's "ItemReader (Map)" and "ResultWriter (Map)".
#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flow/flow_internal.h"
#include "lote/base/digest.h"
#include "lote/flow/item_store.h"
#include "lote/text/utf8.h"

namespace lote::flow {
namespace {

constexpr char kListObjects[] = "arn:aws:states:::s3:listObjectsV2";
constexpr char kGetObject[] = "arn:aws:states:::s3:getObject";
constexpr char kPutObject[] = "arn:aws:states:::s3:putObject";
constexpr size_t kMaxKeyBytes = 1024;             // S3's limit on a key
constexpr size_t kMaxCsvHeaderBytes = 10 * 1024;  // AWS: "CSV headers of up to 10 KiB"
constexpr std::string_view kBom = "\xEF\xBB\xBF";

StateError ReaderError(std::string cause) { return {kStatesItemReaderFailed, std::move(cause)}; }
StateError WriterError(std::string cause) { return {kStatesResultWriterFailed, std::move(cause)}; }

// Why `key` cannot be used as an S3 key here (empty: it can). A key may not be empty unless
// `allow_empty`, and may end in '/' only if `allow_trailing_slash` (a listing prefix).
std::string KeyProblem(std::string_view key, bool allow_empty, bool allow_trailing_slash) {
  if (key.empty()) return allow_empty ? "" : "is empty";
  if (key.size() > kMaxKeyBytes) return "is longer than 1024 bytes";
  if (key.find('\0') != std::string_view::npos) return "holds a NUL byte";
  if (!text::IsValidUtf8(key)) return "is not valid UTF-8";
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    std::string_view segment =
        key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    bool last = end == std::string_view::npos;
    if (segment == "." || segment == "..") return "holds a '.' or '..' segment";
    if (segment.empty() && !(last && allow_trailing_slash && start > 0)) {
      return "holds an empty segment (a leading '/' or '//')";
    }
    if (last) break;
    start = end + 1;
  }
  return "";
}

// 1-based line of byte offset `pos` in `data`.
size_t LineAt(std::string_view data, size_t pos) {
  pos = std::min(pos, data.size());
  return 1 + static_cast<size_t>(std::count(data.begin(), data.begin() + pos, '\n'));
}

// Collects items up to the ReaderConfig's MaxItems (reading stops there) and refuses more than
// the store's own limit.
class ItemSink {
 public:
  ItemSink(size_t stop_after, size_t max_items) : stop_after_(stop_after), max_items_(max_items) {}
  bool full() const { return items_.size() >= stop_after_; }
  // False when the item would exceed max_items.
  bool Push(Json item) {
    if (items_.size() >= max_items_) return false;
    items_.push_back(std::move(item));
    return true;
  }
  Json Take() { return std::move(items_); }

 private:
  size_t stop_after_;
  size_t max_items_;
  Json items_ = Json::array();
};

// A CSV record: its fields and the line it starts on.
struct CsvRecord {
  std::vector<std::string> fields;
  size_t line = 0;
};

// Splits delimited text into records by AWS's rules ("ItemReader (Map)", text delimited files):
// newlines separate records (CRLF too); a field starting with '"' is quoted and may hold the
// delimiter and newlines, "" inside it is one quote; a backslash escapes a backslash, a quote or
// the delimiter, and before any other character is dropped (AWS: "A backslash followed by any
// other character is silently removed"; we read that as the backslash being removed and the
// character kept). Blank lines are skipped.
class CsvSplitter {
 public:
  enum class Step { kRecord, kEnd, kError };

  CsvSplitter(std::string_view data, char delimiter, size_t max_record_bytes)
      : data_(data), delimiter_(delimiter), max_record_bytes_(max_record_bytes) {}

  Step Next(CsvRecord* record, std::string* error) {
    while (true) {
      if (pos_ >= data_.size()) return Step::kEnd;
      Step step = ReadRecord(record, error);
      if (step != Step::kRecord || !blank_) return step;
    }
  }

 private:
  Step ReadRecord(CsvRecord* record, std::string* error) {
    record->fields.clear();
    record->line = line_;
    blank_ = true;
    const size_t start = pos_;
    const size_t n = data_.size();
    std::string field;
    bool in_quotes = false;
    bool field_start = true;
    while (pos_ < n) {
      if (pos_ - start > max_record_bytes_) {
        *error = "record at line " + std::to_string(record->line) + " is longer than " +
                 std::to_string(max_record_bytes_) + " bytes";
        return Step::kError;
      }
      char c = data_[pos_];
      if (in_quotes) {
        if (c == '"') {
          if (pos_ + 1 < n && data_[pos_ + 1] == '"') {
            field.push_back('"');
            pos_ += 2;
          } else {
            in_quotes = false;
            ++pos_;
          }
          continue;
        }
        if (c == '\\') {
          Escape(&field);
          continue;
        }
        if (c == '\n') ++line_;
        field.push_back(c);
        ++pos_;
        continue;
      }
      if (c == '\n' || (c == '\r' && pos_ + 1 < n && data_[pos_ + 1] == '\n')) {
        pos_ += c == '\n' ? 1 : 2;
        ++line_;
        record->fields.push_back(std::move(field));
        return Step::kRecord;
      }
      blank_ = false;
      if (c == delimiter_) {
        record->fields.push_back(std::move(field));
        field.clear();
        field_start = true;
        ++pos_;
        continue;
      }
      if (c == '"' && field_start) {
        in_quotes = true;
        field_start = false;
        ++pos_;
        continue;
      }
      field_start = false;
      if (c == '\\') {
        Escape(&field);
        continue;
      }
      field.push_back(c);
      ++pos_;
    }
    if (in_quotes) {
      *error = "quoted field " + std::to_string(record->fields.size() + 1) +
               " of the record at line " + std::to_string(record->line) + " is never closed";
      return Step::kError;
    }
    record->fields.push_back(std::move(field));
    return Step::kRecord;
  }

  // At a backslash: appends the escaped character, or drops the backslash.
  void Escape(std::string* field) {
    blank_ = false;
    if (pos_ + 1 < data_.size()) {
      char next = data_[pos_ + 1];
      if (next == '\\' || next == '"' || next == delimiter_) {
        field->push_back(next);
        pos_ += 2;
        return;
      }
    }
    ++pos_;
  }

  std::string_view data_;
  char delimiter_;
  size_t max_record_bytes_;
  size_t pos_ = 0;
  size_t line_ = 1;
  bool blank_ = true;
};

class StorageItemStore : public ItemStore {
 public:
  explicit StorageItemStore(StorageItemStoreOptions options) : options_(std::move(options)) {
    if (options_.bucket_root.empty() || options_.bucket_root.back() != '/') {
      options_.bucket_root.push_back('/');
    }
    if (!options_.open) {
      options_.open = [](const std::string& uri) { return storage::OpenStorage(uri); };
    }
  }

  Outcome<Json> ReadItems(const std::string& resource, const Json& parameters,
                          const Json& reader_config) override {
    try {
      if (resource == kListObjects) return ListObjects(parameters, reader_config);
      if (resource == kGetObject) return GetObject(parameters, reader_config);
      return ReaderError("ItemReader resource '" + resource + "' is not supported (expected " +
                         kGetObject + " or " + kListObjects + ")");
    } catch (const std::exception&) {
      // nlohmann's messages may quote the data: never passed on.
      return ReaderError("unexpected error while reading the items of " + resource);
    }
  }

  Outcome<Json> WriteResults(const std::string& resource, const Json& parameters,
                             const std::string& map_run_id, const Json& succeeded,
                             const Json& failed) override {
    try {
      if (resource != kPutObject) {
        return WriterError("ResultWriter resource '" + resource + "' is not supported (expected " +
                           kPutObject + ")");
      }
      return PutResults(parameters, map_run_id, succeeded, failed);
    } catch (const std::exception&) {
      return WriterError("unexpected error while writing the results of map run " + map_run_id);
    }
  }

 private:
  using MakeError = StateError (*)(std::string);

  // Checks that `params` is an object holding only `allowed` keys (AWS's request fields that
  // lote honours or may ignore); `refused` keys get their own message.
  static std::optional<StateError> CheckParameters(const Json& params, const char* what,
                                                   std::initializer_list<std::string_view> allowed,
                                                   MakeError make) {
    if (!params.is_object()) {
      return make(std::string(what) + ": Parameters must be an object, got " +
                  std::string(params.type_name()));
    }
    for (const auto& [name, value] : params.items()) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return make(std::string(what) + ": parameter '" + name + "' is not supported");
      }
    }
    return std::nullopt;
  }

  // A string parameter: absent gives `fallback` (nullopt when required).
  static Outcome<std::string> StringParam(const Json& params, const char* what, const char* name,
                                          std::optional<std::string> fallback, MakeError make) {
    auto it = params.find(name);
    if (it == params.end()) {
      if (fallback) return *fallback;
      return make(std::string(what) + ": parameter '" + name + "' is required");
    }
    if (!it->is_string()) {
      return make(std::string(what) + ": parameter '" + name + "' must be a string, got " +
                  std::string(it->type_name()));
    }
    return it->get<std::string>();
  }

  Outcome<std::string> Bucket(const Json& params, const char* what, MakeError make) const {
    Outcome<std::string> bucket = StringParam(params, what, "Bucket", std::nullopt, make);
    if (!bucket.ok()) return bucket;
    if (!IsValidBucketName(bucket.value())) {
      return make(std::string(what) + ": '" + text::Excerpt(bucket.value(), 70) +
                  "' is not a valid S3 bucket name");
    }
    return bucket;
  }

  std::string Uri(const std::string& bucket, std::string_view key) const {
    return options_.bucket_root + bucket + "/" + std::string(key);
  }

  Outcome<std::shared_ptr<storage::Storage>> Open(const std::string& uri, MakeError make) const {
    Result<std::shared_ptr<storage::Storage>> s = options_.open(uri);
    if (!s.ok()) return make("cannot open storage for " + uri + ": " + s.status().ToString());
    if (*s == nullptr) return make("no storage for " + uri);
    return std::move(s).value();
  }

  // The ReaderConfig's MaxItems when it is a number (MaxItemsPath is resolved by the executor,
  // which also cuts the list to it).
  static size_t StopAfter(const Json& config) {
    auto it = config.find("MaxItems");
    if (it == config.end() || !it->is_number() || it->get<double>() < 1) return SIZE_MAX;
    return static_cast<size_t>(it->get<double>());
  }

  std::string TooMany(const std::string& uri) const {
    return "more than " + std::to_string(options_.max_items) + " items in " + uri +
           " (set ReaderConfig.MaxItems to read fewer)";
  }

  Outcome<Json> ListObjects(const Json& params, const Json& config) {
    const char* what = "s3:listObjectsV2";
    if (config.is_object() && config.value("Transformation", "NONE") != "NONE") {
      return ReaderError(std::string(what) +
                         ": ReaderConfig.Transformation LOAD_AND_FLATTEN is not supported");
    }
    // ExpectedBucketOwner and RequestPayer concern access and billing: accepted and ignored.
    if (auto e = CheckParameters(
            params, what,
            {"Bucket", "Prefix", "Delimiter", "StartAfter", "ExpectedBucketOwner", "RequestPayer"},
            ReaderError)) {
      return *e;
    }
    Outcome<std::string> bucket = Bucket(params, what, ReaderError);
    if (!bucket.ok()) return bucket.error();
    Outcome<std::string> prefix = StringParam(params, what, "Prefix", "", ReaderError);
    if (!prefix.ok()) return prefix.error();
    Outcome<std::string> delimiter = StringParam(params, what, "Delimiter", "", ReaderError);
    if (!delimiter.ok()) return delimiter.error();
    Outcome<std::string> start_after = StringParam(params, what, "StartAfter", "", ReaderError);
    if (!start_after.ok()) return start_after.error();
    if (std::string p = KeyProblem(prefix.value(), true, true); !p.empty()) {
      return ReaderError(std::string(what) + ": Prefix " + p);
    }
    const std::string root = Uri(bucket.value(), "");
    // S3 matches keys by string prefix ("folder1" also finds "folder10/x"): list the deepest
    // folder the prefix names and filter. A folder holding glob characters is not listed by
    // pattern: the whole bucket is, and filtered.
    std::string dir = prefix.value().substr(0, prefix.value().rfind('/') + 1);
    if (storage::HasGlob(dir)) dir.clear();
    const std::string list_uri = root + dir;
    Outcome<std::shared_ptr<storage::Storage>> store = Open(list_uri, ReaderError);
    if (!store.ok()) return store.error();
    Result<std::vector<storage::ObjectInfo>> listed = store.value()->List(list_uri);
    std::vector<storage::ObjectInfo> objects;
    if (listed.ok()) {
      objects = std::move(listed).value();
    } else if (listed.status().code() == StatusCode::kNotFound) {
      // Nothing under the prefix is an empty list, as S3 answers. A local bucket folder that does
      // not exist is a mistake in bucket_root or Bucket, reported as S3's NoSuchBucket would be.
      if (store.value()->is_local()) {
        Result<std::string> path = store.value()->LocalPath(root);
        std::error_code ec;
        if (path.ok() && !std::filesystem::is_directory(*path, ec)) {
          return ReaderError(std::string(what) + ": bucket '" + bucket.value() +
                             "' does not exist (" + root + ")");
        }
      }
    } else {
      return ReaderError("cannot list " + list_uri + ": " + listed.status().ToString());
    }
    const std::string norm_root = storage::NormalizeUri(root) + "/";
    std::vector<std::pair<std::string, const storage::ObjectInfo*>> keyed;
    for (const storage::ObjectInfo& o : objects) {
      std::string key;
      if (o.uri.starts_with(root)) {
        key = o.uri.substr(root.size());
      } else if (std::string n = storage::NormalizeUri(o.uri); n.starts_with(norm_root)) {
        key = n.substr(norm_root.size());
      } else {
        continue;  // not below the bucket (cannot happen with a well-behaved storage)
      }
      if (!key.starts_with(prefix.value())) continue;
      if (!start_after.value().empty() && key <= start_after.value()) continue;
      // With a Delimiter, S3 rolls keys holding it (after the prefix) into CommonPrefixes, which
      // are not objects: AWS does not document what ItemReader makes of them, we leave them out.
      if (!delimiter.value().empty() &&
          key.find(delimiter.value(), prefix.value().size()) != std::string::npos) {
        continue;
      }
      keyed.emplace_back(std::move(key), &o);
    }
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    ItemSink sink(StopAfter(config), options_.max_items);
    for (auto& [key, o] : keyed) {
      if (sink.full()) break;
      // AWS's items: the ETag in quotes as S3 gives it, LastModified in Unix seconds. lote's
      // storage has no storage classes: every object is STANDARD.
      std::string etag = o->etag;
      if (etag.size() < 2 || etag.front() != '"' || etag.back() != '"') etag = '"' + etag + '"';
      int64_t seconds =
          o->mtime_ns >= 0 ? o->mtime_ns / 1000000000 : -((-o->mtime_ns + 999999999) / 1000000000);
      Json item = Json::object();
      item["Etag"] = std::move(etag);
      item["Key"] = key;
      item["LastModified"] = seconds;
      item["Size"] = o->size;
      item["StorageClass"] = "STANDARD";
      if (!sink.Push(std::move(item))) return ReaderError(TooMany(root + prefix.value()));
    }
    return sink.Take();
  }

  Outcome<Json> GetObject(const Json& params, const Json& config) {
    const char* what = "s3:getObject";
    if (!config.is_object()) {
      return ReaderError(std::string(what) + ": ReaderConfig must be an object");
    }
    // VersionId would ask for an older version lote's storage cannot give: refused rather than
    // reading the latest one silently.
    if (params.is_object() && params.contains("VersionId")) {
      return ReaderError(std::string(what) + ": parameter 'VersionId' is not supported");
    }
    if (auto e = CheckParameters(
            params, what, {"Bucket", "Key", "ExpectedBucketOwner", "RequestPayer"}, ReaderError)) {
      return *e;
    }
    Outcome<std::string> bucket = Bucket(params, what, ReaderError);
    if (!bucket.ok()) return bucket.error();
    Outcome<std::string> key = StringParam(params, what, "Key", std::nullopt, ReaderError);
    if (!key.ok()) return key.error();
    if (std::string p = KeyProblem(key.value(), false, false); !p.empty()) {
      return ReaderError(std::string(what) + ": Key " + p);
    }
    std::string input_type = config.value("InputType", "");
    if (config.contains("ManifestType") || input_type == "MANIFEST") {
      return ReaderError(std::string(what) +
                         ": S3 inventory and Athena manifests (InputType MANIFEST, ManifestType) "
                         "are not supported");
    }
    if (input_type != "JSON" && input_type != "JSONL" && input_type != "CSV") {
      return ReaderError(std::string(what) + ": ReaderConfig.InputType must be JSON, JSONL or CSV" +
                         (input_type.empty() ? "" : ", got '" + input_type + "'"));
    }
    const std::string uri = Uri(bucket.value(), key.value());
    for (std::string_view ext : {".gz", ".gzip", ".zst", ".zstd"}) {
      if (key.value().ends_with(ext)) {
        return ReaderError(uri + ": compressed objects (GZIP, ZSTD) are not supported");
      }
    }
    Outcome<std::string> data = ReadObject(uri);
    if (!data.ok()) return data.error();
    std::string_view body = data.value();
    if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
    ItemSink sink(StopAfter(config), options_.max_items);
    std::optional<StateError> error;
    if (input_type == "JSON") {
      error = ParseJsonArray(uri, body, config, &sink);
    } else if (input_type == "JSONL") {
      error = ParseJsonLines(uri, body, &sink);
    } else {
      error = ParseCsv(uri, body, config, &sink);
    }
    if (error) return *error;
    return sink.Take();
  }

  Outcome<std::string> ReadObject(const std::string& uri) const {
    Outcome<std::shared_ptr<storage::Storage>> store = Open(uri, ReaderError);
    if (!store.ok()) return store.error();
    auto failed = [&](const Status& s) {
      if (s.code() == StatusCode::kNotFound) return ReaderError("object not found: " + uri);
      return ReaderError("cannot read " + uri + ": " + s.ToString());
    };
    auto too_large = [&](uint64_t size) {
      return ReaderError(uri + " is " + std::to_string(size) + " bytes, more than the limit of " +
                         std::to_string(options_.max_object_bytes));
    };
    Result<storage::ObjectInfo> info = store.value()->Stat(uri);
    if (!info.ok()) return failed(info.status());
    if (info->size > options_.max_object_bytes) return too_large(info->size);
    Result<std::string> data = store.value()->Read(uri);
    if (!data.ok()) return failed(data.status());
    if (data->size() > options_.max_object_bytes) return too_large(data->size());
    return std::move(data).value();
  }

  std::optional<StateError> ParseJsonArray(const std::string& uri, std::string_view body,
                                           const Json& config, ItemSink* sink) const {
    Json doc;
    try {
      doc = Json::parse(body);
    } catch (const Json::parse_error& e) {
      size_t at = e.byte > 0 ? static_cast<size_t>(e.byte) - 1 : 0;
      return ReaderError("invalid JSON in " + uri + " at line " + std::to_string(LineAt(body, at)));
    }
    Json* items = &doc;
    std::string where;
    if (auto it = config.find("ItemsPointer"); it != config.end()) {
      if (!it->is_string()) return ReaderError("ReaderConfig.ItemsPointer must be a string");
      std::optional<Json::json_pointer> pointer;
      try {
        pointer.emplace(it->get<std::string>());
      } catch (const Json::exception&) {
        return ReaderError("ReaderConfig.ItemsPointer is not a valid JSON Pointer");
      }
      if (!doc.contains(*pointer)) {
        return ReaderError("ReaderConfig.ItemsPointer selects nothing in " + uri);
      }
      items = &doc.at(*pointer);
      where = " at ItemsPointer";
    }
    // AWS lets the file hold "an array or JSON object" without saying how an object's members
    // become items: lote asks for an array (ItemsPointer selects one inside an object).
    if (!items->is_array()) {
      return ReaderError(uri + " does not hold a JSON array" + where + " (found " +
                         std::string(items->type_name()) + ")");
    }
    size_t index = 0;
    for (Json& item : *items) {
      if (sink->full()) break;
      if (DumpJson(item).size() > options_.max_item_bytes) {
        return ReaderError("item " + std::to_string(index) + " of " + uri + " is larger than " +
                           std::to_string(options_.max_item_bytes) + " bytes");
      }
      if (!sink->Push(std::move(item))) return ReaderError(TooMany(uri));
      ++index;
    }
    return std::nullopt;
  }

  std::optional<StateError> ParseJsonLines(const std::string& uri, std::string_view body,
                                           ItemSink* sink) const {
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < body.size() && !sink->full()) {
      size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      std::string_view line = body.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
      if (line.size() > options_.max_item_bytes) {
        return ReaderError("line " + std::to_string(line_no) + " of " + uri + " is longer than " +
                           std::to_string(options_.max_item_bytes) + " bytes");
      }
      Json item = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (item.is_discarded()) {
        return ReaderError("invalid JSON at line " + std::to_string(line_no) + " of " + uri);
      }
      if (!sink->Push(std::move(item))) return ReaderError(TooMany(uri));
    }
    return std::nullopt;
  }

  std::optional<StateError> ParseCsv(const std::string& uri, std::string_view body,
                                     const Json& config, ItemSink* sink) const {
    if (size_t bad = text::FindInvalidUtf8(body); bad != std::string_view::npos) {
      return ReaderError("invalid UTF-8 at line " + std::to_string(LineAt(body, bad)) + " of " +
                         uri);
    }
    char delimiter = ',';
    std::string d = config.value("CSVDelimiter", "COMMA");
    if (d == "PIPE") {
      delimiter = '|';
    } else if (d == "SEMICOLON") {
      delimiter = ';';
    } else if (d == "SPACE") {
      delimiter = ' ';
    } else if (d == "TAB") {
      delimiter = '\t';
    } else if (d != "COMMA") {
      return ReaderError("ReaderConfig.CSVDelimiter must be COMMA, PIPE, SEMICOLON, SPACE or TAB");
    }
    // AWS asks for a header location with CSV; FIRST_ROW when none is given.
    std::string location = config.value("CSVHeaderLocation", "FIRST_ROW");
    if (location != "FIRST_ROW" && location != "GIVEN") {
      return ReaderError("ReaderConfig.CSVHeaderLocation must be FIRST_ROW or GIVEN");
    }
    CsvSplitter splitter(body, delimiter, options_.max_item_bytes);
    CsvRecord record;
    std::string problem;
    std::vector<std::string> header;
    if (location == "GIVEN") {
      auto it = config.find("CSVHeaders");
      if (it == config.end() || !it->is_array() || it->empty()) {
        return ReaderError(
            "ReaderConfig.CSVHeaders must be a non-empty array of strings with GIVEN");
      }
      for (const Json& h : *it) {
        if (!h.is_string()) return ReaderError("ReaderConfig.CSVHeaders must hold strings");
        header.push_back(h.get<std::string>());
      }
    } else {
      CsvSplitter::Step step = splitter.Next(&record, &problem);
      if (step == CsvSplitter::Step::kError) return ReaderError(problem + " of " + uri);
      if (step == CsvSplitter::Step::kEnd) return std::nullopt;  // an empty object: no items
      size_t bytes = 0;
      for (const std::string& f : record.fields) bytes += f.size() + 1;
      if (bytes > kMaxCsvHeaderBytes) {
        return ReaderError("the CSV header of " + uri + " is longer than 10 KiB");
      }
      header = std::move(record.fields);
    }
    for (size_t i = 0; i < header.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (header[i] == header[j]) {
          return ReaderError("CSV header field " + std::to_string(i + 1) + " of " + uri +
                             " repeats the name of field " + std::to_string(j + 1));
        }
      }
    }
    while (!sink->full()) {
      CsvSplitter::Step step = splitter.Next(&record, &problem);
      if (step == CsvSplitter::Step::kError) return ReaderError(problem + " of " + uri);
      if (step == CsvSplitter::Step::kEnd) break;
      // AWS: a row with fewer fields than the header gets empty strings for the missing ones;
      // fields beyond the header are skipped.
      Json item = Json::object();
      for (size_t i = 0; i < header.size(); ++i) {
        item[header[i]] = i < record.fields.size() ? std::move(record.fields[i]) : std::string();
      }
      if (!sink->Push(std::move(item))) return ReaderError(TooMany(uri));
    }
    return std::nullopt;
  }

  // A map run id as one safe path segment: UUID-shaped like AWS's, from its SHA-256, so a resumed
  // execution writes to the same place.
  static std::string RunSegment(const std::string& map_run_id) {
    std::string h = Sha256Hex(map_run_id);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20, 12);
  }

  // Writes `entries` as JSON arrays in files <base>/<status>_<n>.json of at most
  // max_object_bytes each; appends {"Key", "Size"} of each to *listed.
  std::optional<StateError> WriteFiles(storage::Storage* store, const std::string& bucket,
                                       const std::string& base, const char* status,
                                       const std::vector<std::string>& entries,
                                       Json* listed) const {
    size_t next = 0;
    size_t file = 0;
    while (next < entries.size()) {
      std::string text = "[";
      size_t first = next;
      while (next < entries.size()) {
        size_t add = entries[next].size() + (next > first ? 1 : 0) + 1;
        if (next > first && text.size() + add > options_.max_object_bytes) break;
        if (next > first) text.push_back(',');
        text += entries[next];
        ++next;
      }
      text.push_back(']');
      if (text.size() > options_.max_object_bytes) {
        return WriterError("result " + std::to_string(first) + " (" + status + ") is larger than " +
                           std::to_string(options_.max_object_bytes) + " bytes");
      }
      std::string key = base + "/" + status + "_" + std::to_string(file++) + ".json";
      std::string uri = Uri(bucket, key);
      if (Status s = store->Write(uri, text); !s.ok()) {
        return WriterError("cannot write " + uri + ": " + s.ToString());
      }
      listed->push_back(Json{{"Key", key}, {"Size", text.size()}});
    }
    return std::nullopt;
  }

  Outcome<Json> PutResults(const Json& params, const std::string& map_run_id, const Json& succeeded,
                           const Json& failed) {
    const char* what = "s3:putObject";
    if (auto e = CheckParameters(params, what, {"Bucket", "Prefix"}, WriterError)) return *e;
    Outcome<std::string> bucket = Bucket(params, what, WriterError);
    if (!bucket.ok()) return bucket.error();
    Outcome<std::string> prefix = StringParam(params, what, "Prefix", "", WriterError);
    if (!prefix.ok()) return prefix.error();
    if (std::string p = KeyProblem(prefix.value(), true, true); !p.empty()) {
      return WriterError(std::string(what) + ": Prefix " + p);
    }
    // AWS writes under Prefix/<map run id>/; a Prefix ending in '/' is not doubled.
    std::string base = prefix.value();
    if (!base.empty() && base.back() != '/') base.push_back('/');
    base += RunSegment(map_run_id);
    // Entries shaped as AWS's (Output as a JSON string, Status); the executor gives no execution
    // ARNs, names, inputs or dates, so those fields are left out.
    std::vector<std::string> ok_entries;
    if (succeeded.is_array()) {
      for (const Json& out : succeeded) {
        Json e = Json::object();
        e["Output"] = DumpJson(out);
        e["OutputDetails"] = Json{{"Included", true}};
        e["Status"] = "SUCCEEDED";
        ok_entries.push_back(DumpJson(e));
      }
    }
    std::vector<std::string> failed_entries;
    if (failed.is_array()) {
      for (const Json& f : failed) {
        Json e = Json::object();
        const bool obj = f.is_object();
        e["Cause"] = obj && f.contains("Cause") && f["Cause"].is_string() ? f["Cause"] : Json("");
        e["Error"] = obj && f.contains("Error") && f["Error"].is_string() ? f["Error"] : Json("");
        e["Status"] = "FAILED";
        failed_entries.push_back(DumpJson(e));
      }
    }
    const std::string manifest_key = base + "/manifest.json";
    const std::string manifest_uri = Uri(bucket.value(), manifest_key);
    Outcome<std::shared_ptr<storage::Storage>> store = Open(manifest_uri, WriterError);
    if (!store.ok()) return store.error();
    Json files{{"FAILED", Json::array()}, {"PENDING", Json::array()}, {"SUCCEEDED", Json::array()}};
    if (auto e = WriteFiles(store.value().get(), bucket.value(), base, "SUCCEEDED", ok_entries,
                            &files["SUCCEEDED"])) {
      return *e;
    }
    if (auto e = WriteFiles(store.value().get(), bucket.value(), base, "FAILED", failed_entries,
                            &files["FAILED"])) {
      return *e;
    }
    // The manifest goes last: once it exists, every file it lists is complete.
    Json manifest = Json::object();
    manifest["DestinationBucket"] = bucket.value();
    manifest["MapRunArn"] = map_run_id;
    manifest["ResultFiles"] = std::move(files);
    if (Status s = store.value()->Write(manifest_uri, DumpJson(manifest)); !s.ok()) {
      return WriterError("cannot write " + manifest_uri + ": " + s.ToString());
    }
    return Json{{"Bucket", bucket.value()}, {"Key", manifest_key}};
  }

  StorageItemStoreOptions options_;
};

bool IsIpAddressShaped(const std::string& name) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t end = name.find('.', start);
    std::string part = name.substr(start, end == std::string::npos ? end : end - start);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    ++parts;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts == 4;
}

}  // namespace

bool IsValidBucketName(const std::string& name) {
  if (name.size() < 3 || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '-') return false;
  }
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  if (name.find("..") != std::string::npos) return false;
  if (IsIpAddressShaped(name)) return false;
  for (std::string_view p : {"xn--", "sthree-"}) {
    if (name.starts_with(p)) return false;
  }
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (name.ends_with(s)) return false;
  }
  return true;
}

std::unique_ptr<ItemStore> NewStorageItemStore(StorageItemStoreOptions options) {
  return std::make_unique<StorageItemStore>(std::move(options));
}

}  // namespace lote::flow
