// The tagger's decoding: emission scores, Viterbi with max-marginal margins, the two passes over
// a document (TagDoc) and the public tagging calls (TagTokens, Tag, TagDocument, Extract).
#include <algorithm>
#include <limits>

#include "lote/extract/tagger.h"
#include "lote/text/utf8.h"
#include "tagger_features.h"
#include "tagger_model.h"

namespace lote::extract {

void internal::TaggerModel::SumInline(uint64_t* keys, int k, int32_t* acc) const {
  // Touch every key's home slot first (independent misses the CPU overlaps), then probe.
  const InlineSlot* slots = inline_slots.data();
  for (int j = 0; j < k; ++j) {
    if (keys[j] == 0) keys[j] = 1;
    __builtin_prefetch(slots + (static_cast<size_t>(keys[j]) & inline_mask));
  }
  for (int j = 0; j < k; ++j) {
    const uint64_t key = keys[j];
    for (size_t pos = static_cast<size_t>(key) & inline_mask;; pos = (pos + 1) & inline_mask) {
      const InlineSlot& s = slots[pos];
      if (s.key == key) {
        for (size_t t = 0; t < kInlineTags; ++t) acc[t] += s.w[t];
        break;
      }
      if (s.key == 0) break;
    }
  }
}

void internal::TaggerModel::Emissions(const internal::TokenInfo* infos, size_t n,
                                      internal::TaggerBuffers* b, const uint64_t* extra,
                                      const uint32_t* extra_off) const {
  const size_t nt = T();
  internal::FeatureExtractor fx(&lexicon, &gazetteer);
  b->emis.assign(n * nt, 0.0f);
  b->keys.resize(internal::kMaxFeatures + internal::kMaxDocFeatures);
  b->rows.resize(internal::kMaxFeatures + internal::kMaxDocFeatures);
  const bool use_inline = !inline_slots.empty();
  internal::TaggerBuffers::FormCache* cache = use_inline ? b->CacheFor(uid) : nullptr;
  uint64_t skeys[internal::kMaxFeatures];
  for (size_t i = 0; i < n; ++i) {
    int k = fx.Features(infos, n, i, b->keys.data(), /*with_static=*/!use_inline);
    if (extra) {
      for (uint32_t j = extra_off[i]; j < extra_off[i + 1]; ++j) b->keys[k++] = extra[j];
    }
    if (use_inline) {
      int32_t acc[kInlineTags] = {};
      // The token's own features: from the form cache, or summed once and remembered.
      const uint64_t form = infos[i].form;
      internal::TaggerBuffers::FormCache::Entry* entry = nullptr;
      if (form != 0) {
        const size_t mask = cache->slots.size() - 1;
        for (size_t pos = static_cast<size_t>(form) & mask;; pos = (pos + 1) & mask) {
          entry = &cache->slots[pos];
          if (entry->form == form || entry->form == 0) break;
        }
      }
      if (entry != nullptr && entry->form == form) {
        std::copy(entry->acc, entry->acc + kInlineTags, acc);
      } else {
        const int ks = internal::FeatureExtractor::StaticFeatures(infos[i], skeys);
        SumInline(skeys, ks, acc);
        if (entry != nullptr) {
          entry->form = form;
          std::copy(acc, acc + kInlineTags, entry->acc);
          if (++cache->used * 10 > cache->slots.size() * 7) cache->Reset(uid);
        }
      }
      SumInline(b->keys.data(), k, acc);
      float* e = b->emis.data() + i * nt;
      for (size_t t = 0; t < nt; ++t) e[t] = static_cast<float>(acc[t]) * scale;
      continue;
    }
    // Look every key up first, then add the rows: the lookups are independent cache misses
    // the CPU can overlap.
    int m = 0;
    for (int j = 0; j < k; ++j) {
      const uint32_t r = index.Find(b->keys[j]);
      if (r != internal::FeatureIndex::kMissing) {
        b->rows[m++] = r;
        __builtin_prefetch(weights.data() + static_cast<size_t>(r) * nt);
      }
    }
    float* e = b->emis.data() + i * nt;
    for (int j = 0; j < m; ++j) {
      const float* w = weights.data() + static_cast<size_t>(b->rows[j]) * nt;
      for (size_t t = 0; t < nt; ++t) e[t] += w[t];
    }
  }
}

void internal::TaggerModel::Decode(size_t n, const float* emis, const float* tm,
                                   internal::TaggerBuffers* b, bool margins) const {
  const size_t nt = T();
  b->path.resize(n);
  if (n == 0) return;
  b->alpha.resize(n * nt);
  b->back.resize(n * nt);
  float* alpha = b->alpha.data();
  const float* start = tm + nt * nt;
  for (size_t t = 0; t < nt; ++t) alpha[t] = emis[t] + start[t];
  for (size_t i = 1; i < n; ++i) {
    const float* prev = alpha + (i - 1) * nt;
    float* cur = alpha + i * nt;
    uint16_t* bp = b->back.data() + i * nt;
    for (size_t t = 0; t < nt; ++t) {
      float best = -std::numeric_limits<float>::infinity();
      uint16_t arg = 0;
      for (size_t p = 0; p < nt; ++p) {
        const float s = prev[p] + tm[p * nt + t];
        if (s > best) {
          best = s;
          arg = static_cast<uint16_t>(p);
        }
      }
      cur[t] = best + emis[i * nt + t];
      bp[t] = arg;
    }
  }
  const float* last = alpha + (n - 1) * nt;
  uint16_t arg = 0;
  for (size_t t = 1; t < nt; ++t) {
    if (last[t] > last[arg]) arg = static_cast<uint16_t>(t);
  }
  b->path[n - 1] = arg;
  for (size_t i = n - 1; i > 0; --i) b->path[i - 1] = b->back[i * nt + b->path[i]];
  if (!margins) return;

  // Max-marginals: alpha (best prefix ending in t) + beta (best suffix after t). The margin of
  // token i is how much worse the best path with any other tag at i scores.
  b->beta.assign(n * nt, 0.0f);
  float* beta = b->beta.data();
  for (size_t i = n - 1; i > 0; --i) {
    const float* nb = beta + i * nt;
    const float* ne = emis + i * nt;
    float* cb = beta + (i - 1) * nt;
    for (size_t p = 0; p < nt; ++p) {
      float best = -std::numeric_limits<float>::infinity();
      for (size_t t = 0; t < nt; ++t) best = std::max(best, tm[p * nt + t] + ne[t] + nb[t]);
      cb[p] = best;
    }
  }
  b->margins.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint16_t y = b->path[i];
    const float chosen = alpha[i * nt + y] + beta[i * nt + y];
    float other = -std::numeric_limits<float>::infinity();
    for (size_t t = 0; t < nt; ++t) {
      if (t != y) other = std::max(other, alpha[i * nt + t] + beta[i * nt + t]);
    }
    b->margins[i] = std::max(0.0f, other <= kForbidden / 2 ? 1e6f : chosen - other);
  }
}

