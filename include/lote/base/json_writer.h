// Minimal, fast JSON text building for hot output paths (one JSON object per record), where a
// DOM library would allocate per value. Thread-safe free functions.
#ifndef LOTE_BASE_JSON_WRITER_H_
#define LOTE_BASE_JSON_WRITER_H_

#include <string>
#include <string_view>

namespace lote {

// Appends `s` as a JSON string literal (quotes included). `s` must be valid UTF-8; control
// characters are escaped, everything else is copied as is.
void AppendJsonString(std::string* out, std::string_view s);

// Appends a number with up to 6 significant digits ("0.25", "1e-06"); NaN/inf become 0.
void AppendJsonNumber(std::string* out, double v);

// The value AppendJsonNumber's text reads back as: what a reader of the written JSON sees.
double AsWrittenJsonNumber(double v);

}  // namespace lote

#endif  // LOTE_BASE_JSON_WRITER_H_
