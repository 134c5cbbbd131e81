// Test engines for the pipeline: a deterministic keyword classifier + digit-run "extractor", and
// knobs to make it fail. Not a model: rules a test can predict exactly.
#ifndef LOTE_TESTS_PIPELINE_FAKE_ENGINE_H_
#define LOTE_TESTS_PIPELINE_FAKE_ENGINE_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lote/pipeline/inference.h"

namespace lote::pipeline::testing {

// Label rules, first match wins, on lowercase ASCII: "pag"/"pay" -> pago, "bloq"/"block" ->
// bloqueo, else otro; score 0.9 for a match, 0.5 otherwise; top_k has the label then "otro" (or
// "pago"). Entities: every run of >= 6 digits is a NUMERO_CUENTA entity whose text is masked as
// "[NUMERO_CUENTA]" (the PII policy). A text containing "FAILME" fails with InvalidArgument whose
// message quotes the text's digits (so tests can check the pipeline redacts reasons).
class FakeInferenceEngine : public InferenceEngine {
 public:
  explicit FakeInferenceEngine(std::string version = "fake-1") : version_(std::move(version)) {}

  std::string model_version() const override { return version_; }
  std::unique_ptr<InferenceState> NewState() const override {
    return std::make_unique<InferenceState>();
  }
  Status Infer(std::string_view text, InferenceState*, InferenceOutput* out) const override {
    calls_.fetch_add(1);
    if (on_infer) on_infer(text);
    std::string lower(text);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    if (text.find("FAILME") != std::string_view::npos) {
      std::string digits;
      for (char c : text) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      return InvalidArgumentError("engine cannot handle account " + digits);
    }
    if (lower.find("pag") != std::string::npos || lower.find("pay") != std::string::npos) {
      out->label = "pago";
    } else if (lower.find("bloq") != std::string::npos ||
               lower.find("block") != std::string::npos) {
      out->label = "bloqueo";
    } else {
      out->label = "otro";
    }
    out->score = out->label == "otro" ? 0.5f : 0.9f;
    out->top_k = {{out->label, out->score},
                  {out->label == "otro" ? "pago" : "otro", 1.0f - out->score}};
    // Code point offsets: count UTF-8 lead bytes.
    out->entities_json = "[";
    size_t cp = 0, run_start = 0, run_len = 0;
    auto flush = [&] {
      if (run_len >= 6) {
        if (out->entities_json.size() > 1) out->entities_json += ",";
        out->entities_json += "{\"type\":\"NUMERO_CUENTA\",\"start\":" + std::to_string(run_start) +
                              ",\"end\":" + std::to_string(run_start + run_len) +
                              ",\"text\":\"[NUMERO_CUENTA]\",\"score\":1}";
      }
      run_len = 0;
    };
    for (char c : text) {
      if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) continue;
      if (c >= '0' && c <= '9') {
        if (run_len == 0) run_start = cp;
        ++run_len;
      } else {
        flush();
      }
      ++cp;
    }
    flush();
    out->entities_json += "]";
    // Monitoring signals: code points, words (space-separated), and "unknown" words: those with
    // a digit.
    RecordSignals& sig = out->signals;
    sig.observed = true;
    sig.chars = static_cast<uint32_t>(cp);
    bool in_word = false, has_digit = false;
    for (size_t i = 0; i <= text.size(); ++i) {
      const bool space = i == text.size() || text[i] == ' ';
      if (!space) {
        in_word = true;
        has_digit = has_digit || (text[i] >= '0' && text[i] <= '9');
      } else if (in_word) {
        ++sig.vocabulary.words;
        sig.vocabulary.unknown_words += has_digit;
        in_word = has_digit = false;
      }
    }
    sig.vocabulary.char_ngrams = sig.chars;
    sig.vocabulary.unknown_char_ngrams = sig.vocabulary.unknown_words;
    return Status::Ok();
  }
  const monitoring::Profile* reference_profile() const override {
    return reference ? &*reference : nullptr;
  }
  // Masks runs of >= 6 digits (account numbers, as the entity rule) with "[NUMERO_CUENTA]".
  std::string RedactText(std::string_view text) const override {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      size_t j = i;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
      if (j - i >= 6) {
        out += "[NUMERO_CUENTA]";
      } else {
        out.append(text.substr(i, j - i));
      }
      if (j < text.size()) out.push_back(text[j]);
      i = j + 1;
    }
    return out;
  }

  uint64_t calls() const { return calls_.load(); }
  // Called at the start of every Infer (any thread): tests change inputs or crash from here.
  std::function<void(std::string_view)> on_infer;
  // The reference profile the engine reports (set before the engine is used).
  std::optional<monitoring::Profile> reference;

 private:
  std::string version_;
  mutable std::atomic<uint64_t> calls_{0};
};

}  // namespace lote::pipeline::testing

#endif  // LOTE_TESTS_PIPELINE_FAKE_ENGINE_H_
