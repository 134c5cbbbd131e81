// Entity data for `lote train extract` and `lote eval` (CoNLL files, BRAT folders, entity
// JSONL) and the entity-level evaluation of a tagger on them.
#ifndef LOTE_APPS_LOTE_EVAL_EXTRACT_H_
#define LOTE_APPS_LOTE_EVAL_EXTRACT_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lote/bundle/model.h"
#include "lote/extract/entity_eval.h"
#include "lote/extract/patterns.h"
#include "lote/extract/tagger.h"
#include "lote/io/records.h"

namespace lote::cli {

// Every sentence of a CoNLL file. The first malformed line (tag column missing, unknown tag
// prefix, invalid UTF-8) is an InvalidArgument error naming file and line: labelled data with
// broken lines is not used silently. A file with no sentence is InvalidArgument too.
Result<std::vector<io::TaggedSentence>> ReadConllFile(const std::string& path,
                                                      io::TextEncoding encoding);

// How `lote train extract` and `lote eval` read entity data.
struct EntityDataOptions {
  io::TextEncoding encoding = io::TextEncoding::kUtf8;  // CoNLL files
  io::EntityJsonlOptions jsonl;                         // field names of entity JSONL
  // Non-empty: only these entity types are used (training: others become O; evaluation: gold
  // and predicted entities of other types are dropped before scoring).
  std::vector<std::string> types;
  // Training data: a type of `types` absent from the data is an error (see
  // ReadEntityTrainingData).
  bool require_types = true;
  // Evaluation of brat / jsonl data: score what `lote extract` writes (tagger + pattern
  // extractors, overlaps resolved) instead of the tagger alone.
  bool patterns = false;
  // Relative dates ("ayer", "el lunes pasado") resolve against it; unset: not extracted.
  std::optional<extract::CivilDate> reference_date;
};

// Documents of a BRAT folder or an entity JSONL file (one document per record). A folder or
// file with no document is InvalidArgument.
Result<std::vector<io::BratDocument>> ReadEntityDocuments(const std::string& path,
                                                          io::Format format,
                                                          const io::EntityJsonlOptions& jsonl);

// Training sentences (IOB2) from a CoNLL file, a BRAT folder or an entity JSONL file. BRAT and
// JSONL documents are tokenized and projected (overlapping annotations: the longest is kept,
// with a warning). `doc_sentences`, when not null, gets the number of sentences of each document
// (a CoNLL file is one document). With `options.require_types`, a type of `options.types` absent
// from the data is InvalidArgument (a typo would otherwise train a model that never finds it).
Result<std::vector<extract::TaggedSequence>> ReadEntityTrainingData(
    const std::string& path, io::Format format, const EntityDataOptions& options,
    std::vector<size_t>* doc_sentences);

// One scored unit (a sentence of a CoNLL file, a document of BRAT or entity JSONL data).
struct EntityUnitSpans {
  std::vector<extract::LabeledSpan> gold, predicted;
};
// The gold and predicted entities of every unit of `data`, in order: the model's tagger (plus
// the pattern extractors with options.patterns), as `lote eval` scores it.
Result<std::vector<EntityUnitSpans>> PredictEntityUnits(const std::string& model_path,
                                                        const bundle::Model& model,
                                                        const std::string& data, io::Format format,
                                                        const EntityDataOptions& options);

// `lote eval` on conll / brat / entity jsonl data: entity-level exact match of the model's
// tagger, micro and per type, only gold types scored. Prints a table, or one JSON object with
// `json` {precision, recall, f1, per_type: {TYPE: {precision, recall, f1, support}},
// model_version, ...}. With `out`, the JSON object goes there and nothing is printed.
Status RunEvalExtract(const std::string& model_path, const bundle::Model& model,
                      const std::string& data, io::Format format, const EntityDataOptions& options,
                      bool json, nlohmann::ordered_json* out = nullptr);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_EVAL_EXTRACT_H_
