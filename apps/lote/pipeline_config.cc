#include "pipeline_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace lote::cli {

namespace {

std::string Where(const std::string& path, const YAML::Node& n) {
  return path + ":" + std::to_string(n.Mark().line + 1);
}

// Checks that `node` is a map whose keys are all in `known`.
Status CheckKeys(const std::string& path, const YAML::Node& node, const std::string& section,
                 const std::set<std::string>& known) {
  if (!node.IsMap()) return InvalidArgumentError(Where(path, node) + ": '" + section + "' must be a map");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      return InvalidArgumentError(Where(path, kv.first) + ": unknown key '" + key + "' in " +
                                  section);
    }
  }
  return Status::Ok();
}

template <typename T>
Status Get(const std::string& path, const YAML::Node& parent, const char* key, T* out) {
  const YAML::Node n = parent[key];
  if (!n) return Status::Ok();
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    return InvalidArgumentError(Where(path, n) + ": bad value for '" + key + "'");
  }
  return Status::Ok();
}

}  // namespace

Status LoadRunConfig(const std::string& path, RunConfig* c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFoundError(path + ": cannot read the config file");
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();
  LOTE_RETURN_IF_ERROR(CheckKeys(path, root, "the config",
                                 {"input", "output", "model", "catalog", "text_field", "id_field",
                                  "threads", "log_format", "strict", "force", "lock_wait_seconds",
                                  "prep", "infer", "pii", "publish"}));
  auto& p = c->pipeline;
  LOTE_RETURN_IF_ERROR(Get(path, root, "input", &c->input));
  LOTE_RETURN_IF_ERROR(Get(path, root, "output", &c->output));
  LOTE_RETURN_IF_ERROR(Get(path, root, "model", &c->model));
  LOTE_RETURN_IF_ERROR(Get(path, root, "catalog", &c->catalog));
  LOTE_RETURN_IF_ERROR(Get(path, root, "text_field", &p.text_field));
  LOTE_RETURN_IF_ERROR(Get(path, root, "id_field", &p.id_field));
  LOTE_RETURN_IF_ERROR(Get(path, root, "threads", &p.threads));
  LOTE_RETURN_IF_ERROR(Get(path, root, "log_format", &c->log_format));
  LOTE_RETURN_IF_ERROR(Get(path, root, "strict", &c->strict));
  LOTE_RETURN_IF_ERROR(Get(path, root, "force", &p.force));
  LOTE_RETURN_IF_ERROR(Get(path, root, "lock_wait_seconds", &p.lock_wait_seconds));
  if (const YAML::Node prep = root["prep"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, prep, "prep",
                                   {"invalid_utf8", "strip_html", "strip_control", "unicode_nfc",
                                    "collapse_whitespace", "max_chars", "over_long",
                                    "detect_language", "short_text_chars", "dedup_record_id",
                                    "dedup_content"}));
    auto& o = p.prep;
    std::string utf8, over_long;
    LOTE_RETURN_IF_ERROR(Get(path, prep, "invalid_utf8", &utf8));
    if (!utf8.empty()) {
      auto v = pipeline::ParseInvalidUtf8Policy(utf8);
      if (!v.ok()) return InvalidArgumentError(Where(path, prep["invalid_utf8"]) + ": " + v.status().message());
      o.invalid_utf8 = *v;
    }
    LOTE_RETURN_IF_ERROR(Get(path, prep, "over_long", &over_long));
    if (!over_long.empty()) {
      auto v = pipeline::ParseOverLongPolicy(over_long);
      if (!v.ok()) return InvalidArgumentError(Where(path, prep["over_long"]) + ": " + v.status().message());
      o.over_long = *v;
    }
    LOTE_RETURN_IF_ERROR(Get(path, prep, "strip_html", &o.strip_html));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "strip_control", &o.strip_control));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "unicode_nfc", &o.unicode_nfc));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "collapse_whitespace", &o.collapse_whitespace));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "max_chars", &o.max_chars));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "detect_language", &o.detect_language));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "short_text_chars", &o.short_text_chars));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "dedup_record_id", &o.dedup_record_id));
    LOTE_RETURN_IF_ERROR(Get(path, prep, "dedup_content", &o.dedup_content));
  }
  if (const YAML::Node infer = root["infer"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, infer, "infer",
                                   {"top_k", "classify", "extract", "reference_date",
                                    "batch_records"}));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "top_k", &c->engine.top_k));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "classify", &c->engine.classify));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "extract", &c->engine.extract));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "reference_date", &c->engine.reference_date));
    LOTE_RETURN_IF_ERROR(Get(path, infer, "batch_records", &p.batch_records));
  }
  if (const YAML::Node pii = root["pii"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, pii, "pii", {"mode", "types", "key_file"}));
    LOTE_RETURN_IF_ERROR(Get(path, pii, "mode", &c->engine.pii_mode));
    LOTE_RETURN_IF_ERROR(Get(path, pii, "types", &c->engine.pii_types));
    LOTE_RETURN_IF_ERROR(Get(path, pii, "key_file", &c->pii_key_file));
  }
  if (const YAML::Node pub = root["publish"]) {
    LOTE_RETURN_IF_ERROR(CheckKeys(path, pub, "publish", {"max_part_bytes", "zstd_level"}));
    LOTE_RETURN_IF_ERROR(Get(path, pub, "max_part_bytes", &p.max_part_bytes));
    LOTE_RETURN_IF_ERROR(Get(path, pub, "zstd_level", &p.zstd_level));
  }
  return Status::Ok();
}

}  // namespace lote::cli
