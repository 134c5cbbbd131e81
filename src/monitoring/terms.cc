#include "lote/monitoring/terms.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

namespace lote::monitoring {

namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxTermCount = uint64_t{1} << 53;
constexpr size_t kMaxStoredTerms = kReferenceTerms + kBatchTermCapacity;

std::string Hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool ParseHex(const std::string& s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// Cuts `s` to at most kMaxTermBytes at a code point boundary.
void CutTerm(std::string* s) {
  if (s->size() <= kMaxTermBytes) return;
  size_t n = kMaxTermBytes;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

// The first table: small, since a run makes one per worker and object (an input of many small
// objects must not zero a large table per object); it doubles as terms arrive.
constexpr size_t kMinSlots = 64;
// Fewer terms with z < 0 than this: no inflation is estimated (the median would be too noisy).
constexpr size_t kMinTermsForInflation = 50;

// Term hashes are stored as keys; 0 marks a free slot, so the hash 0 is stored as 1.
uint64_t StoredKey(uint64_t hash) { return hash == 0 ? 1 : hash; }

Status Malformed(const std::string& what) { return InvalidArgumentError("terms: " + what); }

double Logit(double p) { return std::log(p / (1 - p)); }

}  // namespace

double UpperTailZ(double p) {
  if (!(p > 0)) return std::numeric_limits<double>::infinity();
  if (p >= 1) return -std::numeric_limits<double>::infinity();
  return boost::math::quantile(
      boost::math::complement(boost::math::normal_distribution<double>(), p));
}

TermCounts::TermCounts(size_t capacity, bool keep_text)
    : capacity_(std::max<size_t>(capacity, 1)), keep_text_(keep_text) {}

uint64_t TermSampler::Weight(std::string_view record_id) {
  const uint64_t i = offered_.fetch_add(1, std::memory_order_relaxed);
  if (i < kTermsCountedInFull) return 1;
  // 1 + floor(log2(i / kTermsCountedInFull)).
  const int level = std::min(static_cast<int>(std::bit_width(i / kTermsCountedInFull)), 40);
  const uint64_t mask = (uint64_t{1} << level) - 1;
  return (XXH3_64bits(record_id.data(), record_id.size()) & mask) == 0 ? mask + 1 : 0;
}

size_t TermCounts::Probe(uint64_t key) const {
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> shift_);
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
  return i;
}

size_t TermCounts::Insert(uint64_t key) {
  if (size_ >= 2 * capacity_) Prune();
  if (slots_.empty()) {
    Rebuild(std::min(kMinSlots, std::bit_ceil(4 * capacity_)), nullptr);
  } else if ((size_ + 1) * 2 > slots_.size()) {
    Rebuild(slots_.size() * 2, nullptr);
  }
  const size_t i = Probe(key);
  slots_[i] = Slot{};
  slots_[i].key = key;
  slots_[i].error = floor_;
  ++size_;
  return i;
}

void TermCounts::Rebuild(size_t slots, const std::function<bool(const Slot&)>& keep) {
  std::vector<Slot> old_slots = std::move(slots_);
  std::vector<Extra> old_extras = std::move(extras_);
  slots_.assign(slots, Slot{});
  extras_.clear();
  shift_ = 64 - std::countr_zero(slots);
  size_ = 0;
  for (size_t j = 0; j < old_slots.size(); ++j) {
    if (old_slots[j].key == kEmpty || (keep && !keep(old_slots[j]))) continue;
    const size_t i = Probe(old_slots[j].key);
    slots_[i] = old_slots[j];
    if (old_slots[j].extra != kNoExtra) {
      slots_[i].extra = static_cast<uint32_t>(extras_.size());
      extras_.push_back(std::move(old_extras[old_slots[j].extra]));
    }
    ++size_;
  }
}

void TermCounts::Prune() {
  if (size_ <= capacity_) return;
  std::vector<uint64_t> estimates;
  estimates.reserve(size_);
  for (size_t j = 0; j < slots_.size(); ++j) {
    if (slots_[j].key != kEmpty) estimates.push_back(slots_[j].hits + slots_[j].error);
  }
  // The capacity-th largest estimate: entries below it go, and as many equal to it as needed.
  std::nth_element(estimates.begin(), estimates.begin() + static_cast<ptrdiff_t>(capacity_ - 1),
                   estimates.end(), std::greater<>());
  const uint64_t cut = estimates[capacity_ - 1];
  size_t above = 0;
  for (uint64_t e : estimates) above += e > cut ? 1 : 0;
  size_t keep_equal = capacity_ - above;
  uint64_t dropped = floor_;
  Rebuild(slots_.size(), [&](const Slot& s) {
    const uint64_t e = s.hits + s.error;
    if (e > cut) return true;
    if (e == cut && keep_equal > 0) {
      --keep_equal;
      return true;
    }
    dropped = std::max(dropped, e);
    return false;
  });
  floor_ = dropped;
}

TermCounts::Extra& TermCounts::ExtraOf(Slot* slot) {
  if (slot->extra == kNoExtra) {
    slot->extra = static_cast<uint32_t>(extras_.size());
    extras_.emplace_back();
  }
  return extras_[slot->extra];
}

void TermCounts::AddRecord(std::span<const uint64_t> hashes,
                           const std::function<void(size_t, std::string*)>& text,
                           std::string_view record_id, uint64_t weight) {
  ++records_;
  if (weight == 0) return;
  ++counted_;
  const bool example = keep_text_ && !record_id.empty() && record_id.size() <= kMaxExampleIdBytes;
  for (size_t i = 0; i < hashes.size(); ++i) {
    const uint64_t key = StoredKey(hashes[i]);
    size_t at = slots_.empty() ? 0 : Probe(key);
    if (slots_.empty() || slots_[at].key != key) at = Insert(key);
    Slot& s = slots_[at];
    s.hits += weight;
    // Most terms are seen once: their text and ids are taken from their second record on.
    if (++s.seen >= 2 && keep_text_) {
      Extra& x = ExtraOf(&s);
      if (x.text.empty()) {
        text(i, &x.text);
        CutTerm(&x.text);
      }
      if (example && x.examples.size() < kTermExamples) x.examples.emplace_back(record_id);
    }
  }
}

void TermCounts::Merge(const TermCounts& other) {
  if (other.records_ == 0 && other.size_ == 0) return;
  if (other.floor_ > 0) {
    // A term this side keeps may have occurred up to other.floor_ times on the other side.
    for (size_t j = 0; j < slots_.size(); ++j) {
      if (slots_[j].key == kEmpty) continue;
      const size_t at = other.slots_.empty() ? 0 : other.Probe(slots_[j].key);
      if (other.slots_.empty() || other.slots_[at].key != slots_[j].key)
        slots_[j].error += other.floor_;
    }
  }
  for (size_t j = 0; j < other.slots_.size(); ++j) {
    const uint64_t key = other.slots_[j].key;
    if (key == kEmpty) continue;
    size_t at = slots_.empty() ? 0 : Probe(key);
    if (slots_.empty() || slots_[at].key != key) at = Insert(key);
    Slot& s = slots_[at];
    const Slot& o = other.slots_[j];
    s.hits += o.hits;
    s.error += o.error;
    s.seen += o.seen;
    if (keep_text_ && o.extra != kNoExtra) {
      const Extra& ox = other.extras_[o.extra];
      Extra& x = ExtraOf(&s);
      if (x.text.empty()) x.text = ox.text;
      for (const std::string& id : ox.examples) {
        if (x.examples.size() >= kTermExamples) break;
        x.examples.push_back(id);
      }
    }
  }
  floor_ += other.floor_;
  records_ += other.records_;
  counted_ += other.counted_;
  Prune();
}

uint64_t TermCounts::UpperBound(uint64_t hash) const {
  if (slots_.empty()) return floor_;
  const uint64_t key = StoredKey(hash);
  const size_t at = Probe(key);
  return slots_[at].key == key ? slots_[at].hits + slots_[at].error : floor_;
}

std::map<uint64_t, TermEntry> TermCounts::Entries() const {
  std::map<uint64_t, TermEntry> out;
  for (size_t j = 0; j < slots_.size(); ++j) {
    if (slots_[j].key == kEmpty) continue;
    const Slot& s = slots_[j];
    TermEntry& e = out[slots_[j].key];
    e.hits = s.hits;
    e.error = s.error;
    e.seen = s.seen;
    if (s.extra != kNoExtra) {
      e.text = extras_[s.extra].text;
      e.examples = extras_[s.extra].examples;
    }
  }
  return out;
}

std::string TermCounts::ToJson(size_t max_terms, uint64_t min_hits) const {
  std::vector<std::pair<uint64_t, const Slot*>> kept;
  uint64_t floor = floor_;
  for (size_t j = 0; j < slots_.size(); ++j) {
    if (slots_[j].key == kEmpty) continue;
    const Slot& e = slots_[j];
    if (e.hits >= min_hits) {
      kept.emplace_back(slots_[j].key, &e);
    } else {
      floor = std::max(floor, e.hits + e.error);
    }
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second->hits != b.second->hits ? a.second->hits > b.second->hits : a.first < b.first;
  });
  if (kept.size() > max_terms) {
    for (size_t i = max_terms; i < kept.size(); ++i) {
      floor = std::max(floor, kept[i].second->hits + kept[i].second->error);
    }
    kept.resize(max_terms);
  }
  Json j;
  j["records"] = records_;
  j["counted"] = counted_;
  j["floor"] = floor;
  Json hash = Json::array(), hits = Json::array(), error = Json::array();
  Json text = Json::array(), examples = Json::array();
  for (const auto& [h, e] : kept) {
    hash.push_back(Hex(h));
    hits.push_back(e->hits);
    error.push_back(e->error);
    if (keep_text_) {
      static const Extra kNone;
      const Extra& x = e->extra == kNoExtra ? kNone : extras_[e->extra];
      text.push_back(x.text);
      examples.push_back(x.examples);
    }
  }
  j["hash"] = std::move(hash);
  j["hits"] = std::move(hits);
  j["error"] = std::move(error);
  if (keep_text_) {
    j["text"] = std::move(text);
    j["examples"] = std::move(examples);
  }
  // Texts and ids may come from invalid UTF-8 input; nlohmann would throw on it.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<TermCounts> TermCounts::FromJson(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Malformed("not a JSON object");
  auto count = [&](const char* key, uint64_t* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > kMaxTermCount) {
      return Malformed(std::string(key) + " is missing or not a whole number up to 2^53");
    }
    *out = it->get<uint64_t>();
    return Status::Ok();
  };
  auto list = [&](const char* key, bool required, const Json** out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      *out = nullptr;
      return required ? Malformed(std::string(key) + " is missing") : Status::Ok();
    }
    if (!it->is_array()) return Malformed(std::string(key) + " is not a list");
    *out = &*it;
    return Status::Ok();
  };
  const Json *hash, *hits, *error, *text, *examples;
  LOTE_RETURN_IF_ERROR(list("hash", true, &hash));
  LOTE_RETURN_IF_ERROR(list("hits", true, &hits));
  LOTE_RETURN_IF_ERROR(list("error", true, &error));
  LOTE_RETURN_IF_ERROR(list("text", false, &text));
  LOTE_RETURN_IF_ERROR(list("examples", false, &examples));
  const size_t n = hash->size();
  if (n > kMaxStoredTerms) {
    return Malformed("holds " + std::to_string(n) + " terms, more than " +
                     std::to_string(kMaxStoredTerms));
  }
  if (hits->size() != n || error->size() != n || (text && text->size() != n) ||
      (examples && examples->size() != n) || (text == nullptr) != (examples == nullptr)) {
    return Malformed("hash, hits, error, text and examples differ in length");
  }
  TermCounts t(std::max<size_t>(n, 1), text != nullptr);
  LOTE_RETURN_IF_ERROR(count("records", &t.records_));
  LOTE_RETURN_IF_ERROR(count("counted", &t.counted_));
  if (t.counted_ > t.records_) return Malformed("counted exceeds records");
  LOTE_RETURN_IF_ERROR(count("floor", &t.floor_));
  for (size_t i = 0; i < n; ++i) {
    const std::string where = " of term " + std::to_string(i);
    uint64_t h;
    if (!(*hash)[i].is_string() || !ParseHex((*hash)[i].get<std::string>(), &h)) {
      return Malformed("hash" + where + " is not 16 lowercase hex digits");
    }
    const Json& hi = (*hits)[i];
    const Json& er = (*error)[i];
    if (!hi.is_number_unsigned() || !er.is_number_unsigned() || hi.get<uint64_t>() > t.records_ ||
        er.get<uint64_t>() > kMaxTermCount) {
      return Malformed("hits or error" + where + " is not a whole number up to the records");
    }
    const uint64_t key = StoredKey(h);
    if (!t.slots_.empty() && t.slots_[t.Probe(key)].key == key) {
      return Malformed("hash" + where + " appears twice");
    }
    Slot& e = t.slots_[t.Insert(key)];
    e.hits = hi.get<uint64_t>();
    e.error = er.get<uint64_t>();
    e.seen = 0;
    if (text) {
      const Json& tx = (*text)[i];
      const Json& ex = (*examples)[i];
      if (!tx.is_string() || tx.get_ref<const std::string&>().size() > kMaxTermBytes) {
        return Malformed("text" + where + " is not a string of at most " +
                         std::to_string(kMaxTermBytes) + " bytes");
      }
      Extra& x = t.ExtraOf(&e);
      x.text = tx.get<std::string>();
      if (!ex.is_array() || ex.size() > kTermExamples) {
        return Malformed("examples" + where + " is not a list of at most " +
                         std::to_string(kTermExamples));
      }
      for (const Json& id : ex) {
        if (!id.is_string() || id.get_ref<const std::string&>().size() > kMaxExampleIdBytes) {
          return Malformed("examples" + where + " holds an id that is not a string of at most " +
                           std::to_string(kMaxExampleIdBytes) + " bytes");
        }
        x.examples.push_back(id.get<std::string>());
      }
    }
  }
  return t;
}

