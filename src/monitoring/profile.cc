#include "lote/monitoring/profile.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace lote::monitoring {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kFormatVersion = 1;
constexpr int kScoreBins = 50;
constexpr int kRateBins = 20;
constexpr int kLengthBins = 72;  // quarter octaves: up to 2^18 code points, longer in the last

int LinearBin(double v, int bins) {
  if (!(v > 0)) return 0;  // also NaN
  const int b = static_cast<int>(v * bins);
  return std::min(b, bins - 1);
}

const char* const kNames[kNumericSignals] = {"top_score", "text_length", "unknown_word_rate",
                                             "unknown_char_ngram_rate"};
const char* const kBins[kNumericSignals] = {"linear:0:1:50", "log2x4:72", "linear:0:1:20",
                                            "linear:0:1:20"};

double Rate(uint32_t part, uint32_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / whole;
}

void AddCounts(std::vector<uint64_t>* to, const std::vector<uint64_t>& from) {
  if (to->size() < from.size()) to->resize(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i) (*to)[i] += from[i];
}

// Reads json[key] as T, or InvalidArgument naming the field.
template <typename T>
Status Get(const Json& j, const char* key, std::string_view where, T* out) {
  auto it = j.find(key);
  if (it == j.end()) {
    return InvalidArgumentError("profile: missing field " + std::string(where) + "." + key);
  }
  try {
    *out = it->template get<T>();
  } catch (const Json::exception&) {
    return InvalidArgumentError("profile: field " + std::string(where) + "." + key +
                                " has the wrong type");
  }
  return Status::Ok();
}

// Counts are exact in a double up to 2^53: a profile holding more (damaged, or hostile) would
// make the tests' arithmetic meaningless.
constexpr uint64_t kMaxCount = uint64_t{1} << 53;

Status GetCounts(const Json& j, const char* key, std::string_view where, size_t size,
                 std::vector<uint64_t>* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return InvalidArgumentError("profile: " + std::string(where) + "." + key +
                                " is missing or not a list");
  }
  if (it->size() != size) {
    return InvalidArgumentError("profile: " + std::string(where) + "." + key + " has " +
                                std::to_string(it->size()) + " bins, not " + std::to_string(size));
  }
  out->clear();
  uint64_t total = 0;
  for (const Json& c : *it) {
    if (!c.is_number_unsigned() || c.get<uint64_t>() > kMaxCount - total) {
      return InvalidArgumentError("profile: " + std::string(where) + "." + key +
                                  " holds a count that is not a whole number up to 2^53");
    }
    out->push_back(c.get<uint64_t>());
    total += out->back();
  }
  return Status::Ok();
}

// A count of records (categories, labels, tokens): a whole number up to 2^53.
Status GetCount(const Json& j, const std::string& key, std::string_view where, uint64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > kMaxCount) {
    return InvalidArgumentError("profile: " + std::string(where) + "." + key +
                                " is missing or not a whole number up to 2^53");
  }
  *out = it->get<uint64_t>();
  return Status::Ok();
}

// The "entities" object: records, a count per known pattern type (types this lote does not know
// are ignored: they cannot be compared) and the check-digit counts, each within its whole.
Status ReadEntities(const Json& j, uint64_t profile_records, EntityProfile* out) {
  if (!j.is_object()) return InvalidArgumentError("profile: entities is not an object");
  LOTE_RETURN_IF_ERROR(GetCount(j, "records", "entities", &out->records));
  if (out->records > profile_records) {
    return InvalidArgumentError("profile: entities.records exceeds the profile's records");
  }
  Json types, checks;
  LOTE_RETURN_IF_ERROR(Get(j, "types", "entities", &types));
  LOTE_RETURN_IF_ERROR(Get(j, "check_digits", "entities", &checks));
  if (!types.is_object() || !checks.is_object()) {
    return InvalidArgumentError(
        "profile: entities.types and entities.check_digits must be objects");
  }
  const std::vector<std::string>& names = extract::PatternTypes();
  for (size_t k = 0; k < names.size(); ++k) {
    if (!types.contains(names[k])) continue;
    LOTE_RETURN_IF_ERROR(GetCount(types, names[k], "entities.types", &out->type_records[k]));
    if (out->type_records[k] > out->records) {
      return InvalidArgumentError("profile: entities.types." + names[k] +
                                  " exceeds entities.records");
    }
  }
  for (int t = 0; t < extract::kCheckedTypes; ++t) {
    const std::string name(extract::CheckedTypeName(static_cast<extract::CheckedType>(t)));
    auto it = checks.find(name);
    if (it == checks.end()) continue;
    const std::string where = "entities.check_digits." + name;
    LOTE_RETURN_IF_ERROR(GetCount(*it, "candidates", where, &out->candidates[t]));
    LOTE_RETURN_IF_ERROR(GetCount(*it, "failures", where, &out->failures[t]));
    if (out->failures[t] > out->candidates[t]) {
      return InvalidArgumentError("profile: " + where + ".failures exceeds its candidates");
    }
  }
  return Status::Ok();
}