void internal::ForEachDocSentence(const std::vector<DocToken>& dtoks,
                                  const std::vector<uint32_t>& flags, const uint16_t* tags1,
                                  const std::vector<uint32_t>& sent_off, size_t nt, size_t n_labels,
                                  size_t window, DocWindow* win, std::vector<uint64_t>* dkeys,
                                  std::vector<uint32_t>* doff, FunctionRef<void(size_t)> prepare,
                                  FunctionRef<void(size_t)> f) {
  const size_t S = sent_off.size() - 1;
  win->Reset(n_labels);
  size_t added = 0, removed = 0;
  uint64_t keys[internal::kMaxDocFeatures];
  for (size_t s = 0; s < S; ++s) {
    for (; added < S && added <= s + window; ++added) {
      prepare(added);
      for (uint32_t u = sent_off[added]; u < sent_off[added + 1]; ++u) win->Add(dtoks[u], 1);
    }
    for (; removed + window < s; ++removed) {
      for (uint32_t u = sent_off[removed]; u < sent_off[removed + 1]; ++u) win->Add(dtoks[u], -1);
    }
    const uint32_t off = sent_off[s], n = sent_off[s + 1] - off;
    dkeys->clear();
    doff->assign(1, 0);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t prev = i > 0 ? tags1[off + i - 1] : static_cast<uint32_t>(nt);
      const uint32_t next = i + 1 < n ? tags1[off + i + 1] : static_cast<uint32_t>(nt);
      const int k =
          win->Features(dtoks[off + i], prev, tags1[off + i], next, flags[off + i], i == 0, keys);
      dkeys->insert(dkeys->end(), keys, keys + k);
      doff->push_back(static_cast<uint32_t>(dkeys->size()));
    }
    f(s);
  }
}

internal::DocToken internal::MakeDocToken(const TokenInfo& info, uint32_t i, uint16_t label) {
  internal::DocToken d;
  d.lower = info.lower;
  d.label = label;
  d.counted = (info.flags & internal::kHasAlpha) ? 1 : 0;
  d.mid = i > 0 ? 1 : 0;
  d.cap = (info.flags & internal::kInitCap) ? 1 : 0;
  return d;
}

void internal::CapSentences(const std::vector<uint32_t>& sent_off, std::vector<uint32_t>* pieces,
                            std::vector<uint32_t>* piece_sentence) {
  pieces->clear();
  piece_sentence->clear();
  for (size_t s = 0; s + 1 < sent_off.size(); ++s) {
    // An empty sentence stays one (empty) piece: the second pass counts it in its window.
    uint32_t p = sent_off[s];
    pieces->push_back(p);
    piece_sentence->push_back(static_cast<uint32_t>(s));
    while (sent_off[s + 1] - p > kMaxSentenceTokens) {
      p += static_cast<uint32_t>(kMaxSentenceTokens);
      pieces->push_back(p);
      piece_sentence->push_back(static_cast<uint32_t>(s));
    }
  }
  pieces->push_back(sent_off.back());
}

