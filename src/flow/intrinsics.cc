// The intrinsic functions of the Amazon States Language ("States.Format('{}', $.x)"): parsed
// once into a call tree (unknown names, wrong argument counts and bad literals are parse
// errors), evaluated per input; wrong argument types at run time are States.IntrinsicFailure.
// Argument rules and limits follow AWS's "Intrinsic functions" page.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "flow/flow_internal.h"
#include "lote/base/digest.h"
#include "lote/flow/json_path.h"

namespace lote::flow {
namespace {

enum class Fn {
  kFormat,
  kStringToJson,
  kJsonToString,
  kArray,
  kArrayPartition,
  kArrayContains,
  kArrayRange,
  kArrayGetItem,
  kArrayLength,
  kArrayUnique,
  kBase64Encode,
  kBase64Decode,
  kHash,
  kJsonMerge,
  kMathRandom,
  kMathAdd,
  kStringSplit,
  kUuid,
};

struct FnSpec {
  std::string_view name;  // without "States."
  Fn fn;
  int min_args;
  int max_args;  // -1: any number
};

constexpr FnSpec kFunctions[] = {
    {"Format", Fn::kFormat, 1, -1},
    {"StringToJson", Fn::kStringToJson, 1, 1},
    {"JsonToString", Fn::kJsonToString, 1, 1},
    {"Array", Fn::kArray, 0, -1},
    {"ArrayPartition", Fn::kArrayPartition, 2, 2},
    {"ArrayContains", Fn::kArrayContains, 2, 2},
    {"ArrayRange", Fn::kArrayRange, 3, 3},
    {"ArrayGetItem", Fn::kArrayGetItem, 2, 2},
    {"ArrayLength", Fn::kArrayLength, 1, 1},
    {"ArrayUnique", Fn::kArrayUnique, 1, 1},
    {"Base64Encode", Fn::kBase64Encode, 1, 1},
    {"Base64Decode", Fn::kBase64Decode, 1, 1},
    {"Hash", Fn::kHash, 2, 2},
    {"JsonMerge", Fn::kJsonMerge, 3, 3},
    {"MathRandom", Fn::kMathRandom, 2, 3},
    {"MathAdd", Fn::kMathAdd, 2, 2},
    {"StringSplit", Fn::kStringSplit, 2, 2},
    {"UUID", Fn::kUuid, 0, 0},
};

// AWS: "You can nest up to 10 intrinsic functions within a field".
constexpr int kMaxCallNesting = 10;
// AWS's input limits (characters) for Base64Encode, Base64Decode and Hash.
constexpr size_t kMaxEncodeChars = 10000;
// AWS: ArrayRange's array "can't contain more than 1000 items".
constexpr int64_t kMaxRangeItems = 1000;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

struct Intrinsic::Node {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  Json literal;
  std::optional<JsonPath> path;
  int fn = -1;  // index into kFunctions
  std::vector<Node> args;
  // States.Format with a literal template: the text between its unescaped "{}" (escaped braces
  // are plain text here), so evaluation neither re-scans nor confuses "\{}" with a placeholder.
  std::vector<std::string> format_pieces;
};

namespace {

using CallNode = Intrinsic::Node;

class IntrinsicParser {
 public:
  explicit IntrinsicParser(std::string_view text) : text_(text) {}

  Status ParseTop(CallNode* out) {
    SkipSpaces();
    LOTE_RETURN_IF_ERROR(ParseCall(0, out));
    SkipSpaces();
    if (pos_ != text_.size()) return Fail("unexpected text after the closing ')'");
    return Status::Ok();
  }

