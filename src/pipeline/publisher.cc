#include "pipeline/publisher.h"

#include "lote/base/json_writer.h"

namespace lote::pipeline {

ObjectPublisher::ObjectPublisher(const PublishContext& context, std::string uri, int64_t source_id,
                                 int64_t attempt_id, const std::string& dt)
    : c_(context),
      uri_(std::move(uri)),
      source_id_(source_id),
      attempt_id_(attempt_id),
      results_(context.out,
               storage::JoinUri(context.output_uri,
                                "_staging/a" + std::to_string(attempt_id) + "/results"),
               "results", "results/dt=" + dt + "/model=" + context.model_version,
               context.max_part_bytes, context.zstd_level),
      quarantine_(context.out,
                  storage::JoinUri(context.output_uri,
                                   "_staging/a" + std::to_string(attempt_id) + "/quarantine"),
                  "quarantine", "quarantine/dt=" + dt + "/model=" + context.model_version,
                  context.max_part_bytes, context.zstd_level) {}

Status ObjectPublisher::Write(Batch* batch) {
  const int64_t t0 = c_.clock->MonotonicNanos();
  const std::string processed_at = FormatTimestampMillis(c_.clock->NowMicros());
  Status s;
  for (size_t i = 0; i < batch->size && s.ok(); ++i) s = WriteItem(batch->items[i], processed_at);
  publish_s_ += c_.clock->SecondsSince(t0);
  return s;
}

Status ObjectPublisher::WriteItem(Item& item, const std::string& processed_at) {
  ++counts_.records_in;
  ++c_.live->in;
  // Dedup applies to records that passed prep, whatever inference then says.
  if (item.stage.empty() || item.stage == "infer") {
    // Always tracked: the record's latest version is found through it.
    LOTE_ASSIGN_OR_RETURN(bool dup, c_.ledger->SeenRecord(item.record_id, source_id_, attempt_id_,
                                                          c_.dedup_record_id));
    if (!dup && c_.dedup_content) {
      if (item.content_key.empty()) {
        return FailedPreconditionError(
            "dedup by content needs the records' content fingerprints, and the prep stage made "
            "none: run prep with the PII key (--pii-key-file or LOTE_PII_KEY)");
      }
      LOTE_ASSIGN_OR_RETURN(dup,
                            c_.ledger->SeenContent(item.content_key, item.record_id, attempt_id_));
    }
    if (dup) {
      ++counts_.records_duplicate;
      ++c_.live->duplicate;
      return Status::Ok();
    }
  }
  std::string& line = line_;
  line.clear();
  if (!item.stage.empty()) {
    qrow_.record_id = item.record_id;
    qrow_.line = item.line;
    qrow_.stage = item.stage;
    qrow_.reason = c_.redact(item.reason);
    qrow_.processed_at = processed_at;
    line += "{\"record_id\":";
    AppendJsonString(&line, qrow_.record_id);
    line += ",\"source\":";
    AppendJsonString(&line, uri_);
    line += ",\"line\":" + std::to_string(item.line) + ",\"stage\":";
    AppendJsonString(&line, qrow_.stage);
    line += ",\"reason\":";
    AppendJsonString(&line, qrow_.reason);
    line += "}";
    LOTE_RETURN_IF_ERROR(quarantine_.AddRow(line));
    LOTE_RETURN_IF_ERROR(c_.ledger->AddQuarantine(attempt_id_, qrow_));
    ++counts_.records_quarantined;
    ++c_.live->quarantined;
    return Status::Ok();
  }
  ResultRow& row = row_;
  row.record_id = item.record_id;
  row.line = item.line;
  row.text_hmac = item.text_hmac;
  row.lang = item.prep.lang;
  row.label = item.out.label;
  row.score = item.out.score;
  row.processed_at = processed_at;
  row.top_k_json.clear();
  if (!row.label.empty()) {
    row.top_k_json.push_back('[');
    for (size_t k = 0; k < item.out.top_k.size(); ++k) {
      if (k > 0) row.top_k_json.push_back(',');
      row.top_k_json += "{\"label\":";
      AppendJsonString(&row.top_k_json, item.out.top_k[k].first);
      row.top_k_json += ",\"score\":";
      AppendJsonNumber(&row.top_k_json, item.out.top_k[k].second);
      row.top_k_json.push_back('}');
    }
    row.top_k_json.push_back(']');
  }
  if (item.out.entities_json.empty()) item.out.entities_json = "[]";
  const std::string& entities = item.out.entities_json;
  line += "{\"record_id\":";
  AppendJsonString(&line, row.record_id);
  line += ",\"source\":";
  AppendJsonString(&line, uri_);
  line += ",\"line\":" + std::to_string(row.line) + ",\"text_hmac\":";
  if (row.text_hmac.empty()) {
    line += "null";
  } else {
    line += "\"" + row.text_hmac + "\"";
  }
  line += ",\"lang\":";
  AppendJsonString(&line, row.lang);
  if (row.label.empty()) {
    line += ",\"label\":null,\"score\":null,\"top_k\":null";
  } else {
    line += ",\"label\":";
    AppendJsonString(&line, row.label);
    line += ",\"score\":";
    AppendJsonNumber(&line, row.score);
    line += ",\"top_k\":" + row.top_k_json;
  }
  line += ",\"entities\":" + entities + ",\"model_version\":";
  AppendJsonString(&line, c_.model_version);
  line += ",\"preprocess_version\":\"" + c_.preprocess_version + "\",\"run_id\":\"" + c_.run_id +
          "\",\"processed_at\":\"" + processed_at + "\"}";
  LOTE_RETURN_IF_ERROR(results_.AddRow(line));
  LOTE_RETURN_IF_ERROR(c_.ledger->AddResult(attempt_id_, row, entities));
  ++labels_[row.label.empty() ? std::string("(none)") : row.label];
  ++counts_.records_out;
  ++c_.live->out;
  return Status::Ok();
}

Status ObjectPublisher::Finish() {
  const int64_t t0 = c_.clock->MonotonicNanos();
  LOTE_RETURN_IF_ERROR(results_.Finish());
  LOTE_RETURN_IF_ERROR(quarantine_.Finish());
  publish_s_ += c_.clock->SecondsSince(t0);
  return Status::Ok();
}

std::vector<StagedPart> ObjectPublisher::parts() const {
  std::vector<StagedPart> parts = results_.parts();
  parts.insert(parts.end(), quarantine_.parts().begin(), quarantine_.parts().end());
  return parts;
}

}  // namespace lote::pipeline
