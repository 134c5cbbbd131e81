#include "eval_extract.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "common.h"
#include "lote/extract/entity_eval.h"
#include "lote/io/file_source.h"
#include "lote/text/tokenizer.h"

namespace lote::cli {

Result<std::vector<io::TaggedSentence>> ReadConllFile(const std::string& path,
                                                      io::TextEncoding encoding) {
  LOTE_ASSIGN_OR_RETURN(auto source, OpenInput(path));
  io::ConllReader reader(std::move(source), encoding);
  std::vector<io::TaggedSentence> out;
  io::TaggedSentence s;
  while (true) {
    auto next = reader.Next(&s);
    if (!next.ok()) {
      if (encoding == io::TextEncoding::kUtf8 &&
          next.status().message().find("invalid UTF-8") != std::string::npos && !reader.failed()) {
        return Status(next.status().code(),
                      next.status().message() + "; with lote: --encoding latin1");
      }
      return next.status();
    }
    if (!*next) break;
    out.push_back(std::move(s));
    s = io::TaggedSentence();
  }
  if (out.empty()) return InvalidArgumentError(path + ": no sentences (empty CoNLL file?)");
  return out;
}

namespace {

Result<std::vector<io::BratDocument>> ReadBrat(const std::string& path) {
  std::vector<std::string> warnings;
  auto docs = io::ReadBratFolder(path, &warnings);
  for (const auto& w : warnings) Warn(w);
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return InvalidArgumentError(path + ": no .txt documents in the BRAT folder");
  return docs;
}

}  // namespace

Result<std::vector<extract::TaggedSequence>> ReadEntityTrainingData(const std::string& path,
                                                                    io::Format format,
                                                                    io::TextEncoding encoding) {
  std::vector<extract::TaggedSequence> out;
  if (format == io::Format::kConll) {
    LOTE_ASSIGN_OR_RETURN(auto sentences, ReadConllFile(path, encoding));
    out.reserve(sentences.size());
    for (const auto& s : sentences) out.push_back(extract::FromConll(s));
    return out;
  }
  if (format != io::Format::kBrat) {
    return InvalidArgumentError(path + ": entity data must be conll or brat (got " +
                                std::string(io::FormatName(format)) + ")");
  }
  LOTE_ASSIGN_OR_RETURN(auto docs, ReadBrat(path));
  text::Tokenizer tokenizer;
  extract::BratProjectionStats stats;
  std::vector<std::string> warnings;
  for (const auto& d : docs) extract::ProjectBratDocument(d, tokenizer, &out, &stats, &warnings);
  for (const auto& w : warnings) Warn(path + ": " + w);
  if (out.empty()) return InvalidArgumentError(path + ": the BRAT documents hold no text");
  return out;
}

namespace {

// Runs fn(i, evaluator, state) for i in [0, n) on all cores, one evaluator per thread, and
// merges them. The first error wins.
template <typename Fn>
Result<extract::EntityEvaluator> EvaluateParallel(const extract::EntityTagger& tagger, size_t n,
                                                  Fn fn) {
  const size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 64);
  std::vector<extract::EntityEvaluator> evals(threads);
  std::vector<Status> errors(threads);
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      extract::TaggerState state;
      for (size_t i = next++; i < n && errors[t].ok(); i = next++) {
        errors[t] = fn(i, tagger, &state, &evals[t]);
      }
    });
  }
  for (auto& th : pool) th.join();
  extract::EntityEvaluator all;
  for (size_t t = 0; t < threads; ++t) {
    LOTE_RETURN_IF_ERROR(errors[t]);
    all.Merge(evals[t]);
  }
  return all;
}

}  // namespace

