#include "pipeline/publisher.h"

#include <charconv>

#include "lote/base/json_writer.h"

namespace lote::pipeline {

std::string SourceJson(std::string_view uri) {
  std::string out = ",\"source\":";
  AppendJsonString(&out, uri);
  return out;
}

void EncodeResultHead(std::string_view source_json, Item* item) {
  std::string& top_k = item->top_k_json;
  top_k.clear();
  const InferenceOutput& o = item->out;
  if (!o.label.empty()) {
    top_k.push_back('[');
    for (size_t k = 0; k < o.top_k.size(); ++k) {
      if (k > 0) top_k.push_back(',');
      top_k.append("{\"label\":");
      AppendJsonString(&top_k, o.top_k[k].first);
      top_k.append(",\"score\":");
      AppendJsonNumber(&top_k, o.top_k[k].second);
      top_k.push_back('}');
    }
    top_k.push_back(']');
  }
  if (item->out.entities_json.empty()) item->out.entities_json = "[]";
  std::string& line = item->result_json;
  line.clear();
  char number[24];
  line.append("{\"record_id\":");
  AppendJsonString(&line, item->record_id);
  line.append(source_json);
  line.append(",\"line\":");
  line.append(number, std::to_chars(number, number + sizeof(number), item->line).ptr);
  line.append(",\"text_hmac\":");
  if (item->text_hmac.empty()) {
    line.append("null");
  } else {
    line.push_back('"');
    line.append(item->text_hmac);
    line.push_back('"');
  }
  line.append(",\"lang\":");
  AppendJsonString(&line, item->prep.lang);
  if (o.label.empty()) {
    line.append(",\"label\":null,\"score\":null,\"top_k\":null");
  } else {
    line.append(",\"label\":");
    AppendJsonString(&line, o.label);
    line.append(",\"score\":");
    AppendJsonNumber(&line, o.score);
    line.append(",\"top_k\":");
    line.append(top_k);
  }
  line.append(",\"entities\":");
  line.append(o.entities_json);
}

std::string StagingUri(const PublishContext& context, int64_t attempt_id) {
  return storage::JoinUri(context.output_uri,
                          "_staging/" + context.staging_tag + "-a" + std::to_string(attempt_id));
}

ObjectPublisher::ObjectPublisher(const PublishContext& context, std::string uri, int64_t source_id,
                                 int64_t attempt_id, const std::string& dt)
    : c_(context),
      uri_(std::move(uri)),
      source_id_(source_id),
      attempt_id_(attempt_id),
      results_(context.out, StagingUri(context, attempt_id) + "/results", "results",
               "results/dt=" + dt + "/model=" + context.model_version, context.max_part_bytes,
               context.zstd_level),
      quarantine_(context.out, StagingUri(context, attempt_id) + "/quarantine", "quarantine",
                  "quarantine/dt=" + dt + "/model=" + context.model_version, context.max_part_bytes,
                  context.zstd_level),
      shadow_(context.out, StagingUri(context, attempt_id) + "/shadow", "shadow",
              "shadow/dt=" + dt + "/model=" + context.shadow_model_version, context.max_part_bytes,
              context.zstd_level),
      source_json_(SourceJson(uri_)) {
  // What every results (and shadow) row of the object ends with, escaped once.
  auto tail = [](const std::vector<std::pair<const char*, const std::string*>>& fields) {
    std::string out;
    for (const auto& [key, value] : fields) {
      out += std::string(",\"") + key + "\":";
      AppendJsonString(&out, *value);
    }
    return out + ",\"processed_at\":\"";
  };
  tail_json_ = tail({{"model_version", &c_.model_version},
                     {"preprocess_version", &c_.preprocess_version},
                     {"run_id", &c_.run_id}});
  shadow_tail_ = tail({{"model_version", &c_.shadow_model_version},
                       {"champion_model_version", &c_.model_version},
                       {"preprocess_version", &c_.preprocess_version},
                       {"run_id", &c_.run_id}});
}

// Three passes over the batch, so that the time inside the ledger (dedup, catalog rows) and the
// time writing parts are measured apart with a few clock reads per batch.
Status ObjectPublisher::Write(Batch* batch) {
  const int64_t t0 = c_.clock->MonotonicNanos();
  const std::string processed_at = FormatTimestampMillis(c_.clock->NowMicros());
  for (size_t i = 0; i < batch->size; ++i) LOTE_RETURN_IF_ERROR(Dedup(&batch->items[i]));
  const int64_t t1 = c_.clock->MonotonicNanos();
  for (size_t i = 0; i < batch->size; ++i) {
    LOTE_RETURN_IF_ERROR(WriteRow(&batch->items[i], processed_at));
  }
  const int64_t t2 = c_.clock->MonotonicNanos();
  for (size_t i = 0; i < batch->size; ++i) {
    LOTE_RETURN_IF_ERROR(AddCatalogRow(batch->items[i], processed_at));
  }
  const int64_t t3 = c_.clock->MonotonicNanos();
  catalog_s_ += static_cast<double>((t1 - t0) + (t3 - t2)) / 1e9;
  publish_s_ += static_cast<double>(t2 - t1) / 1e9;
  return Status::Ok();
}

Status ObjectPublisher::Dedup(Item* item) {
  ++counts_.records_in;
  ++c_.live->in;
  item->duplicate = false;
  // Dedup applies to records that passed prep, whatever inference then says.
  if (!item->stage.empty() && item->stage != "infer") return Status::Ok();
  // Always tracked: the record's latest version is found through it.
  LOTE_ASSIGN_OR_RETURN(bool dup, c_.ledger->SeenRecord(item->record_id, source_id_, attempt_id_,
                                                        c_.dedup_record_id));
  if (!dup && c_.dedup_content) {
    if (item->content_key.empty()) {
      return FailedPreconditionError(
          "dedup by content needs the records' content fingerprints, and the prep stage made "
          "none: run prep with the PII key (--pii-key-file or LOTE_PII_KEY)");
    }
    LOTE_ASSIGN_OR_RETURN(dup,
                          c_.ledger->SeenContent(item->content_key, item->record_id, attempt_id_));
  }
  if (dup) {
    item->duplicate = true;
    ++counts_.records_duplicate;
    ++c_.live->duplicate;
  }
  return Status::Ok();
}

Status ObjectPublisher::WriteRow(Item* item, const std::string& processed_at) {
  if (item->duplicate) return Status::Ok();
  std::string& line = line_;
  line.clear();
  if (!item->stage.empty()) {
    item->reason = c_.redact(item->reason);
    line.append("{\"record_id\":");
    AppendJsonString(&line, item->record_id);
    line.append(source_json_);
    line.append(",\"line\":" + std::to_string(item->line) + ",\"stage\":");
    AppendJsonString(&line, item->stage);
    line.append(",\"reason\":");
    AppendJsonString(&line, item->reason);
    line.append(tail_json_);  // ,"model_version":...,"processed_at":"
    line.append(processed_at);
    line.append("\"}");
    LOTE_RETURN_IF_ERROR(quarantine_.AddRow(line));
    ++counts_.records_quarantined;
    ++c_.live->quarantined;
    return Status::Ok();
  }
  // The workers encoded the row's head; handed-over records may come without one.
  if (item->result_json.empty()) EncodeResultHead(source_json_, item);
  line.append(item->result_json);
  line.append(tail_json_);  // ,"model_version":...,"processed_at":"
  line.append(processed_at);
  line.append("\"}");
  LOTE_RETURN_IF_ERROR(results_.AddRow(line));
  if (item->shadow_ok) {
    // The challenger's prediction beside the champion's: what it said, and whether it agrees.
    line.clear();
    line.append("{\"record_id\":");
    AppendJsonString(&line, item->record_id);
    line.append(source_json_);
    line.append(",\"line\":" + std::to_string(item->line));
    if (item->shadow.label.empty()) {
      line.append(",\"label\":null,\"score\":null");
    } else {
      line.append(",\"label\":");
      AppendJsonString(&line, item->shadow.label);
      line.append(",\"score\":");
      AppendJsonNumber(&line, item->shadow.score);
    }
    line.append(",\"champion_label\":");
    if (item->out.label.empty()) {
      line.append("null");
    } else {
      AppendJsonString(&line, item->out.label);
    }
    line.append(",\"agree\":");
    line.append(item->shadow.label == item->out.label ? "true" : "false");
    line.append(",\"entities\":");
    line.append(item->shadow.entities_json.empty() ? "[]" : item->shadow.entities_json);
    line.append(shadow_tail_);
    line.append(processed_at);
    line.append("\"}");
    LOTE_RETURN_IF_ERROR(shadow_.AddRow(line));
  }
  const std::string_view label =
      item->out.label.empty() ? std::string_view("(none)") : std::string_view(item->out.label);
  auto counted = labels_.find(label);
  if (counted == labels_.end()) counted = labels_.emplace(std::string(label), 0).first;
  ++counted->second;
  if (!item->out.label.empty()) {
    score_sum_ += item->out.score;
    ++scored_;
  }
  if (const RecordSignals& sig = item->out.signals; c_.monitor && sig.observed) {
    monitoring::Observation o;
    o.label = item->out.label;
    o.score = item->out.score;
    o.abstained = sig.abstained;
    o.lang = item->prep.lang;
    o.chars = sig.chars;
    o.vocabulary = sig.vocabulary;
    o.entities = sig.entities;
    o.tagger = &sig.tagger;
    profile_.Add(o);
  }
  ++counts_.records_out;
  ++c_.live->out;
  return Status::Ok();
}

Status ObjectPublisher::AddCatalogRow(const Item& item, const std::string& processed_at) {
  if (item.duplicate) return Status::Ok();
  if (!item.stage.empty()) {
    QuarantineRow q;
    q.record_id = item.record_id;
    q.line = item.line;
    q.stage = item.stage;
    q.reason = item.reason;  // redacted by WriteRow
    q.processed_at = processed_at;
    return c_.ledger->AddQuarantine(attempt_id_, q);
  }
  ResultRow row;
  row.record_id = item.record_id;
  row.line = item.line;
  row.text_hmac = item.text_hmac;
  row.lang = item.prep.lang;
  row.label = item.out.label;
  row.score = item.out.score;
  row.top_k_json = item.top_k_json;
  row.processed_at = processed_at;
  return c_.ledger->AddResult(attempt_id_, row, item.out.entities_json);
}

Status ObjectPublisher::Finish() {
  const int64_t t0 = c_.clock->MonotonicNanos();
  LOTE_RETURN_IF_ERROR(results_.Finish());
  LOTE_RETURN_IF_ERROR(quarantine_.Finish());
  LOTE_RETURN_IF_ERROR(shadow_.Finish());
  publish_s_ += c_.clock->SecondsSince(t0);
  return Status::Ok();
}

std::vector<StagedPart> ObjectPublisher::parts() const {
  std::vector<StagedPart> parts = results_.parts();
  parts.insert(parts.end(), quarantine_.parts().begin(), quarantine_.parts().end());
  parts.insert(parts.end(), shadow_.parts().begin(), shadow_.parts().end());
  return parts;
}

}  // namespace lote::pipeline