void internal::TaggerModel::TagDoc(TaggerBuffers* b, bool margins,
                                   FunctionRef<void(size_t, uint32_t, uint32_t)> emit) const {
  // The decoder sees pieces of at most kMaxSentenceTokens tokens (the sentences themselves,
  // unless one is longer).
  CapSentences(b->sent_off, &b->piece_off, &b->piece_sentence);
  const std::vector<uint32_t>& piece_off = b->piece_off;
  const size_t S = piece_off.size() - 1;
  const size_t N = piece_off[S];
  internal::FeatureExtractor fx(&lexicon, &gazetteer);
  // Token analyses (TokenInfo, by far the largest per-token state) are kept for a few pieces at
  // a time, never for the whole input: a record may be megabytes of text. This analyses piece s
  // into `infos` and puts its first-pass emission scores in b->emis.
  auto analyze_and_score = [&](size_t s, internal::TokenInfo* infos) {
    const uint32_t off = piece_off[s], n = piece_off[s + 1] - off;
    for (uint32_t i = 0; i < n; ++i) fx.Analyze(b->views[off + i], &infos[i], &b->scratch);
    fx.AnalyzeSentence(infos, n, &entities);
    Emissions(infos, n, b, nullptr, nullptr);
  };
  const TaggerModel* second = S >= kMinDocSentences ? doc.get() : nullptr;
  if (!second) {
    for (size_t s = 0; s < S; ++s) {
      const uint32_t off = piece_off[s], n = piece_off[s + 1] - off;
      b->infos.resize(n);
      analyze_and_score(s, b->infos.data());
      Decode(n, b->emis.data(), masked.data(), b, margins);
      emit(b->piece_sentence[s], off, n);
    }
    return;
  }
  // Two passes, interleaved: the first pass tags piece k when it enters the second pass's
  // window, doc_window pieces ahead of it, so the analyses of doc_window + 1 pieces are all that
  // is kept (in a ring of per-piece buffers: piece k's slot is free again once the second pass
  // has done piece k - doc_window - 1).
  b->tags1.resize(N);
  b->dtoks.resize(N);
  b->flags.resize(N);
  const size_t ring = static_cast<size_t>(doc_window) + 1;
  if (b->piece_infos.size() < ring) b->piece_infos.resize(ring);
  auto first_pass = [&](size_t k) {
    const uint32_t off = piece_off[k], n = piece_off[k + 1] - off;
    std::vector<internal::TokenInfo>& infos = b->piece_infos[k % ring];
    infos.resize(n);
    analyze_and_score(k, infos.data());
    Decode(n, b->emis.data(), masked.data(), b, false);
    for (uint32_t i = 0; i < n; ++i) {
      const uint16_t y = b->path[i];
      b->tags1[off + i] = y;
      b->dtoks[off + i] =
          MakeDocToken(infos[i], i, y == 0 ? 0 : static_cast<uint16_t>(1 + tag_type[y]));
      b->flags[off + i] = infos[i].flags;
    }
  };
  auto second_pass = [&](size_t s) {
    const uint32_t off = piece_off[s], n = piece_off[s + 1] - off;
    doc->Emissions(b->piece_infos[s % ring].data(), n, b, b->dkeys.data(), b->doff.data());
    doc->Decode(n, b->emis.data(), doc->masked.data(), b, margins);
    emit(b->piece_sentence[s], off, n);
  };
  ForEachDocSentence(b->dtoks, b->flags, b->tags1.data(), piece_off, T(), types.size() + 1,
                     doc_window, &b->window, &b->dkeys, &b->doff, first_pass, second_pass);
}

void internal::TaggerModel::TagPiece(std::span<const std::string_view> tokens, TaggerBuffers* b,
                                     bool margins) const {
  const size_t n = tokens.size();
  internal::FeatureExtractor fx(&lexicon, &gazetteer);
  b->infos.resize(n);
  for (size_t i = 0; i < n; ++i) fx.Analyze(tokens[i], &b->infos[i], &b->scratch);
  fx.AnalyzeSentence(b->infos.data(), n, &entities);
  Emissions(b->infos.data(), n, b, nullptr, nullptr);
  Decode(n, b->emis.data(), masked.data(), b, margins);
}