 private:
  Status Fail(std::string what) const {
    return InvalidArgumentError("invalid intrinsic function '" + std::string(text_) + "': " + what +
                                " (at position " + std::to_string(pos_) + ")");
  }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void SkipSpaces() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  Status ParseCall(int depth, CallNode* out) {
    if (depth >= kMaxCallNesting) {
      return Fail("intrinsic functions nest at most " + std::to_string(kMaxCallNesting) + " deep");
    }
    if (text_.substr(pos_, 7) != "States.") return Fail("expected 'States.<Function>('");
    pos_ += 7;
    size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    std::string_view name = text_.substr(start, pos_ - start);
    out->kind = CallNode::Kind::kCall;
    for (size_t i = 0; i < std::size(kFunctions); ++i) {
      if (kFunctions[i].name == name) out->fn = static_cast<int>(i);
    }
    if (out->fn < 0) {
      pos_ = start;
      return Fail("unknown function 'States." + std::string(name) + "'");
    }
    if (Peek() != '(') return Fail("expected '(' after 'States." + std::string(name) + "'");
    ++pos_;
    SkipSpaces();
    if (Peek() != ')') {
      while (true) {
        SkipSpaces();
        CallNode arg;
        bool format_template = kFunctions[out->fn].fn == Fn::kFormat && out->args.empty();
        LOTE_RETURN_IF_ERROR(
            ParseArg(depth, format_template ? &out->format_pieces : nullptr, &arg));
        out->args.push_back(std::move(arg));
        SkipSpaces();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        if (Peek() == ')') break;
        return Fail("expected ',' or ')'");
      }
    }
    ++pos_;  // ')'
    const FnSpec& spec = kFunctions[out->fn];
    int n = static_cast<int>(out->args.size());
    if (n < spec.min_args || (spec.max_args >= 0 && n > spec.max_args)) {
      std::string expected =
          spec.max_args < 0 ? "at least " + std::to_string(spec.min_args)
          : spec.min_args == spec.max_args
              ? std::to_string(spec.min_args)
              : std::to_string(spec.min_args) + " or " + std::to_string(spec.max_args);
      return Fail("States." + std::string(spec.name) + " takes " + expected + " argument" +
                  (expected == "1" ? "" : "s") + ", got " + std::to_string(n));
    }
    if (spec.fn == Fn::kJsonToString && out->args[0].kind != CallNode::Kind::kPath) {
      return Fail("States.JsonToString's argument must be a path");
    }
    if (spec.fn == Fn::kFormat) {
      const CallNode& tmpl = out->args[0];
      if (tmpl.kind == CallNode::Kind::kLiteral && !tmpl.literal.is_string()) {
        return Fail("States.Format's first argument must be a string");
      }
      if (tmpl.kind == CallNode::Kind::kLiteral &&
          out->format_pieces.size() != out->args.size()) {  // pieces = placeholders + 1
        return Fail("States.Format's template has " +
                    std::to_string(out->format_pieces.size() - 1) + " '{}' but " +
                    std::to_string(out->args.size() - 1) + " value(s) follow");
      }
      if (tmpl.kind != CallNode::Kind::kLiteral) out->format_pieces.clear();
    }
    return Status::Ok();
  }

  Status ParseArg(int depth, std::vector<std::string>* format_pieces, CallNode* out) {
    char c = Peek();
    if (c == '\'') return ParseString(format_pieces, out);
    if (c == '$') return ParsePath(out);
    if (text_.substr(pos_, 7) == "States.") return ParseCall(depth + 1, out);
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        size_t after = pos_ + word.size();
        if (after < text_.size() && IsNameChar(text_[after])) break;
        pos_ = after;
        out->kind = CallNode::Kind::kLiteral;
        out->literal = word == "null" ? Json(nullptr) : Json(word == "true");
        return Status::Ok();
      }
    }
    if (c == '"') return Fail("string literals are quoted with ', not \"");
    if (c == '\0') return Fail("unexpected end, expected an argument");
    return Fail(std::string("unexpected '") + c + "', expected an argument");
  }

