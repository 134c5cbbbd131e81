#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "lote/base/clock.h"
#include "lote/base/digest.h"
#include "lote/io/file_source.h"
#include "lote/monitoring/reference_profile.h"
#include "lote/registry/registry.h"
#include "lote/text/utf8.h"

namespace lote::cli {

namespace {
constexpr int kMaxWarnings = 20;
int g_warnings = 0;
int g_suppressed = 0;

class StdinSource : public io::ByteSource {
 public:
  Result<size_t> Read(char* buf, size_t n) override {
    ssize_t r;
    do {
      r = ::read(0, buf, n);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
      return UnavailableError("<stdin>: read failed: " + std::string(std::strerror(errno)));
    return static_cast<size_t>(r);
  }
  const std::string& name() const override { return name_; }

 private:
  std::string name_ = "<stdin>";
};
}  // namespace

void Warn(const std::string& message) {
  if (g_warnings++ < kMaxWarnings) {
    std::fprintf(stderr, "lote: warning: %s\n", text::EscapeControl(message).c_str());
  } else {
    ++g_suppressed;
  }
}

void FlushWarnings() {
  if (g_suppressed > 0) {
    std::fprintf(stderr, "lote: warning: %d more warning(s) not shown\n", g_suppressed);
    g_suppressed = 0;
  }
}

std::string MeasuredAccuracyLine(std::string_view feedback_json) {
  const auto f = nlohmann::json::parse(feedback_json, nullptr, false);
  if (!f.is_object() || !f.contains("measured_accuracy") || !f["measured_accuracy"].is_object()) {
    return "";
  }
  auto number = [](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  const auto& m = f["measured_accuracy"];
  char line[256];
  std::snprintf(line, sizeof(line), "measured accuracy %.3f [%.3f, %.3f] on %.0f labelled records",
                number(m, "value"), number(m, "low"), number(m, "high"), number(m, "records"));
  std::string out = line;
  auto e = f.find("estimated_accuracy");
  if (e != f.end() && e->is_object() && e->contains("value") && (*e)["value"].is_number()) {
    std::snprintf(line, sizeof(line), " (estimate for them %.3f)", number(*e, "value"));
    out += line;
  }
  return out;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

Result<io::Format> ResolveFormat(const std::string& path, const std::string& format_flag) {
  if (!format_flag.empty()) return io::ParseFormat(format_flag);
  bool is_dir = false;
  if (path != "-") {
    auto d = io::IsDirectory(path);
    if (!d.ok()) return d.status();
    is_dir = *d;
  }
  return io::FormatFromPath(path, is_dir);
}

Result<std::vector<std::string>> ParseTypeList(const std::string& list, std::string_view flag) {
  std::vector<std::string> out;
  if (list.empty()) return out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string t = list.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t a = t.find_first_not_of(" \t"), b = t.find_last_not_of(" \t");
    if (a == std::string::npos) {
      return InvalidArgumentError(std::string(flag) + " has an empty type name");
    }
    out.push_back(t.substr(a, b - a + 1));
  }
  return out;
}

Result<std::unique_ptr<io::ByteSource>> OpenInput(const std::string& path) {
  if (path == "-") return std::unique_ptr<io::ByteSource>(std::make_unique<StdinSource>());
  LOTE_ASSIGN_OR_RETURN(auto src, io::OpenFileSource(path));
  return io::MaybeDecompress(std::move(src));
}

Result<std::vector<LabeledRow>> ReadLabeledFile(const std::string& path, io::Format format,
                                                const std::string& text_field,
                                                const std::string& label_field) {
  if (format != io::Format::kCsv && format != io::Format::kJsonl) {
    return InvalidArgumentError(path + ": labelled data must be csv or jsonl (got " +
                                std::string(io::FormatName(format)) + ")");
  }
  LOTE_ASSIGN_OR_RETURN(auto source, OpenInput(path));
  io::TextReaderOptions opt;
  opt.text_field = text_field;
  opt.label_field = label_field;
  opt.require_label = true;
  LOTE_ASSIGN_OR_RETURN(auto reader, io::MakeTextRecordReader(format, std::move(source), opt));
  std::vector<LabeledRow> rows;
  size_t bad = 0;
  io::TextRecord rec;
  while (true) {
    auto next = reader->Next(&rec);
    if (!next.ok()) {
      // Missing columns and I/O errors are fatal; a bad record is skipped.
      if (reader->failed()) return next.status();
      ++bad;
      Warn("skipping record: " + next.status().message());
      continue;
    }
    if (!*next) break;
    std::string label = rec.label;
    // Labels are identifiers: trimmed, so "card_arrival " and "card_arrival" are one label.
    while (!label.empty() && (label.back() == ' ' || label.back() == '\t')) label.pop_back();
    size_t lead = label.find_first_not_of(" \t");
    label = lead == std::string::npos ? "" : label.substr(lead);
    if (label.empty()) {
      ++bad;
      Warn(path + ":" + std::to_string(rec.line) + ": empty label, record skipped");
      continue;
    }
    rows.push_back({std::move(rec.text), std::move(label), rec.line});
  }
  if (rows.empty()) {
    return InvalidArgumentError(path + ": no valid labelled records (" + std::to_string(bad) +
                                " bad record(s)); is the file empty or header-only?");
  }
  return rows;
}

std::string ClassifierModelBytes(const classify::IntentClassifier& classifier,
                                 const classify::ClassifierTrainReport& report,
                                 std::string_view name, std::string_view created_at,
                                 std::string* version_id) {
  model::ModelFile file;
  classifier.Save(&file);
  if (!report.calibration.empty()) {
    // Relative dates in the reference rows resolve as in a run on the day the model was made.
    auto day = extract::CivilDate::FromIso(created_at.substr(0, 10));
    if (!day.ok()) day = extract::CivilDate::FromIso(FormatDate(SystemClock()->NowMicros()));
    const monitoring::Profile reference = monitoring::BuildReferenceProfile(
        classifier, report, report.calibration_split, pipeline::PrepOptions(),
        day.ok() ? std::optional<extract::CivilDate>(*day) : std::nullopt);
    file.sections[std::string(monitoring::kProfileSection)] = reference.ToJson();
  }
  return bundle::FinishModelFile(&file, name, created_at,
                                 "{\"classifier\":" + classifier.MetadataJson() + "}", version_id);
}

LocalCopy::~LocalCopy() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

Status LocalCopy::Open(const std::string& uri) {
  LOTE_ASSIGN_OR_RETURN(auto store, storage::OpenStorage(uri));
  if (store->is_local()) {
    LOTE_ASSIGN_OR_RETURN(path_, store->LocalPath(uri));
    return Status::Ok();
  }
  LOTE_ASSIGN_OR_RETURN(std::string bytes, store->Read(uri));
  std::string ext = std::filesystem::path(uri).extension().string();
  if (ext.size() > 16) ext.clear();
  std::string tmpl = (std::filesystem::temp_directory_path() / "lote-copy-XXXXXX").string() + ext;
  int fd = ::mkstemps(tmpl.data(), static_cast<int>(ext.size()));
  if (fd < 0) return UnavailableError("cannot create a temporary file for " + uri);
  temp_ = tmpl;
  path_ = tmpl;
  const char* at = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t w = ::write(fd, at, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ::close(fd);
      return ResourceExhaustedError("cannot write a temporary copy of " + uri);
    }
    at += w;
    left -= static_cast<size_t>(w);
  }
  ::close(fd);
  return Status::Ok();
}

Result<std::string> RegistryUri(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  const std::string env = EnvOr("LOTE_REGISTRY", "");
  if (!env.empty()) return env;
  return InvalidArgumentError("no model registry: give --registry URI or set LOTE_REGISTRY");
}

registry::Actor CurrentActor() {
  for (const char* name : {"LOTE_USER", "USER"}) {
    const std::string v = EnvOr(name, "");
    if (!v.empty() && v.size() <= 256) return registry::Actor{v};
  }
  return registry::Actor{"unknown"};
}

Result<std::string> ReadModelBytes(const std::string& ref, std::string* source,
                                   const std::string& registry) {
  if (source != nullptr) *source = ref;
  if (!registry::IsModelUri(ref)) return io::ReadFileToString(ref);
  LOTE_ASSIGN_OR_RETURN(std::string uri, RegistryUri(registry));
  LOTE_ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(uri));
  auto resolved = reg.Resolve(ref);
  if (!resolved.ok()) return resolved.status().WithContext(text::EscapeControl(ref));
  if (resolved->resolved != ref) {
    std::fprintf(stderr, "lote: %s is %s (%s)\n", ref.c_str(), resolved->resolved.c_str(),
                 text::EscapeControl(resolved->version.model_version_id).c_str());
  }
  if (source != nullptr) *source = resolved->resolved;
  return std::move(resolved->bytes);
}

Result<bundle::Model> LoadModelFromPath(const std::string& path) {
  std::string source;
  LOTE_ASSIGN_OR_RETURN(std::string bytes, ReadModelBytes(path, &source));
  return bundle::LoadModel(bytes, source);
}

Result<std::string> ModelTimestamp() {
  const std::string sde = EnvOr("SOURCE_DATE_EPOCH", "");
  if (sde.empty()) return std::string();
  // The reproducible-builds spec asks to fail on a malformed value rather than guess.
  constexpr long long kYear9999 = 253402300799;  // 9999-12-31T23:59:59Z
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(sde.c_str(), &end, 10);
  if (errno != 0 || end == sde.c_str() || *end != '\0' || v < 0 || v > kYear9999 ||
      !std::isdigit(static_cast<unsigned char>(sde[0]))) {
    return InvalidArgumentError(
        "SOURCE_DATE_EPOCH must be a whole number of seconds since "
        "1970-01-01 UTC (got \"" +
        text::Excerpt(sde, 40) + "\")");
  }
  return FormatTimestampSeconds(static_cast<int64_t>(v) * 1000000);
}

Result<std::string> FileSha256(const std::string& path) {
  LOTE_ASSIGN_OR_RETURN(bool is_dir, io::IsDirectory(path));
  Sha256 h;
  if (is_dir) {
    LOTE_ASSIGN_OR_RETURN(auto names, io::ListDirectory(path));
    for (const auto& n : names) {
      auto sub = io::IsDirectory(path + "/" + n);
      if (!sub.ok() || *sub) continue;
      LOTE_ASSIGN_OR_RETURN(std::string bytes, io::ReadFileToString(path + "/" + n));
      h.Update(n);
      h.Update(bytes);
    }
    return h.FinalHex();
  }
  LOTE_ASSIGN_OR_RETURN(auto src, io::OpenFileSource(path));
  std::string buf(1 << 20, '\0');
  while (true) {
    LOTE_ASSIGN_OR_RETURN(size_t n, src->Read(buf.data(), buf.size()));
    if (n == 0) break;
    h.Update(buf.data(), n);
  }
  return h.FinalHex();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  LOTE_ASSIGN_OR_RETURN(auto out, Output::Open(path));
  out->Write(data);
  return out->Commit();
}

Result<std::unique_ptr<Output>> Output::Open(const std::string& path) {
  std::unique_ptr<Output> o(new Output());
  if (!path.empty() && path != "-") {
    static const std::shared_ptr<storage::Storage> local = storage::NewLocalStorage();
    LOTE_ASSIGN_OR_RETURN(o->writer_, local->NewWriter(path));
  }
  return o;
}

// A writer never closed discards its temporary file (ObjectWriter's contract).
Output::~Output() = default;

void Output::Write(std::string_view data) {
  buffer_.append(data);
  if (buffer_.size() >= (1 << 16)) {
    Status s = Flush();
    if (error_.ok()) error_ = std::move(s);
  }
}

Status Output::Flush() {
  if (buffer_.empty()) return Status::Ok();
  Status s;
  if (writer_) {
    s = writer_->Append(buffer_);
  } else if (std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size()) {
    s = UnavailableError("<stdout>: write failed: " + std::string(std::strerror(errno)));
  }
  buffer_.clear();
  return s;
}

Status Output::Commit() {
  if (error_.ok()) error_ = Flush();
  LOTE_RETURN_IF_ERROR(error_);
  if (!writer_) {
    if (std::fflush(stdout) != 0) return UnavailableError("<stdout>: write failed");
    return Status::Ok();
  }
  return writer_->Close();
}

std::string CutUtf8(std::string s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s + "...";
}

}  // namespace lote::cli