void internal::TaggerModel::TagViews(std::span<const std::string_view> tokens,
                                     internal::TaggerBuffers* b, bool margins) const {
  // One sentence: below kMinDocSentences, so the first pass alone.
  if (tokens.size() <= kMaxSentenceTokens) {
    TagPiece(tokens, b, margins);
    return;
  }
  // Too long to decode as one: consecutive pieces, each a sentence of its own.
  b->long_path.clear();
  b->long_margins.clear();
  for (size_t at = 0; at < tokens.size(); at += kMaxSentenceTokens) {
    const size_t n = std::min(kMaxSentenceTokens, tokens.size() - at);
    TagPiece(tokens.subspan(at, n), b, margins);
    b->long_path.insert(b->long_path.end(), b->path.begin(), b->path.begin() + n);
    if (margins)
      b->long_margins.insert(b->long_margins.end(), b->margins.begin(), b->margins.begin() + n);
  }
  b->path.swap(b->long_path);
  if (margins) b->margins.swap(b->long_margins);
}

void EntityTagger::TagTokens(std::span<const std::string_view> tokens, TaggerState* state,
                             std::vector<uint16_t>* tags) const {
  m_->TagViews(tokens, state->b_.get(), false);
  tags->assign(state->b_->path.begin(), state->b_->path.begin() + tokens.size());
}

std::vector<std::string> EntityTagger::Tag(const std::vector<std::string>& tokens,
                                           TaggerState* state) const {
  auto& views = state->b_->views;
  views.assign(tokens.begin(), tokens.end());
  m_->TagViews(views, state->b_.get(), false);
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) out.push_back(m_->tags[state->b_->path[i]]);
  return out;
}

std::vector<std::vector<std::string>> EntityTagger::TagDocument(
    const std::vector<std::vector<std::string>>& sentences, TaggerState* state) const {
  internal::TaggerBuffers* b = state->b_.get();
  std::vector<std::vector<std::string>> out(sentences.size());
  if (sentences.empty()) return out;
  b->views.clear();
  b->sent_off.assign(1, 0);
  for (const auto& s : sentences) {
    b->views.insert(b->views.end(), s.begin(), s.end());
    b->sent_off.push_back(static_cast<uint32_t>(b->views.size()));
  }
  m_->TagDoc(b, false, [&](size_t s, uint32_t, uint32_t n) {
    // Appends: a sentence longer than kMaxSentenceTokens comes in several pieces, in order.
    for (uint32_t i = 0; i < n; ++i) out[s].push_back(m_->tags[b->path[i]]);
  });
  return out;
}

Result<std::vector<Entity>> EntityTagger::Extract(std::string_view text, TaggerState* state,
                                                  SentenceCounts* counts) const {
  const size_t bad = text::FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    return InvalidArgumentError("tagger: invalid UTF-8 at byte " + std::to_string(bad));
  }
  if (counts) {
    counts->sentences = 0;
    counts->with_type.assign(m_->types.size(), 0);
  }
  internal::TaggerBuffers* b = state->b_.get();
  // Sentence numbers start at 1, so 0 marks a type not yet counted.
  std::vector<uint32_t>& stamp = b->type_stamp;
  if (counts) stamp.assign(m_->types.size(), 0);
  SegmentText(text, m_->tokenizer, {}, {}, &b->seg);
  std::vector<Entity> out;
  const auto& toks = b->seg.tokens;
  const auto& starts = b->seg.sentence_starts;
  if (starts.empty()) return out;
  b->views.clear();
  for (const TextToken& t : toks) b->views.push_back(text.substr(t.begin, t.end - t.begin));
  b->sent_off.assign(starts.begin(), starts.end());
  b->sent_off.push_back(static_cast<uint32_t>(toks.size()));
  m_->TagDoc(b, true, [&](size_t, uint32_t first, uint32_t n) {
    // Each type found in this sentence (piece) is counted once: `stamp` marks the types already
    // counted for the current sentence number.
    if (counts) ++counts->sentences;
    for (size_t i = 0; i < n;) {
      const uint16_t y = b->path[i];
      if (y == 0) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      float margin = b->margins[i];
      while (j < n && b->path[j] != 0 && !m_->tag_is_begin[b->path[j]] &&
             m_->tag_type[b->path[j]] == m_->tag_type[y]) {
        margin = std::min(margin, b->margins[j]);
        ++j;
      }
      const TextToken& a = toks[first + i];
      const TextToken& z = toks[first + j - 1];
      Entity e;
      const int type = m_->tag_type[y];
      e.type = m_->types[type];
      if (counts && stamp[type] != counts->sentences) {
        stamp[type] = counts->sentences;
        ++counts->with_type[type];
      }
      e.start = a.cp_begin;
      e.end = z.cp_end;
      e.text.assign(text.substr(a.begin, z.end - a.begin));
      e.score = margin / (margin + m_->margin_scale);
      e.source = Entity::Source::kModel;
      out.push_back(std::move(e));
      i = j;
    }
  });
  return out;
}

}  // namespace lote::extract