  // '...' with the escapes \' \{ \} \\ (AWS: any other backslash is an error).
  Status ParseString(std::vector<std::string>* pieces, CallNode* out) {
    ++pos_;
    std::string value;
    std::string piece;
    while (true) {
      if (pos_ >= text_.size()) return Fail("unterminated string literal");
      char c = text_[pos_++];
      if (c == '\'') break;
      if (c == '\\') {
        char e = Peek();
        if (e != '\'' && e != '{' && e != '}' && e != '\\') {
          --pos_;
          return Fail("a backslash must escape one of ' { } \\");
        }
        ++pos_;
        value.push_back(e);
        piece.push_back(e);
        continue;
      }
      if (c == '{' && Peek() == '}' && pieces != nullptr) {
        ++pos_;
        value += "{}";
        pieces->push_back(std::move(piece));
        piece.clear();
        continue;
      }
      value.push_back(c);
      piece.push_back(c);
    }
    if (pieces != nullptr) pieces->push_back(std::move(piece));
    out->kind = CallNode::Kind::kLiteral;
    out->literal = std::move(value);
    return Status::Ok();
  }

  // A path runs to the next ',' or ')' outside brackets, parentheses and quotes.
  Status ParsePath(CallNode* out) {
    size_t start = pos_;
    int depth = 0;
    char quote = '\0';
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (quote != '\0') {
        if (c == '\\' && pos_ + 1 < text_.size()) {
          ++pos_;  // the escaped character (a backslash last in the text stays itself)
        } else if (c == quote) {
          quote = '\0';
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '[' || c == '(') {
        ++depth;
      } else if (c == ']' || c == ')') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
      ++pos_;
    }
    size_t end = pos_;
    while (end > start && IsSpace(text_[end - 1])) --end;
    Result<JsonPath> path = JsonPath::Parse(text_.substr(start, end - start));
    if (!path.ok()) return Fail(path.status().message());
    out->kind = CallNode::Kind::kPath;
    out->path = std::move(path).value();
    return Status::Ok();
  }

  Status ParseNumber(CallNode* out) {
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      bool sign = (c == '-' || c == '+') &&
                  (pos_ == start || text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E');
      if (!sign && !((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E')) break;
      ++pos_;
    }
    std::string number(text_.substr(start, pos_ - start));
    Json parsed = Json::parse(number, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_number()) {
      pos_ = start;
      return Fail("bad number '" + number + "'");
    }
    out->kind = CallNode::Kind::kLiteral;
    out->literal = std::move(parsed);
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation helpers

StateError Failure(const FnSpec& spec, const std::string& why) {
  return StateError{kStatesIntrinsicFailure, "States." + std::string(spec.name) + ": " + why};
}

std::string Ordinal(size_t i) {
  static const char* kNames[] = {"first", "second", "third"};
  return i < 3 ? kNames[i] : "argument " + std::to_string(i + 1);
}

// An integer argument. `round`: AWS rounds non-integers to the nearest integer (MathAdd,
// MathRandom, ArrayPartition); elsewhere AWS requires integer values.
std::optional<int64_t> ToInteger(const Json& v, bool round) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return v.get<int64_t>();
  }
  if (!v.is_number_float()) return std::nullopt;
  double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return std::nullopt;
  if (d != std::floor(d)) {
    if (!round) return std::nullopt;
    return static_cast<int64_t>(std::llround(d));  // halves away from zero
  }
  return static_cast<int64_t>(d);
}

// Characters as AWS counts them for its input limits (code points of the UTF-8 text).
size_t CountChars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Length of the UTF-8 sequence starting at s[i] (1 for a stray byte).
size_t CharLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  return i + len <= s.size() ? len : 1;
}

void AppendNumber(const Json& v, std::string* out) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    // ASL prints integer-valued numbers as integers (1, not 1.0).
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
      *out += std::to_string(static_cast<int64_t>(d));
      return;
    }
  }
  *out += v.dump();
}

// How States.Format prints a value. Objects and arrays print as Step Functions does (its Java
// runtime's map and list text: {a=1, b=[x, y]}); AWS documents only scalars here.
void AppendFormatted(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::string:
      *out += v.get_ref<const std::string&>();
      return;
    case Json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::null:
      *out += "null";
      return;
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& e : v) {
        if (!first) *out += ", ";
        first = false;
        AppendFormatted(e, out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) *out += ", ";
        first = false;
        *out += it.key();
        out->push_back('=');
        AppendFormatted(it.value(), out);
      }
      out->push_back('}');
      return;
    }
    default:
      AppendNumber(v, out);
      return;
  }
}