// The "tagger_entities" object: sentences, and per entity type (a model's type name: at most
// 64 bytes, at most 256 types) the sentences holding it, each within the sentences.
Status ReadTaggerEntities(const Json& j, TaggerEntityProfile* out) {
  if (!j.is_object()) return InvalidArgumentError("profile: tagger_entities is not an object");
  LOTE_RETURN_IF_ERROR(GetCount(j, "sentences", "tagger_entities", &out->sentences));
  auto types = j.find("types");
  if (types == j.end() || !types->is_object() || types->size() > 256) {
    return InvalidArgumentError(
        "profile: tagger_entities.types is missing or not an object of at most 256 types");
  }
  for (const auto& item : types->items()) {
    if (item.key().empty() || item.key().size() > 64) {
      return InvalidArgumentError(
          "profile: tagger_entities.types has a type name that is empty or over 64 bytes");
    }
    uint64_t n = 0;
    LOTE_RETURN_IF_ERROR(GetCount(*types, item.key(), "tagger_entities.types", &n));
    if (n > out->sentences) {
      return InvalidArgumentError("profile: tagger_entities.types." + item.key() +
                                  " exceeds tagger_entities.sentences");
    }
    out->type_sentences[item.key()] = n;
  }
  return Status::Ok();
}

}  // namespace

std::string_view NumericSignalName(NumericSignal s) { return kNames[static_cast<int>(s)]; }
std::string_view NumericSignalBins(NumericSignal s) { return kBins[static_cast<int>(s)]; }

int NumericSignalBinCount(NumericSignal s) {
  switch (s) {
    case NumericSignal::kTopScore:
      return kScoreBins;
    case NumericSignal::kTextLength:
      return kLengthBins;
    case NumericSignal::kUnknownWordRate:
    case NumericSignal::kUnknownCharNgramRate:
      return kRateBins;
  }
  return 1;
}

int NumericSignalBin(NumericSignal s, double value) {
  switch (s) {
    case NumericSignal::kTopScore:
      return LinearBin(value, kScoreBins);
    case NumericSignal::kTextLength: {
      if (!(value > 0)) return 0;
      const int b = static_cast<int>(4 * std::log2(value + 1));
      return std::min(b, kLengthBins - 1);
    }
    case NumericSignal::kUnknownWordRate:
    case NumericSignal::kUnknownCharNgramRate:
      return LinearBin(value, kRateBins);
  }
  return 0;
}

double NumericSignalBinValue(NumericSignal s, int bin) {
  if (s == NumericSignal::kTextLength) {
    // Bin b holds lengths n with b <= 4 log2(n + 1) < b + 1.
    return std::exp2((bin + 0.5) / 4) - 1;
  }
  return (bin + 0.5) / NumericSignalBinCount(s);
}

uint64_t NumericHistogram::total() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

