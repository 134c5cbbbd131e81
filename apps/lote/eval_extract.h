// Entity data for `lote train extract` and `lote eval` (CoNLL files, BRAT folders) and the
// entity-level evaluation of a tagger on them.
#ifndef LOTE_APPS_LOTE_EVAL_EXTRACT_H_
#define LOTE_APPS_LOTE_EVAL_EXTRACT_H_

#include <string>
#include <vector>

#include "lote/bundle/model.h"
#include "lote/extract/tagger.h"
#include "lote/io/records.h"

namespace lote::cli {

// Every sentence of a CoNLL file. The first malformed line (tag column missing, unknown tag
// prefix, invalid UTF-8) is an InvalidArgument error naming file and line: labelled data with
// broken lines is not used silently. A file with no sentence is InvalidArgument too.
Result<std::vector<io::TaggedSentence>> ReadConllFile(const std::string& path,
                                                      io::TextEncoding encoding);

// Training sentences (IOB2) from a CoNLL file or a BRAT folder. BRAT documents are tokenized
// and projected (overlapping annotations: the longest is kept, with a warning).
Result<std::vector<extract::TaggedSequence>> ReadEntityTrainingData(const std::string& path,
                                                                    io::Format format,
                                                                    io::TextEncoding encoding);

// `lote eval` on conll / brat data: entity-level exact match of the model's tagger, micro and
// per type, only gold types scored. Prints a table, or one JSON object with `json`
// {precision, recall, f1, per_type: {TYPE: {precision, recall, f1, support}}, model_version, ...}.
Status RunEvalExtract(const std::string& model_path, const bundle::Model& model,
                      const std::string& data, io::Format format, bool json);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_EVAL_EXTRACT_H_