// Standard alphabet; the padding may be left out. nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view in) {
  size_t end = in.size();
  size_t padding = 0;
  while (end > 0 && in[end - 1] == '=' && padding < 2) {
    --end;
    ++padding;
  }
  if (padding > 0 && in.size() % 4 != 0) return std::nullopt;
  if (end % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(end / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < end; ++i) {
    char c = in[i];
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::optional<std::string> HashHex(std::string_view algorithm, const std::string& data) {
  const EVP_MD* md = nullptr;
  if (algorithm == "MD5") {
    md = EVP_md5();
  } else if (algorithm == "SHA-1") {
    md = EVP_sha1();
  } else if (algorithm == "SHA-256") {
    md = EVP_sha256();
  } else if (algorithm == "SHA-384") {
    md = EVP_sha384();
  } else if (algorithm == "SHA-512") {
    md = EVP_sha512();
  } else {
    return std::nullopt;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, md, nullptr) != 1) return std::nullopt;
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::optional<std::string> UuidV4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return std::nullopt;
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

struct JsonPtrHash {
  size_t operator()(const Json* v) const { return std::hash<Json>{}(*v); }
};
struct JsonPtrEq {
  bool operator()(const Json* a, const Json* b) const { return *a == *b; }
};

Outcome<Json> EvaluateNode(const CallNode& node, const Json& input, const Json& context);

Outcome<Json> Call(const CallNode& node, const Json& input, const Json& context) {
  const FnSpec& spec = kFunctions[node.fn];
  // States.Format with a literal template does not evaluate its first argument.
  size_t first = spec.fn == Fn::kFormat && !node.format_pieces.empty() ? 1 : 0;
  std::vector<Json> args;
  args.reserve(node.args.size());
  for (size_t i = 0; i < node.args.size(); ++i) {
    if (i < first) {
      args.emplace_back();
      continue;
    }
    const CallNode& arg = node.args[i];
    if (arg.kind == CallNode::Kind::kPath) {
      std::optional<Json> value = arg.path->Select(input, context);
      // Inside an intrinsic a missing path is the intrinsic's failure (AWS does not say which
      // error it raises; States.IntrinsicFailure lets a Catch on intrinsics handle it).
      if (!value || (!arg.path->is_reference() && value->empty())) {
        return Failure(spec, "the JSONPath '" + arg.path->text() + "' could not be found in the " +
                                 (arg.path->is_context() ? "context object" : "input"));
      }
      args.push_back(std::move(*value));
    } else {
      Outcome<Json> value = EvaluateNode(arg, input, context);
      if (!value.ok()) return value.error();
      args.push_back(std::move(value).value());
    }
  }
  auto need = [&](size_t i, bool ok, const char* what) -> std::optional<StateError> {
    if (ok) return std::nullopt;
    return Failure(spec, "the " + Ordinal(i) + " argument must be " + what + ", got " +
                             JsonTypePhrase(args[i]));
  };
#define LOTE_NEED_(i, cond, what)                            \
  do {                                                       \
    if (auto lote_need_error_ = need((i), (cond), (what))) { \
      return *lote_need_error_;                              \
    }                                                        \
  } while (0)

  switch (spec.fn) {
    case Fn::kFormat: {
      std::vector<std::string> split;
      const std::vector<std::string>* pieces = &node.format_pieces;
      if (first == 0) {
        LOTE_NEED_(0, args[0].is_string(), "a string");
        const std::string& tmpl = args[0].get_ref<const std::string&>();
        size_t start = 0;
        while (true) {
          size_t at = tmpl.find("{}", start);
          if (at == std::string::npos) break;
          split.push_back(tmpl.substr(start, at - start));
          start = at + 2;
        }
        split.push_back(tmpl.substr(start));
        if (split.size() != args.size()) {
          return Failure(spec, "the template has " + std::to_string(split.size() - 1) +
                                   " '{}' but " + std::to_string(args.size() - 1) +
                                   " value(s) follow");
        }
        pieces = &split;
      }
      std::string out = (*pieces)[0];
      for (size_t i = 1; i < args.size(); ++i) {
        AppendFormatted(args[i], &out);
        out += (*pieces)[i];
      }
      return Json(std::move(out));
    }
    case Fn::kStringToJson: {
      LOTE_NEED_(0, args[0].is_string(), "a string");
      Json parsed;
      try {
        parsed = Json::parse(args[0].get_ref<const std::string&>(), nullptr,
                             /*allow_exceptions=*/false);
      } catch (const std::exception&) {
        parsed = Json::value_t::discarded;
      }
      if (parsed.is_discarded()) return Failure(spec, "the argument is not valid JSON text");
      return parsed;
    }
    case Fn::kJsonToString:
      return Json(args[0].dump(-1, ' ', false, Json::error_handler_t::replace));
    case Fn::kArray: {
      Json out = Json::array();
      auto& array = out.get_ref<Json::array_t&>();
      array.reserve(args.size());
      for (Json& a : args) array.push_back(std::move(a));
      return out;
    }
    case Fn::kArrayPartition: {
      LOTE_NEED_(0, args[0].is_array(), "an array");
      std::optional<int64_t> size = ToInteger(args[1], /*round=*/true);
      if (!size || *size <= 0) {
        return Failure(spec, "the chunk size must be a positive integer");
      }
      Json out = Json::array();
      auto& source = args[0].get_ref<Json::array_t&>();
      size_t chunk = static_cast<size_t>(*size);
      for (size_t i = 0; i < source.size(); i += chunk) {
        Json part = Json::array();
        auto& p = part.get_ref<Json::array_t&>();
        size_t end = std::min(source.size(), i + chunk);
        p.reserve(end - i);
        for (size_t k = i; k < end; ++k) p.push_back(std::move(source[k]));
        out.push_back(std::move(part));
      }
      return out;
    }
    case Fn::kArrayContains: {
      LOTE_NEED_(0, args[0].is_array(), "an array");
      for (const Json& e : args[0]) {
        if (e == args[1]) return Json(true);
      }
      return Json(false);
    }
    case Fn::kArrayRange: {
      std::optional<int64_t> v[3];
      for (size_t i = 0; i < 3; ++i) {
        v[i] = ToInteger(args[i], /*round=*/false);
        if (!v[i]) {
          return Failure(spec,
                         "the " + Ordinal(i) + " argument must be an integer, got " +
                             (args[i].is_number() ? args[i].dump() : JsonTypePhrase(args[i])));
        }
      }
      int64_t start = *v[0];
      int64_t end = *v[1];
      int64_t step = *v[2];
      if (step == 0) return Failure(spec, "the step (third argument) cannot be 0");
      // Counted in unsigned arithmetic: the span of two int64 values may not fit an int64.
      uint64_t count = 0;
      if ((step > 0 && end >= start) || (step < 0 && end <= start)) {
        uint64_t diff = step > 0 ? static_cast<uint64_t>(end) - static_cast<uint64_t>(start)
                                 : static_cast<uint64_t>(start) - static_cast<uint64_t>(end);
        uint64_t stride = step > 0 ? static_cast<uint64_t>(step) : 0 - static_cast<uint64_t>(step);
        uint64_t intervals = diff / stride;
        // intervals + 1 items; a huge span must not wrap around when adding 1.
        count = std::min<uint64_t>(intervals, kMaxRangeItems) + 1;
      }
      if (count > static_cast<uint64_t>(kMaxRangeItems)) {
        return Failure(
            spec, "the range would have more than " + std::to_string(kMaxRangeItems) + " items");
      }
      Json out = Json::array();
      auto& array = out.get_ref<Json::array_t&>();
      array.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        uint64_t value = static_cast<uint64_t>(start) + i * static_cast<uint64_t>(step);
        array.emplace_back(static_cast<int64_t>(value));
      }
      return out;
    }
    case Fn::kArrayGetItem: {
      LOTE_NEED_(0, args[0].is_array(), "an array");
      std::optional<int64_t> index = ToInteger(args[1], /*round=*/false);
      if (!index || *index < 0) {
        return Failure(spec, "the index must be a non-negative integer");
      }
      if (static_cast<uint64_t>(*index) >= args[0].size()) {
        return Failure(spec, "the index " + std::to_string(*index) +
                                 " is out of range for an array of " +
                                 std::to_string(args[0].size()) + " items");
      }
      return std::move(args[0][static_cast<size_t>(*index)]);
    }
    case Fn::kArrayLength:
      LOTE_NEED_(0, args[0].is_array(), "an array");
      return Json(static_cast<int64_t>(args[0].size()));
    case Fn::kArrayUnique: {
      LOTE_NEED_(0, args[0].is_array(), "an array");
      Json out = Json::array();
      auto& array = out.get_ref<Json::array_t&>();
      std::unordered_set<const Json*, JsonPtrHash, JsonPtrEq> seen;
      for (const Json& e : args[0]) {
        if (seen.insert(&e).second) array.push_back(e);
      }
      return out;
    }
    case Fn::kBase64Encode: {
      LOTE_NEED_(0, args[0].is_string(), "a string");
      const std::string& s = args[0].get_ref<const std::string&>();
      if (CountChars(s) > kMaxEncodeChars) {
        return Failure(spec, "the input is longer than 10000 characters");
      }
      return Json(Base64Encode(s));
    }
    case Fn::kBase64Decode: {
      LOTE_NEED_(0, args[0].is_string(), "a string");
      const std::string& s = args[0].get_ref<const std::string&>();
      if (CountChars(s) > kMaxEncodeChars) {
        return Failure(spec, "the input is longer than 10000 characters");
      }
      std::optional<std::string> decoded = Base64Decode(s);
      if (!decoded) return Failure(spec, "the argument is not valid base64");
      if (!ValidUtf8(*decoded)) return Failure(spec, "the decoded data is not UTF-8 text");
      return Json(std::move(*decoded));
    }
    case Fn::kHash: {
      LOTE_NEED_(0, args[0].is_string(), "a string");
      LOTE_NEED_(1, args[1].is_string(), "a string");
      const std::string& data = args[0].get_ref<const std::string&>();
      if (CountChars(data) > kMaxEncodeChars) {
        return Failure(spec, "the input is longer than 10000 characters");
      }
      const std::string& algorithm = args[1].get_ref<const std::string&>();
      std::optional<std::string> hex = HashHex(algorithm, data);
      if (!hex) {
        return Failure(spec, "unknown algorithm '" + algorithm +
                                 "' (MD5, SHA-1, SHA-256, SHA-384 or SHA-512)");
      }
      return Json(std::move(*hex));
    }
    case Fn::kJsonMerge: {
      LOTE_NEED_(0, args[0].is_object(), "an object");
      LOTE_NEED_(1, args[1].is_object(), "an object");
      LOTE_NEED_(2, args[2].is_boolean(), "a boolean");
      if (args[2].get<bool>()) {
        return Failure(spec,
                       "only the shallow merge is supported: the third argument must be false");
      }
      Json out = std::move(args[0]);
      for (auto it = args[1].begin(); it != args[1].end(); ++it) {
        out[it.key()] = std::move(it.value());
      }
      return out;
    }
    case Fn::kMathRandom: {
      std::optional<int64_t> v[3];
      for (size_t i = 0; i < args.size(); ++i) {
        v[i] = ToInteger(args[i], /*round=*/true);
        if (!v[i]) {
          return Failure(spec, "the " + Ordinal(i) + " argument must be an integer, got " +
                                   JsonTypePhrase(args[i]));
        }
      }
      int64_t start = *v[0];
      int64_t end = *v[1];
      if (start >= end) {
        return Failure(spec, "the start (" + std::to_string(start) +
                                 ") must be less than the end (" + std::to_string(end) + ")");
      }
      // The start is inclusive, the end exclusive.
      std::uniform_int_distribution<int64_t> dist(start, end - 1);
      if (args.size() == 3) {
        std::mt19937_64 seeded(static_cast<uint64_t>(*v[2]));
        return Json(dist(seeded));
      }
      thread_local std::mt19937_64 generator{std::random_device{}()};
      return Json(dist(generator));
    }
    case Fn::kMathAdd: {
      int64_t sum = 0;
      for (size_t i = 0; i < 2; ++i) {
        std::optional<int64_t> v = ToInteger(args[i], /*round=*/true);
        // AWS: integer values between -2147483648 and 2147483647.
        if (!v || *v < std::numeric_limits<int32_t>::min() ||
            *v > std::numeric_limits<int32_t>::max()) {
          return Failure(spec,
                         "the " + Ordinal(i) +
                             " argument must be an integer between -2147483648 and "
                             "2147483647, got " +
                             (args[i].is_number() ? args[i].dump() : JsonTypePhrase(args[i])));
        }
        sum += *v;
      }
      return Json(sum);
    }
    case Fn::kStringSplit: {
      LOTE_NEED_(0, args[0].is_string(), "a string");
      LOTE_NEED_(1, args[1].is_string(), "a string");
      const std::string& s = args[0].get_ref<const std::string&>();
      const std::string& delimiters = args[1].get_ref<const std::string&>();
      // Every character of the second argument is a delimiter; empty parts between adjacent
      // delimiters are kept (AWS's page shows no such case).
      std::vector<std::string_view> delims;
      for (size_t i = 0; i < delimiters.size();) {
        size_t len = CharLength(delimiters, i);
        delims.push_back(std::string_view(delimiters).substr(i, len));
        i += len;
      }
      Json out = Json::array();
      if (delims.empty()) {
        out.push_back(s);
        return out;
      }
      std::string_view view(s);
      size_t part = 0;
      for (size_t i = 0; i < view.size();) {
        size_t len = CharLength(view, i);
        std::string_view ch = view.substr(i, len);
        bool is_delim = false;
        for (std::string_view d : delims) is_delim = is_delim || d == ch;
        if (is_delim) {
          out.push_back(std::string(view.substr(part, i - part)));
          part = i + len;
        }
        i += len;
      }
      out.push_back(std::string(view.substr(part)));
      return out;
    }
    case Fn::kUuid: {
      std::optional<std::string> uuid = UuidV4();
      if (!uuid) return Failure(spec, "no random bytes available");
      return Json(std::move(*uuid));
    }
  }
#undef LOTE_NEED_
  return Failure(spec, "not implemented");
}

Outcome<Json> EvaluateNode(const CallNode& node, const Json& input, const Json& context) {
  switch (node.kind) {
    case CallNode::Kind::kLiteral:
      return node.literal;
    case CallNode::Kind::kPath: {
      std::optional<Json> value = node.path->Select(input, context);
      if (!value) {
        return StateError{kStatesIntrinsicFailure,
                          "the JSONPath '" + node.path->text() + "' could not be found"};
      }
      return std::move(*value);
    }
    case CallNode::Kind::kCall:
      try {
        return Call(node, input, context);
      } catch (const std::exception& e) {  // nlohmann throws; nothing crosses the API
        return StateError{kStatesIntrinsicFailure,
                          "States." + std::string(kFunctions[node.fn].name) + ": " + e.what()};
      }
  }
  return StateError{kStatesIntrinsicFailure, "bad intrinsic node"};
}

}  // namespace

bool Intrinsic::Looks(std::string_view text) {
  if (text.substr(0, 7) != "States.") return false;
  size_t i = 7;
  while (i < text.size() && IsNameChar(text[i])) ++i;
  return i > 7 && i < text.size() && text[i] == '(';
}

Result<Intrinsic> Intrinsic::Parse(std::string_view text) {
  auto root = std::make_shared<CallNode>();
  IntrinsicParser parser(text);
  LOTE_RETURN_IF_ERROR(parser.ParseTop(root.get()));
  Intrinsic out;
  out.text_ = std::string(text);
  out.root_ = std::move(root);
  return out;
}

Outcome<Json> Intrinsic::Evaluate(const Json& input, const Json& context) const {
  if (root_ == nullptr) return StateError{kStatesIntrinsicFailure, "empty intrinsic"};
  return EvaluateNode(*root_, input, context);
}

}  // namespace lote::flow
