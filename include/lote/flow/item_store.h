// A distributed Map's ItemReader and ResultWriter over lote's storage (storage.h), as Step
// Functions documents them ("ItemReader (Map)", "ResultWriter (Map)"):
//   - arn:aws:states:::s3:listObjectsV2 (Bucket, Prefix): one item per object,
//     {"Etag", "Key", "LastModified" (Unix seconds), "Size", "StorageClass"}, listed recursively
//     by string prefix, sorted by key;
//   - arn:aws:states:::s3:getObject (Bucket, Key) with ReaderConfig.InputType JSON (an array,
//     optionally under ItemsPointer), JSONL (one JSON value per line) or CSV (fields are strings;
//     CSVHeaderLocation FIRST_ROW / GIVEN with CSVHeaders; CSVDelimiter COMMA / PIPE / SEMICOLON /
//     SPACE / TAB). MANIFEST (S3 inventory) and compressed objects are refused;
//   - arn:aws:states:::s3:putObject (Bucket, Prefix): Prefix/<map run id>/SUCCEEDED_<n>.json,
//     FAILED_<n>.json and manifest.json (written last), returning {"Bucket", "Key"} of the
//     manifest.
// An S3 Bucket B and Key K address the URI bucket_root + B + "/" + K, so with bucket_root
// "file:///lake/" one definition reads a local folder per bucket, and with the default "s3://" it
// reads real S3. Bucket names must be valid S3 bucket names; keys may not hold "." or ".."
// segments (nothing escapes bucket_root + B). Errors are StateErrors whose cause names the object
// URI and the line or field, never the content of a record.
// Thread-safety: ReadItems and WriteResults may be called concurrently (nested Maps).
#ifndef LOTE_FLOW_ITEM_STORE_H_
#define LOTE_FLOW_ITEM_STORE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "lote/base/status.h"
#include "lote/flow/executor.h"
#include "lote/storage/storage.h"

namespace lote::flow {

struct StorageItemStoreOptions {
  // Where buckets live: bucket B is the folder/prefix bucket_root + B + "/". A root that does not
  // end in '/' gets one.
  std::string bucket_root = "s3://";
  // Most items one ItemReader may produce (AWS: MaxItems is at most 100,000,000). More is a
  // States.ItemReaderFailed, never a silent cut (a ReaderConfig.MaxItems number stops reading
  // early instead).
  size_t max_items = 100'000'000;
  // Largest object read whole (AWS allows 10 GB; lote holds the object and its items in memory,
  // so the default is lower) and largest result file written (more results: SUCCEEDED_1.json...).
  size_t max_object_bytes = 256u << 20;
  // Largest single item (a JSONL line, a CSV record, an array element's text): AWS reads items of
  // up to 8 MB.
  size_t max_item_bytes = 8u << 20;
  // Opens the storage for a URI; default storage::OpenStorage.
  std::function<Result<std::shared_ptr<storage::Storage>>(const std::string& uri)> open;
};

std::unique_ptr<ItemStore> NewStorageItemStore(StorageItemStoreOptions options);

// True if `name` is a valid S3 bucket name (general purpose buckets): 3-63 characters of
// lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no "..",
// not shaped as an IP address, none of the reserved prefixes and suffixes.
bool IsValidBucketName(const std::string& name);

}  // namespace lote::flow

#endif  // LOTE_FLOW_ITEM_STORE_H_