Status RunEvalExtract(const std::string& model_path, const bundle::Model& model,
                      const std::string& data, io::Format format, bool json) {
  if (!model.tagger) {
    return InvalidArgumentError(model_path + ": model has no entity tagger to evaluate on " + data);
  }
  const extract::EntityTagger& tagger = *model.tagger;
  extract::EntityEvaluator eval;
  size_t units = 0;
  if (format == io::Format::kConll) {
    // conlleval: gold and predicted tag sequences are both chunked with ChunkTags.
    LOTE_ASSIGN_OR_RETURN(auto sentences, ReadConllFile(data, io::TextEncoding::kUtf8));
    units = sentences.size();
    // The file is one document in sentence order: a two-pass model's second pass reads the
    // first pass's tags of up to doc_window() sentences on each side. Blocks of kBlock sentences
    // are tagged in parallel, each with doc_window() sentences of context on both sides, which
    // gives exactly the tags of one TagDocument call over the whole file.
    constexpr size_t kBlock = 256;
    const size_t window = static_cast<size_t>(std::max(0, tagger.doc_window()));
    const size_t n = sentences.size();
    // The last block takes the remainder, so every call has at least kBlock sentences (the
    // second pass needs documents of 20 or more).
    const size_t blocks = std::max<size_t>(1, n / kBlock);
    LOTE_ASSIGN_OR_RETURN(
        eval, EvaluateParallel(
                  tagger, blocks,
                  [&](size_t b, const extract::EntityTagger& tg, extract::TaggerState* st,
                      extract::EntityEvaluator* ev) {
                    const size_t begin = b * kBlock;
                    const size_t end = b + 1 == blocks ? n : begin + kBlock;
                    const size_t from = begin > window ? begin - window : 0;
                    const size_t to = std::min(n, end + window);
                    std::vector<std::vector<std::string>> doc;
                    doc.reserve(to - from);
                    for (size_t i = from; i < to; ++i) doc.push_back(sentences[i].tokens);
                    auto tags = tg.TagDocument(doc, st);
                    for (size_t i = begin; i < end; ++i) {
                      ev->AddTags(sentences[i].tags, tags[i - from]);
                    }
                    return Status::Ok();
                  }));
  } else if (format == io::Format::kBrat) {
    // Strict spans: the tagger reads each document's raw text, as `lote extract` does.
    LOTE_ASSIGN_OR_RETURN(auto docs, ReadBrat(data));
    units = docs.size();
    LOTE_ASSIGN_OR_RETURN(
        eval, EvaluateParallel(
                  tagger, docs.size(),
                  [&](size_t i, const extract::EntityTagger& tg, extract::TaggerState* st,
                      extract::EntityEvaluator* ev) -> Status {
                    auto found = tg.Extract(docs[i].text, st);
                    if (!found.ok()) {
                      return Status(found.status().code(), data + "/" + docs[i].name +
                                                               ".txt: " + found.status().message());
                    }
                    std::vector<extract::LabeledSpan> pred;
                    pred.reserve(found->size());
                    for (const auto& e : *found) pred.push_back({e.type, e.start, e.end});
                    ev->AddSpans(extract::BratGoldSpans(docs[i]), pred);
                    return Status::Ok();
                  }));
  } else {
    return InvalidArgumentError(data + ": entity evaluation needs conll or brat data");
  }
  const extract::EntityEvalReport r = eval.Report();
  if (json) {
    nlohmann::ordered_json j;
    j["model_version"] = model.version_id;
    j["format"] = std::string(io::FormatName(format));
    j["units"] = units;
    j[format == io::Format::kConll ? "n_sentences" : "n_documents"] = units;
    j["precision"] = r.micro.precision;
    j["recall"] = r.micro.recall;
    j["f1"] = r.micro.f1;
    j["gold"] = r.micro.gold;
    j["predicted"] = r.micro.predicted;
    j["correct"] = r.micro.correct;
    j["ignored_predictions"] = r.ignored_predictions;
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    for (const auto& [type, s] : r.per_type) {
      per[type] = {
          {"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.gold}};
    }
    j["per_type"] = per;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("model      %s\n", model.version_id.c_str());
    std::printf("data       %s (%zu %s)\n", data.c_str(), units,
                format == io::Format::kConll ? "sentences" : "documents");
    std::printf("%s", r.ToString().c_str());
    if (r.ignored_predictions > 0) {
      std::printf("(%zu predicted entities of types absent from the gold data ignored)\n",
                  r.ignored_predictions);
    }
  }
  return Status::Ok();
}

}  // namespace lote::cli
