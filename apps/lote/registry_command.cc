// `lote registry`: the model registry (lote/registry/registry.h, docs/registry.md).
//   register --name NAME --model FILE [--tag K=V]... [--description D] [--source S]
//   list | show NAME[/VERSION] | resolve URI | alias-history NAME [--alias A]   (--json)
//   alias set NAME ALIAS VERSION [--reason R] | alias delete NAME ALIAS [--reason R]
//   approve | reject NAME VERSION [--reason R]
//   tag NAME[/VERSION] KEY=VALUE | tag --delete NAME[/VERSION] KEY
//   rollback NAME ALIAS [--reason R]
// Every command takes --registry URI (default $LOTE_REGISTRY).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "lote/pipeline/prep.h"
#include "lote/registry/registry.h"
#include "lote/registry/sagemaker.h"
#include "lote/text/utf8.h"
#include "retrain.h"

namespace lote::cli {
namespace {

using Json = nlohmann::ordered_json;

struct RegistryFlags {
  std::string registry, name, model, description, source, reason, target, alias, key_value;
  std::string image, model_data_prefix, endpoint, region;
  bool dry_run = false, sagemaker = false;
  std::vector<std::string> tags;
  int version = 0;
  bool json = false, remove = false;
};

std::string Safe(std::string_view s) { return text::EscapeControl(std::string(s)); }

Result<registry::Registry> OpenRegistry(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(std::string uri, RegistryUri(f.registry));
  return registry::Registry::Open(uri);
}

// "NAME" or "NAME/VERSION".
Status SplitTarget(const std::string& target, std::string* name, std::optional<int>* version) {
  const size_t slash = target.find('/');
  *name = target.substr(0, slash);
  LOTE_RETURN_IF_ERROR(registry::ValidateModelName(*name));
  if (slash == std::string::npos) return Status::Ok();
  LOTE_ASSIGN_OR_RETURN(auto ref, registry::ParseModelUri("models:/" + target));
  *version = ref.version;
  return Status::Ok();
}

Json VersionJson(const registry::ModelVersion& v) {
  Json parts = Json::parse(v.parts_json, nullptr, false);
  return {{"version", v.version},
          {"status", v.status},
          {"status_reason", v.status_reason},
          {"model_sha256", v.model_sha256},
          {"size", v.size},
          {"model_version_id", v.model_version_id},
          {"model_name", v.model_name},
          {"created_at", v.model_created_at},
          {"registered_at", v.registered_at},
          {"registered_by", v.registered_by},
          {"source", v.source},
          {"description", v.description},
          {"preprocess_version", v.preprocess_version},
          {"tags", v.tags},
          {"parts", parts.is_discarded() ? Json::object() : parts}};
}

Json AliasChangeJson(const registry::AliasChange& c) {
  auto version = [](const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); };
  Json e = Json::parse(c.evaluation_json, nullptr, false);
  return {{"seq", c.seq},
          {"alias", c.alias},
          {"action", c.refused       ? "refused"
                     : !c.to_version ? "delete"
                     : c.rollback    ? "rollback"
                                     : "set"},
          {"from_version", version(c.from_version)},
          {"to_version", version(c.to_version)},
          {"at", c.at},
          {"by", c.by},
          {"reason", c.reason},
          {"model_sha256", c.model_sha256},
          {"evaluation", e.is_discarded() ? Json(nullptr) : e}};
}

std::string AliasesOf(const registry::RegisteredModel& m, int version) {
  std::string out;
  for (const auto& [alias, v] : m.aliases) {
    if (v == version) out += (out.empty() ? "" : ",") + alias;
  }
  return out;
}

void Print(const Json& j) {
  std::printf("%s\n", j.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
}

Status Register(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  registry::RegisterOptions o;
  o.description = f.description;
  o.source = f.source;
  for (const std::string& kv : f.tags) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return InvalidArgumentError("--tag takes KEY=VALUE");
    o.tags[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  LOTE_ASSIGN_OR_RETURN(auto v, RegisterModel(reg, f.name, f.model, o, CurrentActor()));
  if (f.json) {
    Print(VersionJson(v));
  } else {
    std::printf("registered %s as models:/%s/%d (%s, sha256 %s)\n", Safe(f.model).c_str(),
                f.name.c_str(), v.version, Safe(v.model_version_id).c_str(),
                v.model_sha256.c_str());
  }
  return Status::Ok();
}

Status List(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_ASSIGN_OR_RETURN(auto names, reg.ListModels());
  Json all = Json::array();
  for (const std::string& name : names) {
    LOTE_ASSIGN_OR_RETURN(auto m, reg.Get(name));
    const auto& latest = m.versions.back();
    if (f.json) {
      all.push_back({{"name", m.name},
                     {"versions", m.versions.size()},
                     {"latest_version", latest.version},
                     {"aliases", m.aliases},
                     {"updated_at",
                      m.alias_history.empty() || m.alias_history.back().at < latest.registered_at
                          ? latest.registered_at
                          : m.alias_history.back().at}});
    } else {
      std::string aliases;
      for (const auto& [a, v] : m.aliases) {
        aliases += (aliases.empty() ? "" : ", ") + a + "=" + std::to_string(v);
      }
      std::printf("%-32s %3zu version(s)  latest %d  %s\n", m.name.c_str(), m.versions.size(),
                  latest.version, aliases.empty() ? "(no aliases)" : aliases.c_str());
    }
  }
  if (f.json) Print(all);
  return Status::Ok();
}

Status Show(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  std::string name;
  std::optional<int> version;
  LOTE_RETURN_IF_ERROR(SplitTarget(f.target, &name, &version));
  LOTE_ASSIGN_OR_RETURN(auto m, reg.Get(name));
  if (version && static_cast<size_t>(*version) > m.versions.size()) {
    return NotFoundError("model '" + name + "' has no version " + std::to_string(*version));
  }
  if (f.json) {
    if (version) {
      Json v = VersionJson(m.versions[static_cast<size_t>(*version) - 1]);
      v["aliases"] = AliasesOf(m, *version);
      Print(v);
      return Status::Ok();
    }
    Json versions = Json::array();
    for (const auto& v : m.versions) versions.push_back(VersionJson(v));
    Print({{"name", m.name},
           {"description", m.description},
           {"tags", m.tags},
           {"aliases", m.aliases},
           {"versions", versions}});
    return Status::Ok();
  }
  std::printf("model %s (registry %s)\n", m.name.c_str(), Safe(reg.uri()).c_str());
  for (const auto& v : m.versions) {
    if (version && v.version != *version) continue;
    const std::string aliases = AliasesOf(m, v.version);
    std::printf("  version %d  %-8s %s  registered %s by %s%s%s\n", v.version, v.status.c_str(),
                Safe(v.model_version_id).c_str(), v.registered_at.c_str(),
                Safe(v.registered_by).c_str(),
                aliases.empty() ? "" : "  aliases: ", aliases.c_str());
    if (version) {
      std::printf("    sha256 %s, %llu bytes\n", v.model_sha256.c_str(),
                  static_cast<unsigned long long>(v.size));
      if (!v.source.empty()) std::printf("    source: %s\n", Safe(v.source).c_str());
      if (!v.description.empty()) std::printf("    description: %s\n", Safe(v.description).c_str());
      for (const auto& [k, val] : v.tags)
        std::printf("    tag %s=%s\n", Safe(k).c_str(), Safe(val).c_str());
      // Each part's training data and metrics (the rest: --json).
      const Json parts = Json::parse(v.parts_json, nullptr, false);
      if (parts.is_object()) {
        for (const auto& [part, meta] : parts.items()) {
          const Json training = meta.is_object() ? meta.value("training", Json::object()) : Json();
          std::string line = "    " + part + ":";
          for (const char* key : {"train_file", "train_sha256", "data_sha256"}) {
            if (training.is_object() && training.contains(key) && training[key].is_string()) {
              line += std::string(" ") + key + " " + training[key].get<std::string>();
            }
          }
          for (const char* key : {"dev_metrics", "dev_entity_f1"}) {
            if (training.is_object() && training.contains(key)) {
              line += std::string(" ") + key + " " + training[key].dump();
            }
          }
          std::printf("%s\n", Safe(line).c_str());
        }
      }
    }
  }
  return Status::Ok();
}

Status Resolve(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_ASSIGN_OR_RETURN(auto r, reg.Resolve(f.target));
  if (f.json) {
    Json v = VersionJson(r.version);
    v["uri"] = r.uri;
    v["resolved"] = r.resolved;
    Print(v);
  } else {
    std::printf("%s -> %s (%s, sha256 %s)\n", Safe(r.uri).c_str(), r.resolved.c_str(),
                Safe(r.version.model_version_id).c_str(), r.version.model_sha256.c_str());
  }
  return Status::Ok();
}

Status AliasHistory(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_ASSIGN_OR_RETURN(auto m, reg.Get(f.target));
  Json all = Json::array();
  for (const auto& c : m.alias_history) {
    if (!f.alias.empty() && c.alias != f.alias) continue;
    if (f.json) {
      all.push_back(AliasChangeJson(c));
      continue;
    }
    auto v = [](const std::optional<int>& x) { return x ? std::to_string(*x) : std::string("-"); };
    const char* action = c.refused       ? "REFUSED"
                         : !c.to_version ? "delete"
                         : c.rollback    ? "rollback"
                                         : "set";
    std::printf("%s  %-12s %-8s %3s -> %-3s by %s%s%s\n", c.at.c_str(), c.alias.c_str(), action,
                v(c.from_version).c_str(), v(c.to_version).c_str(), Safe(c.by).c_str(),
                c.reason.empty() ? "" : ": ", Safe(c.reason).c_str());
  }
  if (f.json) Print(all);
  return Status::Ok();
}

Status AliasSet(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_RETURN_IF_ERROR(reg.SetAlias(f.name, f.alias, f.version, f.reason, "", CurrentActor()));
  std::printf("%s@%s -> version %d\n", f.name.c_str(), f.alias.c_str(), f.version);
  return Status::Ok();
}

Status AliasDelete(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_RETURN_IF_ERROR(reg.DeleteAlias(f.name, f.alias, f.reason, CurrentActor()));
  std::printf("%s@%s deleted\n", f.name.c_str(), f.alias.c_str());
  return Status::Ok();
}

Status Rollback(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_ASSIGN_OR_RETURN(int to, reg.Rollback(f.name, f.alias, f.reason, CurrentActor()));
  std::printf("%s@%s rolled back to version %d\n", f.name.c_str(), f.alias.c_str(), to);
  return Status::Ok();
}

Status SetStatus(const RegistryFlags& f, const char* status) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_RETURN_IF_ERROR(reg.SetStatus(f.name, f.version, status, f.reason, CurrentActor()));
  std::printf("models:/%s/%d %s\n", f.name.c_str(), f.version, status);
  return Status::Ok();
}

Status Tag(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  std::string name;
  std::optional<int> version;
  LOTE_RETURN_IF_ERROR(SplitTarget(f.target, &name, &version));
  const size_t eq = f.key_value.find('=');
  if (f.remove == (eq != std::string::npos)) {
    return InvalidArgumentError("tag takes KEY=VALUE, or KEY with --delete");
  }
  const std::string key = f.key_value.substr(0, eq);
  std::optional<std::string> value;
  if (!f.remove) value = f.key_value.substr(eq + 1);
  return reg.SetTag(name, version, key, value, CurrentActor());
}

Status ExportSageMaker(const RegistryFlags& f) {
  LOTE_ASSIGN_OR_RETURN(auto reg, OpenRegistry(f));
  LOTE_ASSIGN_OR_RETURN(auto m, reg.Get(f.target));
  if (f.image.empty() != f.model_data_prefix.empty()) {
    return InvalidArgumentError("--image and --model-data-prefix go together");
  }
  registry::SageMakerExportOptions o;
  o.image = f.image;
  o.model_data_prefix = f.model_data_prefix;
  o.endpoint = f.endpoint;
  o.region = f.region;
  if (f.dry_run) {
    for (const auto& r : registry::SageMakerRequests(m, reg.uri(), o)) {
      std::printf("%s\n", r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    return Status::Ok();
  }
  LOTE_ASSIGN_OR_RETURN(auto report, registry::ExportToSageMaker(m, reg.uri(), o));
  std::printf("model package group %s%s: %d version(s) created, %d updated\n", m.name.c_str(),
              report.group_created ? " (created)" : "", report.created, report.updated);
  for (const auto& arn : report.package_arns) std::printf("  %s\n", Safe(arn).c_str());
  return Status::Ok();
}

void SetupRegistry(CLI::App& root, int* exit_code) {
  auto* reg = root.add_subcommand(
      "registry", "The model registry: versions, aliases with their history, approvals, tags");
  reg->require_subcommand(1);
  auto f = std::make_shared<RegistryFlags>();
  auto common = [f](CLI::App* cmd) {
    cmd->add_option("--registry", f->registry,
                    "Registry URI (folder, file://, s3://; default "
                    "$LOTE_REGISTRY)");
  };
  auto json_flag = [f](CLI::App* cmd) { cmd->add_flag("--json", f->json, "JSON output"); };
  auto reason = [f](CLI::App* cmd) {
    cmd->add_option("--reason", f->reason, "Why (recorded in the audit log)");
  };
  auto run = [exit_code](std::function<Status()> fn) {
    return [exit_code, fn] {
      Status s = fn();
      *exit_code = s.ok() ? kExitOk : Fail(s);
    };
  };

  auto* r = reg->add_subcommand("register", "Register a model file as the model's next version");
  common(r);
  json_flag(r);
  r->add_option("--name", f->name, "Registered model name")->required();
  r->add_option("--model", f->model, "Model file (or a models:/ URI of another model)")->required();
  r->add_option("--tag", f->tags, "KEY=VALUE (repeatable)");
  r->add_option("--description", f->description, "Description of this version");
  r->add_option("--source", f->source, "Who or what trained it (e.g. a flow execution)");
  r->callback(run([f] { return Register(*f); }));

  auto* l = reg->add_subcommand("list", "Registered models with their aliases");
  common(l);
  json_flag(l);
  l->callback(run([f] { return List(*f); }));

  auto* s = reg->add_subcommand("show", "A model's versions, or one version (NAME/VERSION)");
  common(s);
  json_flag(s);
  s->add_option("target", f->target, "NAME or NAME/VERSION")->required();
  s->callback(run([f] { return Show(*f); }));

  auto* rs = reg->add_subcommand("resolve", "Which version a models:/ URI names");
  common(rs);
  json_flag(rs);
  rs->add_option("uri", f->target, "models:/NAME/VERSION or models:/NAME@ALIAS")->required();
  rs->callback(run([f] { return Resolve(*f); }));

  auto* h = reg->add_subcommand("alias-history",
                                "Every alias move of a model, oldest first (never rewritten)");
  common(h);
  json_flag(h);
  h->add_option("name", f->target, "Model name")->required();
  h->add_option("--alias", f->alias, "Only this alias");
  h->callback(run([f] { return AliasHistory(*f); }));

  auto* a = reg->add_subcommand("alias", "Set or delete an alias");
  a->require_subcommand(1);
  auto* as = a->add_subcommand("set", "Point ALIAS at VERSION");
  common(as);
  reason(as);
  as->add_option("name", f->name, "Model name")->required();
  as->add_option("alias", f->alias, "Alias")->required();
  as->add_option("version", f->version, "Version")->required();
  as->callback(run([f] { return AliasSet(*f); }));
  auto* ad = a->add_subcommand("delete", "Delete ALIAS");
  common(ad);
  reason(ad);
  ad->add_option("name", f->name, "Model name")->required();
  ad->add_option("alias", f->alias, "Alias")->required();
  ad->callback(run([f] { return AliasDelete(*f); }));

  auto* rb = reg->add_subcommand("rollback", "Move ALIAS back to the version it held before");
  common(rb);
  reason(rb);
  rb->add_option("name", f->name, "Model name")->required();
  rb->add_option("alias", f->alias, "Alias")->required();
  rb->callback(run([f] { return Rollback(*f); }));

  for (const char* status : {"approve", "reject"}) {
    auto* c =
        reg->add_subcommand(status, std::string(status) == "approve" ? "Mark a version approved"
                                                                     : "Mark a version rejected");
    common(c);
    reason(c);
    c->add_option("name", f->name, "Model name")->required();
    c->add_option("version", f->version, "Version")->required();
    const char* value = std::string(status) == "approve" ? "approved" : "rejected";
    c->callback(run([f, value] { return SetStatus(*f, value); }));
  }

  auto* x = reg->add_subcommand(
      "export", "Mirror a model into SageMaker's Model Registry (a package group, a version each)");
  common(x);
  x->add_option("name", f->target, "Model name")->required();
  x->add_flag("--sagemaker", f->sagemaker, "SageMaker Model Registry (the only target)")
      ->required();
  x->add_flag("--dry-run", f->dry_run, "Print the requests (JSON lines) instead of sending them");
  x->add_option("--image", f->image, "Inference image URI (with --model-data-prefix)");
  x->add_option("--model-data-prefix", f->model_data_prefix,
                "s3:// prefix of the model archives: PREFIX/NAME/VERSION/model.tar.gz");
  x->add_option("--endpoint", f->endpoint,
                "SageMaker endpoint URL (default: from the AWS "
                "environment)");
  x->add_option("--region", f->region, "AWS region (default: from the AWS environment)");
  x->callback(run([f] { return ExportSageMaker(*f); }));

  auto* t = reg->add_subcommand("tag", "Set (KEY=VALUE) or delete (--delete KEY) a tag");
  common(t);
  t->add_option("target", f->target, "NAME or NAME/VERSION")->required();
  t->add_option("tag", f->key_value, "KEY=VALUE, or KEY with --delete")->required();
  t->add_flag("--delete", f->remove, "Delete the tag");
  t->callback(run([f] { return Tag(*f); }));
}

}  // namespace
LOTE_REGISTER_COMMAND(66, SetupRegistry);
}  // namespace lote::cli
