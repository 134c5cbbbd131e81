#include "predict_output.h"

#include "lote/text/utf8.h"

namespace lote::cli {

struct RecordPredictor::Impl {
  const bundle::Model* model;
  RecordPredictorOptions options;
};

RecordPredictor::~RecordPredictor() = default;

void AppendRecordId(std::string* out, const io::TextRecord& r, bool use_row) {
  if (!r.id.empty()) {
    AppendJsonString(out, r.id);
  } else {
    out->append(std::to_string(use_row ? r.row : r.line));
  }
}

Result<std::unique_ptr<RecordPredictor>> RecordPredictor::Create(const bundle::Model* model,
                                                                 RecordPredictorOptions options) {
  std::unique_ptr<RecordPredictor> p(new RecordPredictor());
  p->impl_ = std::make_unique<Impl>();
  p->impl_->model = model;
  p->impl_->options = std::move(options);
  return p;
}

RecordFn RecordPredictor::NewWorker() const {
  const Impl* impl = impl_.get();
  auto clf = impl->model->classifier;
  std::shared_ptr<classify::ClassifierState> state;
  if (clf) state = clf->NewState();
  auto pred = std::make_shared<classify::ClassifierPrediction>();
  return [impl, clf, state, pred](const InputRecord& in, std::string* out) {
    const auto& opt = impl->options;
    out->append("{\"record_id\":");
    AppendRecordId(out, in.record, opt.record_id_is_row);
    if (!in.error.ok()) {
      out->append(",\"error\":");
      AppendJsonString(out, text::ReplaceInvalidUtf8(in.error.message()));
    } else {
      if (clf && opt.classify) {
        clf->Predict(in.record.text, state.get(), opt.top_k, pred.get());
        const auto& labels = clf->labels();
        out->append(",\"label\":");
        AppendJsonString(out, labels[pred->label]);
        out->append(",\"score\":");
        AppendJsonNumber(out, pred->score);
        out->append(",\"top_k\":[");
        for (size_t i = 0; i < pred->top_k.size(); ++i) {
          if (i) out->push_back(',');
          out->append("{\"label\":");
          AppendJsonString(out, labels[pred->top_k[i].label]);
          out->append(",\"score\":");
          AppendJsonNumber(out, pred->top_k[i].score);
          out->push_back('}');
        }
        out->push_back(']');
      }
    }
    out->append(",\"model_version\":");
    AppendJsonString(out, impl->model->version_id);
    out->append("}\n");
  };
}

}  // namespace lote::cli