void CountRecordTerms(const classify::FeatureScratch& features, std::string_view record_id,
                      TermSampler* sampler, TermScratch* scratch, TermCounts* counts) {
  const uint64_t weight = sampler != nullptr ? sampler->Weight(record_id) : 1;
  if (weight == 0) {
    counts->AddRecord({}, {}, record_id, 0);
    return;
  }
  const std::vector<uint64_t>& words = features.word_hashes;
  auto& terms = scratch->terms;
  terms.clear();
  for (size_t i = 0; i < words.size(); ++i) {
    terms.emplace_back(classify::WordFeature(words[i]), static_cast<uint32_t>(2 * i));
    if (i > 0) {
      terms.emplace_back(classify::WordBigramFeature(words[i - 1], words[i]),
                         static_cast<uint32_t>(2 * i + 1));
    }
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              terms.end());
  scratch->hashes.clear();
  for (const auto& t : terms) scratch->hashes.push_back(t.first);
  counts->AddRecord(
      scratch->hashes,
      [&](size_t i, std::string* text) {
        const uint32_t at = terms[i].second;
        const size_t w = at / 2;
        if (at % 2 == 0) {
          text->assign(features.words[w]);
        } else {
          text->assign(features.words[w - 1]);
          text->push_back(' ');
          text->append(features.words[w]);
        }
      },
      record_id, weight);
}

