#include "eval_extract.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common.h"
#include "flags.h"
#include "lote/base/parallel_for.h"
#include "lote/bundle/analyzer.h"
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

Result<std::vector<io::BratDocument>> ReadEntityDocuments(const std::string& path,
                                                          io::Format format,
                                                          const io::EntityJsonlOptions& jsonl) {
  if (format == io::Format::kJsonl) {
    LOTE_ASSIGN_OR_RETURN(auto source, OpenInput(path));
    LOTE_ASSIGN_OR_RETURN(auto docs, io::ReadEntityJsonl(source.get(), jsonl));
    if (docs.empty()) return InvalidArgumentError(path + ": no records (empty JSONL file?)");
    return docs;
  }
  if (format != io::Format::kBrat) {
    return InvalidArgumentError(path + ": entity data must be conll, brat or jsonl (got " +
                                std::string(io::FormatName(format)) + ")");
  }
  std::vector<std::string> warnings;
  auto docs = io::ReadBratFolder(path, &warnings);
  for (const auto& w : warnings) Warn(w);
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return InvalidArgumentError(path + ": no .txt documents in the BRAT folder");
  return docs;
}

namespace {

bool Kept(const std::vector<std::string>& types, std::string_view type) {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

// Tags of types outside `types` become O (IOB2 in, IOB2 out: the kept chunks do not change).
void KeepTypes(const std::vector<std::string>& types, std::vector<std::string>* tags) {
  for (auto& t : *tags) {
    if (t != "O" && !Kept(types, extract::ParseTag(t).type)) t = "O";
  }
}

void KeepTypes(const std::vector<std::string>& types, std::vector<extract::LabeledSpan>* spans) {
  std::erase_if(*spans, [&](const extract::LabeledSpan& s) { return !Kept(types, s.type); });
}

}  // namespace

Result<std::vector<extract::TaggedSequence>> ReadEntityTrainingData(
    const std::string& path, io::Format format, const EntityDataOptions& options,
    std::vector<size_t>* doc_sentences) {
  std::vector<extract::TaggedSequence> out;
  if (format == io::Format::kConll) {
    LOTE_ASSIGN_OR_RETURN(auto sentences, ReadConllFile(path, options.encoding));
    out.reserve(sentences.size());
    for (const auto& s : sentences) out.push_back(extract::FromConll(s));
    if (doc_sentences) doc_sentences->assign(1, out.size());
  } else {
    LOTE_ASSIGN_OR_RETURN(auto docs, ReadEntityDocuments(path, format, options.jsonl));
    text::Tokenizer tokenizer;
    extract::BratProjectionStats stats;
    std::vector<std::string> warnings;
    if (doc_sentences) doc_sentences->clear();
    for (const auto& d : docs) {
      const size_t before = out.size();
      extract::ProjectBratDocument(d, tokenizer, &out, &stats, &warnings);
      if (doc_sentences) doc_sentences->push_back(out.size() - before);
    }
    for (const auto& w : warnings) Warn(path + ": " + w);
    if (out.empty()) return InvalidArgumentError(path + ": the documents hold no text");
  }
  if (!options.types.empty() && options.require_types) {
    std::set<std::string, std::less<>> seen;
    for (const auto& s : out) {
      for (const auto& t : s.tags) {
        if (t != "O") seen.emplace(extract::ParseTag(t).type);
      }
    }
    for (const auto& t : options.types) {
      if (!seen.contains(t)) {
        std::string all;
        for (const auto& x : seen) all += (all.empty() ? "" : ", ") + x;
        return InvalidArgumentError(path + ": type '" + t + "' of --types is not in the data (" +
                                    (all.empty() ? "no entities" : "types: " + all) + ")");
      }
    }
  }
  for (auto& s : out) KeepTypes(options.types, &s.tags);
  return out;
}

Result<std::vector<EntityUnitSpans>> PredictEntityUnits(const std::string& model_path,
                                                        const bundle::Model& model,
                                                        const std::string& data, io::Format format,
                                                        const EntityDataOptions& options) {
  const bool docs_format = format == io::Format::kBrat || format == io::Format::kJsonl;
  if (options.patterns && !docs_format) {
    return InvalidArgumentError("--patterns needs brat or jsonl data (raw text)");
  }
  if (!model.tagger && !options.patterns) {
    return InvalidArgumentError(model_path + ": model has no entity tagger to evaluate on " + data +
                                " (--patterns scores the pattern extractors alone)");
  }
  if (!docs_format && format != io::Format::kConll) {
    return InvalidArgumentError(data + ": entity evaluation needs conll, brat or jsonl data");
  }
  // What `lote extract` runs: the tagger, plus the pattern extractors with --patterns (overlaps
  // resolved as there). The CoNLL branch calls the tagger directly (TagDocument over tokens).
  bundle::AnalyzerOptions ao;
  ao.classify = false;
  ao.patterns = options.patterns;
  ao.reference_date = options.reference_date;
  LOTE_ASSIGN_OR_RETURN(auto analyzer, bundle::TextAnalyzer::Create(&model, ao));
  const extract::EntityTagger* tagger = model.tagger.get();
  std::vector<EntityUnitSpans> units;
  // Runs fn(i, state) for i in [0, n) on all cores, one analyzer state per thread. The first
  // error wins.
  auto parallel = [&](size_t n, const auto& fn) -> Status {
    const int threads = ResolveThreads(0);
    std::vector<Status> errors(static_cast<size_t>(threads));
    std::vector<std::unique_ptr<bundle::AnalyzerState>> states(static_cast<size_t>(threads));
    for (auto& st : states) st = analyzer->NewState();
    ParallelFor(n, threads, [&](int worker, size_t i) {
      const size_t w = static_cast<size_t>(worker);
      if (errors[w].ok()) errors[w] = fn(i, states[w].get());
    });
    for (const Status& e : errors) LOTE_RETURN_IF_ERROR(e);
    return Status::Ok();
  };
  if (format == io::Format::kConll) {
    // conlleval: gold and predicted tag sequences are both chunked with ChunkTags.
    LOTE_ASSIGN_OR_RETURN(auto sentences, ReadConllFile(data, options.encoding));
    if (!options.types.empty()) {
      for (auto& s : sentences) {
        s.tags = extract::ToIob2(s.tags);
        KeepTypes(options.types, &s.tags);
      }
    }
    units.resize(sentences.size());
    // The file is one document in sentence order: a two-pass model's second pass reads the
    // first pass's tags of up to doc_window() sentences on each side. Blocks of kBlock sentences
    // are tagged in parallel, each with doc_window() sentences of context on both sides, which
    // gives exactly the tags of one TagDocument call over the whole file.
    constexpr size_t kBlock = 256;
    const size_t window = static_cast<size_t>(std::max(0, tagger->doc_window()));
    const size_t n = sentences.size();
    // The last block takes the remainder, so every call has at least kBlock sentences (the
    // second pass needs documents of 20 or more).
    const size_t blocks = std::max<size_t>(1, n / kBlock);
    LOTE_RETURN_IF_ERROR(parallel(blocks, [&](size_t b, bundle::AnalyzerState* st) {
      const size_t begin = b * kBlock;
      const size_t end = b + 1 == blocks ? n : begin + kBlock;
      const size_t from = begin > window ? begin - window : 0;
      const size_t to = std::min(n, end + window);
      std::vector<std::vector<std::string>> doc;
      doc.reserve(to - from);
      for (size_t i = from; i < to; ++i) doc.push_back(sentences[i].tokens);
      auto tags = tagger->TagDocument(doc, &st->tagger);
      for (size_t i = begin; i < end; ++i) {
        std::vector<std::string>& p = tags[i - from];
        KeepTypes(options.types, &p);
        // Predictions past the gold length have no gold token to align with (as AddTags).
        p.resize(sentences[i].tags.size(), "O");
        units[i].gold = extract::ChunkTags(sentences[i].tags);
        units[i].predicted = extract::ChunkTags(p);
      }
      return Status::Ok();
    }));
    return units;
  }
  // Strict spans: the tagger reads each document's raw text, as `lote extract` does.
  LOTE_ASSIGN_OR_RETURN(auto docs, ReadEntityDocuments(data, format, options.jsonl));
  units.resize(docs.size());
  LOTE_RETURN_IF_ERROR(parallel(docs.size(), [&](size_t i, bundle::AnalyzerState* st) -> Status {
    bundle::Analysis found;
    Status status = analyzer->Analyze(docs[i].text, st, &found);
    if (!status.ok()) {
      const std::string where = format == io::Format::kBrat ? data + "/" + docs[i].name + ".txt"
                                                            : data + ": record " + docs[i].name;
      return Status(status.code(), where + ": " + status.message());
    }
    std::vector<extract::LabeledSpan>& pred = units[i].predicted;
    pred.reserve(found.entities.size());
    for (const auto& e : found.entities) pred.push_back({e.type, e.start, e.end});
    units[i].gold = extract::BratGoldSpans(docs[i]);
    KeepTypes(options.types, &units[i].gold);
    KeepTypes(options.types, &pred);
    return Status::Ok();
  }));
  return units;
}

Status RunEvalExtract(const std::string& model_path, const bundle::Model& model,
                      const std::string& data, io::Format format, const EntityDataOptions& options,
                      bool json, nlohmann::ordered_json* out) {
  LOTE_ASSIGN_OR_RETURN(auto spans, PredictEntityUnits(model_path, model, data, format, options));
  extract::EntityEvaluator eval;
  for (const EntityUnitSpans& u : spans) eval.AddSpans(u.gold, u.predicted);
  const size_t units = spans.size();
  const extract::EntityEvalReport r = eval.Report();
  const char* unit_name = format == io::Format::kConll  ? "sentences"
                          : format == io::Format::kBrat ? "documents"
                                                        : "records";
  if (json || out != nullptr) {
    nlohmann::ordered_json j;
    j["model_version"] = model.version_id;
    j["format"] = std::string(io::FormatName(format));
    j["units"] = units;
    j[std::string("n_") + unit_name] = units;
    if (!options.types.empty()) j["types"] = options.types;
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
    if (out != nullptr) {
      *out = std::move(j);
    } else {
      std::printf("%s\n", j.dump().c_str());
    }
  } else {
    std::printf("model      %s\n", model.version_id.c_str());
    std::printf("data       %s (%zu %s)\n", data.c_str(), units, unit_name);
    std::printf("%s", r.ToString().c_str());
    if (r.ignored_predictions > 0) {
      std::printf("(%zu predicted entities of types absent from the gold data ignored)\n",
                  r.ignored_predictions);
    }
  }
  return Status::Ok();
}

}  // namespace lote::cli