double NumericHistogram::mean() const {
  const uint64_t n = total();
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

double NumericHistogram::stddev() const {
  const uint64_t n = total();
  if (n == 0) return 0.0;
  const double m = sum / static_cast<double>(n);
  return std::sqrt(std::max(0.0, sum_sq / static_cast<double>(n) - m * m));
}

EntityProfile::EntityProfile() : type_records(extract::PatternTypes().size(), 0) {}

Profile::Profile() {
  for (int s = 0; s < kNumericSignals; ++s) {
    numeric_[s].counts.assign(NumericSignalBinCount(static_cast<NumericSignal>(s)), 0);
  }
}

void Profile::Add(const Observation& o) {
  ++records_;
  auto add = [this](NumericSignal s, double v) {
    NumericHistogram& h = numeric_[static_cast<int>(s)];
    ++h.counts[NumericSignalBin(s, v)];
    h.sum += v;
    h.sum_sq += v * v;
  };
  if (!o.label.empty()) {
    auto it = labels_.find(o.label);
    if (it == labels_.end()) {
      it = labels_.emplace(std::string(o.label), LabelProfile()).first;
      it->second.score_bins.assign(kScoreBins, 0);
    }
    LabelProfile& l = it->second;
    ++l.records;
    l.score_sum += o.score;
    l.score_sq_sum += static_cast<double>(o.score) * o.score;
    ++l.score_bins[LinearBin(o.score, kScoreBins)];
    add(NumericSignal::kTopScore, o.score);
    if (o.abstained) ++abstained_;
  }
  if (!o.lang.empty()) {
    auto it = lang_counts_.find(o.lang);
    if (it == lang_counts_.end()) it = lang_counts_.emplace(std::string(o.lang), 0).first;
    ++it->second;
  }
  add(NumericSignal::kTextLength, o.chars);
  // A text without words (digits-only, punctuation) says nothing about unknown vocabulary.
  const classify::VocabularyCounts& v = o.vocabulary;
  if (v.words > 0) add(NumericSignal::kUnknownWordRate, Rate(v.unknown_words, v.words));
  if (v.char_ngrams > 0) {
    add(NumericSignal::kUnknownCharNgramRate, Rate(v.unknown_char_ngrams, v.char_ngrams));
  }
  words_ += v.words;
  unknown_words_ += v.unknown_words;
  char_ngrams_ += v.char_ngrams;
  unknown_char_ngrams_ += v.unknown_char_ngrams;
  if (o.entities.observed) {
    EntityProfile& e = entities_;
    ++e.records;
    for (size_t k = 0; k < e.type_records.size(); ++k) {
      if (o.entities.types & (1u << k)) ++e.type_records[k];
    }
    for (int t = 0; t < extract::kCheckedTypes; ++t) {
      e.candidates[t] += o.entities.checks.candidates[t];
      e.failures[t] += o.entities.checks.failures[t];
    }
  }
  if (o.tagger != nullptr && o.tagger->observed) {
    tagger_entities_.sentences += o.tagger->sentences;
    for (const auto& [type, n] : o.tagger->types) {
      auto it = tagger_entities_.type_sentences.find(type);
      if (it == tagger_entities_.type_sentences.end()) {
        it = tagger_entities_.type_sentences.emplace(type, 0).first;
      }
      it->second += std::min(n, o.tagger->sentences);
    }
  }
}

void Profile::Merge(const Profile& other) {
  records_ += other.records_;
  has_abstention_ = has_abstention_ || other.has_abstention_;
  abstained_ += other.abstained_;
  for (const auto& [lang, n] : other.lang_counts_) lang_counts_[lang] += n;
  for (int s = 0; s < kNumericSignals; ++s) {
    AddCounts(&numeric_[s].counts, other.numeric_[s].counts);
    numeric_[s].sum += other.numeric_[s].sum;
    numeric_[s].sum_sq += other.numeric_[s].sum_sq;
  }
  for (const auto& [name, l] : other.labels_) {
    LabelProfile& to = labels_[name];
    to.records += l.records;
    to.score_sum += l.score_sum;
    to.score_sq_sum += l.score_sq_sum;
    AddCounts(&to.score_bins, l.score_bins);
  }
  words_ += other.words_;
  unknown_words_ += other.unknown_words_;
  char_ngrams_ += other.char_ngrams_;
  unknown_char_ngrams_ += other.unknown_char_ngrams_;
  entities_.records += other.entities_.records;
  AddCounts(&entities_.type_records, other.entities_.type_records);
  for (int t = 0; t < extract::kCheckedTypes; ++t) {
    entities_.candidates[t] += other.entities_.candidates[t];
    entities_.failures[t] += other.entities_.failures[t];
  }
  tagger_entities_.sentences += other.tagger_entities_.sentences;
  for (const auto& [type, n] : other.tagger_entities_.type_sentences) {
    tagger_entities_.type_sentences[type] += n;
  }
  terms_.Merge(other.terms_);
}

std::map<std::string, uint64_t, std::less<>> Profile::categorical(std::string_view name) const {
  std::map<std::string, uint64_t, std::less<>> out;
  if (name == "label") {
    for (const auto& [label, l] : labels_) out[label] = l.records;
  } else if (name == "lang") {
    out = lang_counts_;
  } else if (name == "abstained" && !labels_.empty()) {
    uint64_t scored = 0;
    for (const auto& [label, l] : labels_) scored += l.records;
    out["no"] = scored - abstained_;
    out["yes"] = abstained_;
  }
  return out;
}

std::vector<std::string> Profile::categorical_names() const {
  std::vector<std::string> names;
  if (!labels_.empty()) names.push_back("label");
  if (!lang_counts_.empty()) names.push_back("lang");
  if (has_abstention_ && !labels_.empty()) names.push_back("abstained");
  return names;
}

std::string Profile::ToJson(int indent) const {
  Json j;
  j["format"] = "lote-profile";
  j["version"] = kFormatVersion;
  j["records"] = records_;
  j["source"] = source;
  if (calibration.rows > 0) {
    j["calibration"] = {{"rows", calibration.rows},
                        {"accuracy", calibration.accuracy},
                        {"mean_score", calibration.mean_score},
                        {"ece", calibration.ece}};
  }
  Json cat = Json::object();
  for (const std::string& name : categorical_names()) {
    Json c = Json::object();
    for (const auto& [k, n] : categorical(name)) c[k] = n;
    cat[name] = c;
  }
  j["categorical"] = cat;
  j["has_abstention"] = has_abstention_;
  Json num = Json::object();
  for (int s = 0; s < kNumericSignals; ++s) {
    const auto sig = static_cast<NumericSignal>(s);
    const NumericHistogram& h = numeric_[s];
    num[std::string(NumericSignalName(sig))] = {{"bins", std::string(NumericSignalBins(sig))},
                                                {"counts", h.counts},
                                                {"sum", h.sum},
                                                {"sum_sq", h.sum_sq}};
  }
  j["numeric"] = num;
  Json labels = Json::object();
  for (const auto& [name, l] : labels_) {
    labels[name] = {{"records", l.records},
                    {"score_sum", l.score_sum},
                    {"score_sq_sum", l.score_sq_sum},
                    {"score_counts", l.score_bins}};
  }
  j["labels"] = labels;
  j["tokens"] = {{"words", words_},
                 {"unknown_words", unknown_words_},
                 {"char_ngrams", char_ngrams_},
                 {"unknown_char_ngrams", unknown_char_ngrams_}};
  if (entities_.records > 0) {
    Json types = Json::object(), checks = Json::object();
    for (size_t k = 0; k < entities_.type_records.size(); ++k) {
      types[extract::PatternTypes()[k]] = entities_.type_records[k];
    }
    for (int t = 0; t < extract::kCheckedTypes; ++t) {
      checks[std::string(extract::CheckedTypeName(static_cast<extract::CheckedType>(t)))] = {
          {"candidates", entities_.candidates[t]}, {"failures", entities_.failures[t]}};
    }
    j["entities"] = {{"records", entities_.records}, {"types", types}, {"check_digits", checks}};
  }
  if (tagger_entities_.sentences > 0) {
    Json types = Json::object();
    for (const auto& [type, n] : tagger_entities_.type_sentences) types[type] = n;
    j["tagger_entities"] = {{"sentences", tagger_entities_.sentences}, {"types", types}};
  }
  if (!terms_.empty())
    j["terms"] = Json::parse(terms_.ToJson(kReferenceTerms, kReferenceMinRecords));
  // Label and language names come from the model and prep; replace keeps a damaged name from
  // throwing.
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Result<Profile> Profile::FromJson(std::string_view text, std::vector<std::string>* dropped) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("profile: not a JSON object");
  }
  std::string format;
  LOTE_RETURN_IF_ERROR(Get(j, "format", "profile", &format));
  if (format != "lote-profile") {
    return InvalidArgumentError("profile: format is '" + format + "', not 'lote-profile'");
  }
  int version = 0;
  LOTE_RETURN_IF_ERROR(Get(j, "version", "profile", &version));
  if (version != kFormatVersion) {
    return FailedPreconditionError("profile: format version " + std::to_string(version) +
                                   " is not known to this lote (knows " +
                                   std::to_string(kFormatVersion) + ")");
  }
  Profile p;
  LOTE_RETURN_IF_ERROR(GetCount(j, "records", "profile", &p.records_));
  LOTE_RETURN_IF_ERROR(Get(j, "source", "profile", &p.source));
  LOTE_RETURN_IF_ERROR(Get(j, "has_abstention", "profile", &p.has_abstention_));
  if (auto c = j.find("calibration"); c != j.end()) {
    LOTE_RETURN_IF_ERROR(GetCount(*c, "rows", "calibration", &p.calibration.rows));
    LOTE_RETURN_IF_ERROR(Get(*c, "accuracy", "calibration", &p.calibration.accuracy));
    LOTE_RETURN_IF_ERROR(Get(*c, "mean_score", "calibration", &p.calibration.mean_score));
    LOTE_RETURN_IF_ERROR(Get(*c, "ece", "calibration", &p.calibration.ece));
  }
  Json cat, num, labels, tokens;
  LOTE_RETURN_IF_ERROR(Get(j, "categorical", "profile", &cat));
  LOTE_RETURN_IF_ERROR(Get(j, "numeric", "profile", &num));
  LOTE_RETURN_IF_ERROR(Get(j, "labels", "profile", &labels));
  LOTE_RETURN_IF_ERROR(Get(j, "tokens", "profile", &tokens));
  if (!cat.is_object()) return InvalidArgumentError("profile: categorical is not an object");
  if (auto it = cat.find("lang"); it != cat.end()) {
    if (!it->is_object() || it->size() > 64) {
      return InvalidArgumentError("profile: categorical.lang is not an object of at most 64");
    }
    for (const auto& item : it->items()) {
      LOTE_RETURN_IF_ERROR(
          GetCount(*it, item.key(), "categorical.lang", &p.lang_counts_[item.key()]));
    }
  }
  if (auto it = cat.find("abstained"); it != cat.end()) {
    LOTE_RETURN_IF_ERROR(GetCount(*it, "yes", "categorical.abstained", &p.abstained_));
  }
  for (int s = 0; s < kNumericSignals; ++s) {
    const auto sig = static_cast<NumericSignal>(s);
    const std::string name(NumericSignalName(sig));
    auto it = num.find(name);
    if (it == num.end()) {
      return InvalidArgumentError("profile: missing field numeric." + name);
    }
    std::string bins;
    LOTE_RETURN_IF_ERROR(Get(*it, "bins", "numeric." + name, &bins));
    if (bins != NumericSignalBins(sig)) {
      if (dropped != nullptr) dropped->push_back(name);
      continue;  // stays empty: not compared
    }
    NumericHistogram& h = p.numeric_[s];
    LOTE_RETURN_IF_ERROR(GetCounts(*it, "counts", "numeric." + name, h.counts.size(), &h.counts));
    LOTE_RETURN_IF_ERROR(Get(*it, "sum", "numeric." + name, &h.sum));
    LOTE_RETURN_IF_ERROR(Get(*it, "sum_sq", "numeric." + name, &h.sum_sq));
  }
  if (!labels.is_object() || labels.size() > 1000000) {
    return InvalidArgumentError("profile: labels is not an object of at most 1,000,000 labels");
  }
  uint64_t scored = 0;
  for (const auto& [name, l] : labels.items()) {
    const std::string where = "labels." + name;
    LabelProfile lp;
    LOTE_RETURN_IF_ERROR(GetCount(l, "records", where, &lp.records));
    if (lp.records > kMaxCount - scored) {
      return InvalidArgumentError("profile: labels hold more than 2^53 records");
    }
    scored += lp.records;
    LOTE_RETURN_IF_ERROR(Get(l, "score_sum", where, &lp.score_sum));
    LOTE_RETURN_IF_ERROR(Get(l, "score_sq_sum", where, &lp.score_sq_sum));
    LOTE_RETURN_IF_ERROR(GetCounts(l, "score_counts", where, kScoreBins, &lp.score_bins));
    p.labels_.emplace(name, std::move(lp));
  }
  LOTE_RETURN_IF_ERROR(GetCount(tokens, "words", "tokens", &p.words_));
  LOTE_RETURN_IF_ERROR(GetCount(tokens, "unknown_words", "tokens", &p.unknown_words_));
  LOTE_RETURN_IF_ERROR(GetCount(tokens, "char_ngrams", "tokens", &p.char_ngrams_));
  LOTE_RETURN_IF_ERROR(GetCount(tokens, "unknown_char_ngrams", "tokens", &p.unknown_char_ngrams_));
  if (p.abstained_ > scored) {
    return InvalidArgumentError("profile: categorical.abstained.yes exceeds the labelled records");
  }
  if (auto e = j.find("entities"); e != j.end()) {
    LOTE_RETURN_IF_ERROR(ReadEntities(*e, p.records_, &p.entities_));
  }
  if (auto t = j.find("tagger_entities"); t != j.end()) {
    LOTE_RETURN_IF_ERROR(ReadTaggerEntities(*t, &p.tagger_entities_));
  }
  if (auto t = j.find("terms"); t != j.end()) {
    auto terms = TermCounts::FromJson(t->dump());
    if (!terms.ok()) return InvalidArgumentError("profile: " + terms.status().message());
    if (terms->records() > p.records_) {
      return InvalidArgumentError("profile: terms.records exceeds the profile's records");
    }
    p.terms_ = std::move(*terms);
  }
  return p;
}

}  // namespace lote::monitoring