std::vector<TermShift> TopTerms(const TermCounts& reference, const TermCounts& batch,
                                const TermOptions& options, double* inflation) {
  if (inflation != nullptr) *inflation = 1;
  // The batch's shares are estimated on its counted records: their number is the sample size.
  const double records = static_cast<double>(batch.records());
  const double nb = static_cast<double>(batch.counted());
  const double nr = static_cast<double>(reference.records());
  if (nb == 0 || nr == 0) return {};
  struct Tested {
    TermShift shift;
    double batch_var, reference_var;  // of the log-odds, each side's share
  };
  std::vector<Tested> tested;
  for (const auto& [h, e] : batch.Entries()) {
    if (e.text.empty()) continue;  // seen in one counted record only
    const double share = std::min(static_cast<double>(e.hits) / records, 1.0);  // lower bound
    const double yb = share * nb;
    if (yb < static_cast<double>(std::max<uint64_t>(options.min_records, 1))) continue;
    const double yr = std::min(static_cast<double>(reference.UpperBound(h)), nr);
    // The prior's mean is the pooled share, its weight options.prior pseudo-records.
    const double pooled = (yb + yr) / (nb + nr);
    const double a = options.prior * pooled, b = options.prior * (1 - pooled);
    if (!(a > 0) || !(b > 0)) continue;  // the term is in every record of both
    Tested t;
    t.shift.term = e.text;
    t.shift.batch_records = std::min(e.hits, batch.records());
    t.shift.batch_share = share;
    t.shift.reference_share = yr / nr;
    t.shift.log_odds_ratio =
        Logit((yb + a) / (nb + options.prior)) - Logit((yr + a) / (nr + options.prior));
    t.shift.examples = e.examples;
    t.batch_var = 1 / (yb + a) + 1 / (nb - yb + b);
    t.reference_var = 1 / (yr + a) + 1 / (nr - yr + b);
    tested.push_back(std::move(t));
  }
  // Records are not independent (templates, one customer's messages, a batch resampled from
  // fewer texts): the batch's counts then vary more than independent records' would, and the
  // z-scores of terms that did not move spread wider than a standard normal. The batch side's
  // variance is scaled by the lambda >= 1 that brings the median z^2 back to 0.4549, the median
  // of a chi-square with one degree of freedom (genomic control, Devlin and Roeder 1999), taken
  // over the terms the batch has fewer of (z < 0) only: a drift adds terms with large positive z
  // (a whole new domain makes most terms tested new), and the negative half of a symmetric null
  // has the same median z^2. The reference's rows are taken as independent.
  auto z_of = [](const Tested& t, double lambda) {
    return t.shift.log_odds_ratio / std::sqrt(lambda * t.batch_var + t.reference_var);
  };
  auto median_z2 = [&](double lambda) {
    std::vector<double> z2;
    for (const Tested& t : tested) {
      if (t.shift.log_odds_ratio < 0) z2.push_back(std::pow(z_of(t, lambda), 2));
    }
    std::nth_element(z2.begin(), z2.begin() + static_cast<ptrdiff_t>(z2.size() / 2), z2.end());
    return z2[z2.size() / 2];
  };
  constexpr double kMedianChiSquare1 = 0.4549364;
  double lambda = 1;
  const auto below = std::count_if(tested.begin(), tested.end(),
                                   [](const Tested& t) { return t.shift.log_odds_ratio < 0; });
  if (options.genomic_control && static_cast<size_t>(below) >= kMinTermsForInflation &&
      median_z2(1) > kMedianChiSquare1) {
    double lo = 1, hi = 1e6;  // median z^2 falls as lambda grows
    for (int i = 0; i < 60 && hi / lo > 1.0001; ++i) {
      const double mid = std::sqrt(lo * hi);
      (median_z2(mid) > kMedianChiSquare1 ? lo : hi) = mid;
    }
    lambda = hi;
  }
  if (inflation != nullptr) *inflation = lambda;
  // Thousands of terms are tested: a term is named only when its z would be that high by chance
  // with probability below alpha / (terms tested) (Bonferroni).
  const double bound =
      std::max(options.min_z,
               UpperTailZ(options.alpha / static_cast<double>(std::max<size_t>(tested.size(), 1))));
  std::vector<TermShift> out;
  for (Tested& t : tested) {
    t.shift.z = z_of(t, lambda);
    if (t.shift.z >= bound) out.push_back(std::move(t.shift));
  }
  std::sort(out.begin(), out.end(), [](const TermShift& x, const TermShift& y) {
    return x.z != y.z ? x.z > y.z : x.term < y.term;
  });
  if (out.size() > options.top) out.resize(options.top);
  return out;
}

}  // namespace lote::monitoring
