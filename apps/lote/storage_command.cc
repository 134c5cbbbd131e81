// `lote ls URI` and `lote cp SRC DST`: list and copy objects of any storage (a path, file://,
// s3://), through the same storage layer `lote run` uses, so an operator can check a storage
// set-up (endpoint, credentials, bucket, permissions) before a run. `cp` streams: memory stays
// bounded by one chunk plus what the storages buffer (S3: a few parts), whatever the size.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "command.h"
#include "common.h"
#include "lote/storage/storage.h"
#include "lote/text/utf8.h"
#include "pipeline_config.h"

namespace lote::cli {
namespace {

constexpr size_t kCopyChunkBytes = 1 << 20;

// "2026-12-06T06:48:53Z", or "-" when the storage does not know the time.
std::string IsoUtc(int64_t mtime_ns) {
  if (mtime_ns <= 0) return "-";
  const time_t seconds = static_cast<time_t>(mtime_ns / 1000000000);
  struct tm tm;
  if (gmtime_r(&seconds, &tm) == nullptr) return "-";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// --config: only its storage.s3 section matters here (endpoint, part size, ...).
Status ApplyStorageConfig(const std::string& path) {
  if (path.empty()) return Status::Ok();
  RunConfig config;
  LOTE_RETURN_IF_ERROR(LoadRunConfig(path, &config));
  if (config.s3) UseS3Options(*config.s3);
  return Status::Ok();
}

struct LsFlags {
  std::string uri, format = "text", config;
};

Status RunLs(const LsFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(f.uri));
  LOTE_ASSIGN_OR_RETURN(auto objects, storage->List(f.uri));
  std::string out;
  if (f.format == "json") {
    for (const auto& o : objects) {
      out += "{\"uri\":";
      AppendJsonString(&out, o.uri);
      out += ",\"size\":" + std::to_string(o.size) + ",\"mtime\":";
      AppendJsonString(&out, IsoUtc(o.mtime_ns));
      out += ",\"etag\":";
      AppendJsonString(&out, o.etag);
      out += "}\n";
    }
  } else {
    size_t width = 1;
    for (const auto& o : objects) width = std::max(width, std::to_string(o.size).size());
    for (const auto& o : objects) {
      std::string size = std::to_string(o.size);
      out += std::string(width - size.size(), ' ') + size + "  " + IsoUtc(o.mtime_ns) + "  " +
             text::EscapeControl(o.uri) + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return Status::Ok();
}

struct CpFlags {
  std::string src, dst, config;
};

// The object name at the end of `uri` ("" for a folder or prefix ending in '/').
std::string_view BaseName(std::string_view uri) {
  const size_t slash = uri.rfind('/');
  return slash == std::string_view::npos ? uri : uri.substr(slash + 1);
}

Status RunCp(const CpFlags& f) {
  const std::string_view name = BaseName(f.src);
  if (name.empty()) return InvalidArgumentError("cp copies one object; " + f.src + " is a folder");
  const std::string dst = f.dst.ends_with('/') ? f.dst + std::string(name) : f.dst;
  LOTE_ASSIGN_OR_RETURN(auto from, storage::OpenStorage(f.src));
  LOTE_ASSIGN_OR_RETURN(auto to, storage::OpenStorage(dst));
  const auto start = std::chrono::steady_clock::now();
  auto source = from->OpenRead(f.src);
  if (!source.ok()) return source.status().WithContext("cannot read " + f.src);
  auto writer = to->NewWriter(dst);
  if (!writer.ok()) return writer.status().WithContext("cannot write " + dst);
  auto buf = std::make_unique<char[]>(kCopyChunkBytes);
  uint64_t bytes = 0;
  for (;;) {
    // Fill a whole chunk before appending: a source may answer in small reads.
    size_t filled = 0;
    while (filled < kCopyChunkBytes) {
      auto n = (*source)->Read(buf.get() + filled, kCopyChunkBytes - filled);
      if (!n.ok()) return n.status().WithContext("cannot read " + f.src);
      if (*n == 0) break;
      filled += *n;
    }
    if (filled == 0) break;
    Status s = (*writer)->Append(std::string_view(buf.get(), filled));
    if (!s.ok()) return s.WithContext("cannot write " + dst);
    bytes += filled;
    if (filled < kCopyChunkBytes) break;
  }
  Status closed = (*writer)->Close();
  if (!closed.ok()) return closed.WithContext("cannot write " + dst);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu bytes in %.3f s (%.1f MiB/s): %s -> %s\n",
              static_cast<unsigned long long>(bytes), seconds,
              seconds > 0 ? bytes / seconds / (1 << 20) : 0.0, text::EscapeControl(f.src).c_str(),
              text::EscapeControl(dst).c_str());
  return Status::Ok();
}

void SetupLs(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "ls",
      "List the objects under a folder, prefix or glob of any storage (path, file://, s3://)");
  auto f = std::make_shared<LsFlags>();
  cmd->add_option("uri", f->uri, "Folder, prefix (s3://bucket/prefix/), object or glob")
      ->required();
  cmd->add_option("--format", f->format, "text (SIZE  MTIME  URI) | json (one object a line)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--config", f->config, "Pipeline config file; its storage.s3 settings apply");
  cmd->callback([f, exit_code] {
    Status s = ApplyStorageConfig(f->config);
    if (!s.ok()) {
      *exit_code = FailUsage("bad config: " + s.message());
      return;
    }
    s = RunLs(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

void SetupCp(CLI::App& root, int* exit_code) {
  auto* cmd = root.add_subcommand(
      "cp", "Copy one object between any two storages (path, file://, s3://), streaming");
  auto f = std::make_shared<CpFlags>();
  cmd->add_option("src", f->src, "Object to copy")->required();
  cmd->add_option("dst", f->dst, "Target object; ending in '/': that folder, same name")
      ->required();
  cmd->add_option("--config", f->config, "Pipeline config file; its storage.s3 settings apply");
  cmd->callback([f, exit_code] {
    Status s = ApplyStorageConfig(f->config);
    if (!s.ok()) {
      *exit_code = FailUsage("bad config: " + s.message());
      return;
    }
    s = RunCp(*f);
    *exit_code = s.ok() ? kExitOk : Fail(s);
  });
}

}  // namespace
LOTE_REGISTER_COMMAND(70, SetupLs);
LOTE_REGISTER_COMMAND(71, SetupCp);
}  // namespace lote::cli
