// Choice rules of the Amazon States Language (JSONPath flavour) and its RFC 3339 timestamps:
// parsing and validating a rule tree once, evaluating it against a state's input many times.
#include "lote/flow/choice.h"

#include <array>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "lote/base/clock.h"
#include "lote/flow/json_path.h"

namespace lote::flow {
namespace {

// ---------------------------------------------------------------------------------------------
// Timestamps.

int DaysInMonth(int64_t year, int64_t month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Strings.

// Java's String.compareTo, which AWS names as the definition of string ordering: lexicographic
// over UTF-16 code units. It differs from code point order only for characters above U+FFFF
// (surrogates 0xD800..0xDFFF) against U+E000..U+FFFF. Bytes that are not valid UTF-8 (a Json
// built in code may hold them) compare as units of their own byte value.
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int len = 0;
    char32_t cp = 0;
    if (b0 < 0x80) {
      len = 1;
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    }
    bool valid = len > 0 && i + len <= s.size();
    for (int k = 1; valid && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (!valid) {
      out.push_back(static_cast<char16_t>(b0));
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

int CompareStrings(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  const int c = ToUtf16(a).compare(ToUtf16(b));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// A StringMatches pattern: literal pieces separated by '*' wildcards. "\*" is a literal '*' and
// "\\" a literal '\'; the spec makes any other (open) backslash a run-time error.
struct Pattern {
  std::vector<std::string> pieces;  // pieces.size() == number of wildcards + 1
  bool open_escape = false;
};

Pattern CompilePattern(std::string_view text) {
  Pattern p;
  p.pieces.emplace_back();
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '*') {
      p.pieces.emplace_back();
    } else if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '*' || text[i + 1] == '\\')) {
        p.pieces.back().push_back(text[++i]);
      } else {
        p.open_escape = true;
        p.pieces.back().push_back(c);
      }
    } else {
      p.pieces.back().push_back(c);
    }
  }
  return p;
}

// Greedy leftmost matching of the middle pieces is exact for patterns whose only wildcard is
// '*', and linear-ish (no backtracking blow-up). Byte-wise matching is correct on UTF-8: a
// literal's encoding cannot start inside another character's encoding.
bool MatchPattern(const Pattern& p, std::string_view s) {
  const std::string& first = p.pieces.front();
  if (p.pieces.size() == 1) return s == first;
  const std::string& last = p.pieces.back();
  if (s.size() < first.size() + last.size()) return false;
  if (s.substr(0, first.size()) != first) return false;
  if (s.substr(s.size() - last.size()) != last) return false;
  size_t pos = first.size();
  const size_t end = s.size() - last.size();
  for (size_t k = 1; k + 1 < p.pieces.size(); ++k) {
    const std::string& piece = p.pieces[k];
    const size_t at = s.substr(0, end).find(piece, pos);
    if (at == std::string_view::npos) return false;
    pos = at + piece.size();
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Numbers.

// -1, 0, 1. Two integers compare exactly (2^53 and 2^53 + 1 differ); otherwise as binary64,
// which the States Language says is all a definition may rely on (so 1 == 1.0).
int CompareNumbers(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    auto wide = [](const Json& j) -> __int128 {
      if (j.is_number_unsigned()) return static_cast<__int128>(j.get<uint64_t>());
      return static_cast<__int128>(j.get<int64_t>());
    };
    const __int128 x = wide(a), y = wide(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : (x > y ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Operators.

enum class Family {
  kString,
  kStringMatches,
  kNumeric,
  kBoolean,
  kTimestamp,
  kIsNull,
  kIsPresent,
  kIsNumeric,
  kIsString,
  kIsBoolean,
  kIsTimestamp,
};

enum class Cmp { kEq, kLt, kGt, kLe, kGe };

struct OperatorInfo {
  std::string_view name;
  Family family;
  Cmp cmp;
  bool has_path_variant;
};

// Every data-test operator of the States Language. StringMatches and the Is* tests have no
// "...Path" variant (the spec and AWS list none), so "StringMatchesPath" is an unknown field.
constexpr std::array<OperatorInfo, 23> kOperators = {{
    {"StringEquals", Family::kString, Cmp::kEq, true},
    {"StringLessThan", Family::kString, Cmp::kLt, true},
    {"StringGreaterThan", Family::kString, Cmp::kGt, true},
    {"StringLessThanEquals", Family::kString, Cmp::kLe, true},
    {"StringGreaterThanEquals", Family::kString, Cmp::kGe, true},
    {"StringMatches", Family::kStringMatches, Cmp::kEq, false},
    {"NumericEquals", Family::kNumeric, Cmp::kEq, true},
    {"NumericLessThan", Family::kNumeric, Cmp::kLt, true},
    {"NumericGreaterThan", Family::kNumeric, Cmp::kGt, true},
    {"NumericLessThanEquals", Family::kNumeric, Cmp::kLe, true},
    {"NumericGreaterThanEquals", Family::kNumeric, Cmp::kGe, true},
    {"BooleanEquals", Family::kBoolean, Cmp::kEq, true},
    {"TimestampEquals", Family::kTimestamp, Cmp::kEq, true},
    {"TimestampLessThan", Family::kTimestamp, Cmp::kLt, true},
    {"TimestampGreaterThan", Family::kTimestamp, Cmp::kGt, true},
    {"TimestampLessThanEquals", Family::kTimestamp, Cmp::kLe, true},
    {"TimestampGreaterThanEquals", Family::kTimestamp, Cmp::kGe, true},
    {"IsNull", Family::kIsNull, Cmp::kEq, false},
    {"IsPresent", Family::kIsPresent, Cmp::kEq, false},
    {"IsNumeric", Family::kIsNumeric, Cmp::kEq, false},
    {"IsString", Family::kIsString, Cmp::kEq, false},
    {"IsBoolean", Family::kIsBoolean, Cmp::kEq, false},
    {"IsTimestamp", Family::kIsTimestamp, Cmp::kEq, false},
}};

// The operator a field names, and whether it is the "...Path" form; nullptr if none.
const OperatorInfo* FindOperator(std::string_view field, bool* is_path) {
  for (const OperatorInfo& op : kOperators) {
    if (field == op.name) {
      *is_path = false;
      return &op;
    }
    if (op.has_path_variant && field.size() == op.name.size() + 4 &&
        field.substr(0, op.name.size()) == op.name && field.substr(op.name.size()) == "Path") {
      *is_path = true;
      return &op;
    }
  }
  return nullptr;
}

bool Holds(Cmp cmp, int c) {
  switch (cmp) {
    case Cmp::kEq:
      return c == 0;
    case Cmp::kLt:
      return c < 0;
    case Cmp::kGt:
      return c > 0;
    case Cmp::kLe:
      return c <= 0;
    case Cmp::kGe:
      return c >= 0;
  }
  return false;
}

bool IsTimestampValue(const Json& v) {
  return v.is_string() && ParseTimestamp(v.get_ref<const std::string&>()).has_value();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public timestamp functions.

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  size_t i = 0;
  auto digits = [&](size_t n, int64_t* out) {
    if (i + n > s.size()) return false;
    int64_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    *out = v;
    return true;
  };
  auto literal = [&](char c) {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  };
  int64_t year, month, day, hour, minute, second;
  // RFC 3339 date-time; the States Language adds: an uppercase 'T', and 'Z' uppercase.
  if (!digits(4, &year) || !literal('-') || !digits(2, &month) || !literal('-') ||
      !digits(2, &day) || !literal('T') || !digits(2, &hour) || !literal(':') ||
      !digits(2, &minute) || !literal(':') || !digits(2, &second)) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      // Digits past the microsecond are accepted and dropped (truncation keeps the order).
      if (n < 6) micros = micros * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return std::nullopt;
    for (size_t k = n; k < 6; ++k) micros *= 10;
  }
  int64_t offset_seconds = 0;
  if (literal('Z')) {
    // UTC.
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int64_t sign = s[i] == '-' ? -1 : 1;
    ++i;
    int64_t oh, om;
    if (!digits(2, &oh) || !literal(':') || !digits(2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;  // no zone: a local time is not an instant
  }
  if (i != s.size()) return std::nullopt;
  // Leap seconds (":60") are refused: Java's ISO offset parser, which AWS's service is built on,
  // refuses them too, and an instant cannot name one.
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1000000 + micros;
}

std::string FormatTimestamp(int64_t micros) {
  const int64_t seconds = FloorDiv(micros, 1000000);
  const int64_t millis = (micros - seconds * 1000000) / 1000;
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t in_day = seconds - days * 86400;
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(in_day / 3600), static_cast<long long>(in_day / 60 % 60),
                static_cast<long long>(in_day % 60), static_cast<long long>(millis));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// The rule tree.

struct ChoiceRule::Node {
  enum class Kind { kAnd, kOr, kNot, kTest };
  Kind kind = Kind::kTest;
  std::vector<Node> children;  // And/Or: the rules in order; Not: exactly one

  // kTest.
  std::string field;  // the operator's field, e.g. "NumericEqualsPath" (for messages)
  Family family = Family::kString;
  Cmp cmp = Cmp::kEq;
  std::optional<JsonPath> variable;
  std::optional<JsonPath> operand_path;  // the *Path forms
  Json literal;                          // String*/Numeric*/BooleanEquals literal
  int64_t literal_micros = 0;            // Timestamp* literal
  bool expected = true;                  // Is* value
  Pattern pattern;                       // StringMatches
};

namespace {

using RuleNode = ChoiceRule::Node;

Status FieldError(std::string_view where, std::string_view field, std::string_view what) {
  std::string m(where);
  m += '.';
  m += field;
  m += ": ";
  m += what;
  return InvalidArgumentError(std::move(m));
}

Result<JsonPath> ParseReferencePath(const Json& value, std::string_view where,
                                    std::string_view field) {
  if (!value.is_string()) return FieldError(where, field, "expected a path (a string)");
  const auto& text = value.get_ref<const std::string&>();
  Result<JsonPath> path = JsonPath::Parse(text);
  if (!path.ok()) return FieldError(where, field, path.status().message());
  // AWS: "The values of Variable and Path fields in a comparison must be valid reference paths."
  if (!path->is_reference()) {
    return FieldError(where, field,
                      "'" + text + "' must be a reference path (names and indexes only)");
  }
  return path;
}

// Rules nest without a documented AWS limit; parsing and evaluation recurse, so a cap keeps a
// hostile definition from exhausting the stack. No real definition comes near it.
constexpr int kMaxRuleNesting = 500;

Status ParseOperand(const Json& value, const OperatorInfo& op, bool is_path, std::string_view where,
                    std::string_view field, RuleNode* node) {
  node->family = op.family;
  node->cmp = op.cmp;
  node->field = std::string(field);
  if (is_path) {
    LOTE_ASSIGN_OR_RETURN(node->operand_path, ParseReferencePath(value, where, field));
    return Status::Ok();
  }
  switch (op.family) {
    case Family::kString:
      if (!value.is_string()) return FieldError(where, field, "expected a string");
      node->literal = value;
      break;
    case Family::kStringMatches:
      if (!value.is_string()) return FieldError(where, field, "expected a string");
      node->literal = value;
      node->pattern = CompilePattern(value.get_ref<const std::string&>());
      break;
    case Family::kNumeric:
      if (!value.is_number()) return FieldError(where, field, "expected a number");
      node->literal = value;
      break;
    case Family::kBoolean:
      if (!value.is_boolean()) return FieldError(where, field, "expected true or false");
      node->literal = value;
      break;
    case Family::kTimestamp: {
      std::optional<int64_t> t;
      if (value.is_string()) t = ParseTimestamp(value.get_ref<const std::string&>());
      if (!t) {
        return FieldError(where, field,
                          "expected a timestamp string (RFC 3339 with an uppercase T and Z or a "
                          "numeric offset, e.g. \"2016-03-14T01:59:00Z\")");
      }
      node->literal = value;
      node->literal_micros = *t;
      break;
    }
    case Family::kIsNull:
    case Family::kIsPresent:
    case Family::kIsNumeric:
    case Family::kIsString:
    case Family::kIsBoolean:
    case Family::kIsTimestamp:
      if (!value.is_boolean()) return FieldError(where, field, "expected true or false");
      node->expected = value.get<bool>();
      break;
  }
  return Status::Ok();
}

Result<RuleNode> ParseNode(const Json& rule, bool top_level, std::string_view where, int depth) {
  if (depth > kMaxRuleNesting) {
    return InvalidArgumentError(std::string(where) + ": choice rules nest deeper than " +
                                std::to_string(kMaxRuleNesting) + " levels");
  }
  if (!rule.is_object()) {
    return InvalidArgumentError(std::string(where) + ": a choice rule must be a JSON object");
  }
  const Json* next = nullptr;
  const Json* variable = nullptr;
  std::string op_field;  // the one operator field (a comparison or And/Or/Not)
  const Json* op_value = nullptr;
  const OperatorInfo* op = nullptr;
  bool op_is_path = false;
  for (auto it = rule.begin(); it != rule.end(); ++it) {
    const std::string& key = it.key();
    bool is_path = false;
    const OperatorInfo* found = nullptr;
    if (key == "Next") {
      next = &it.value();
      continue;
    }
    if (key == "Variable") {
      variable = &it.value();
      continue;
    }
    if (key == "Comment") {
      // Workflow Studio writes a Comment on choice rules and AWS accepts it.
      if (!it.value().is_string()) return FieldError(where, key, "expected a string");
      continue;
    }
    if (key != "And" && key != "Or" && key != "Not") {
      found = FindOperator(key, &is_path);
      if (found == nullptr) return FieldError(where, key, "unknown field in a choice rule");
    }
    if (op_value != nullptr) {
      return FieldError(where, key,
                        "a choice rule has exactly one comparison operator, and " + op_field +
                            " is already given");
    }
    op_field = key;
    op_value = &it.value();
    op = found;
    op_is_path = is_path;
  }

  if (top_level && next == nullptr) {
    return FieldError(where, "Next", "required on a top-level choice rule");
  }
  if (!top_level && next != nullptr) {
    return FieldError(where, "Next", "not allowed in a rule nested inside And, Or or Not");
  }
  if (next != nullptr && (!next->is_string() || next->get_ref<const std::string&>().empty())) {
    return FieldError(where, "Next", "expected a state name (a non-empty string)");
  }
  if (op_value == nullptr) {
    return InvalidArgumentError(std::string(where) +
                                ": a choice rule needs a comparison operator (StringEquals, "
                                "NumericLessThan, IsPresent, ...) or And, Or, Not");
  }

  RuleNode node;
  if (op == nullptr) {  // And / Or / Not
    if (variable != nullptr) {
      return FieldError(where, "Variable", "not allowed with " + op_field);
    }
    const std::string child_where = std::string(where) + "." + op_field;
    if (op_field == "Not") {
      node.kind = RuleNode::Kind::kNot;
      if (!op_value->is_object()) {
        return InvalidArgumentError(child_where + ": expected one choice rule (an object)");
      }
      LOTE_ASSIGN_OR_RETURN(RuleNode child, ParseNode(*op_value, false, child_where, depth + 1));
      node.children.push_back(std::move(child));
    } else {
      node.kind = op_field == "And" ? RuleNode::Kind::kAnd : RuleNode::Kind::kOr;
      if (!op_value->is_array() || op_value->empty()) {
        return InvalidArgumentError(child_where + ": expected a non-empty array of choice rules");
      }
      for (size_t k = 0; k < op_value->size(); ++k) {
        const std::string element = child_where + "[" + std::to_string(k) + "]";
        LOTE_ASSIGN_OR_RETURN(RuleNode child, ParseNode((*op_value)[k], false, element, depth + 1));
        node.children.push_back(std::move(child));
      }
    }
    return node;
  }

  if (variable == nullptr) {
    return FieldError(where, "Variable", "required with " + op_field);
  }
  LOTE_ASSIGN_OR_RETURN(node.variable, ParseReferencePath(*variable, where, "Variable"));
  node.kind = RuleNode::Kind::kTest;
  LOTE_RETURN_IF_ERROR(ParseOperand(*op_value, *op, op_is_path, where, op_field, &node));
  return node;
}

StateError MissingPath(const JsonPath& path, std::string_view field, std::string_view role) {
  return RuntimeError("Invalid path '" + path.text() + "': the " + std::string(role) + " of " +
                      std::string(field) + " selects nothing in the " +
                      (path.is_context() ? "context object" : "state input"));
}

// A data test on the Variable's value `v`, against `*operand` (a *Path form's value) or, when
// `operand` is null, the rule's literal. Values of the wrong type make it false.
bool Compare(const RuleNode& n, const Json& v, const Json* operand) {
  const Json& other = operand != nullptr ? *operand : n.literal;
  switch (n.family) {
    case Family::kString:
      if (!v.is_string() || !other.is_string()) return false;
      return Holds(n.cmp, CompareStrings(v.get_ref<const std::string&>(),
                                         other.get_ref<const std::string&>()));
    case Family::kStringMatches:
      return v.is_string() && MatchPattern(n.pattern, v.get_ref<const std::string&>());
    case Family::kNumeric:
      if (!v.is_number() || !other.is_number()) return false;
      return Holds(n.cmp, CompareNumbers(v, other));
    case Family::kBoolean:
      if (!v.is_boolean() || !other.is_boolean()) return false;
      return v.get<bool>() == other.get<bool>();
    case Family::kTimestamp: {
      if (!v.is_string()) return false;
      const std::optional<int64_t> t = ParseTimestamp(v.get_ref<const std::string&>());
      if (!t) return false;
      int64_t o = n.literal_micros;
      if (operand != nullptr) {
        if (!operand->is_string()) return false;
        const std::optional<int64_t> ot = ParseTimestamp(operand->get_ref<const std::string&>());
        if (!ot) return false;
        o = *ot;
      }
      return Holds(n.cmp, *t < o ? -1 : (*t > o ? 1 : 0));
    }
    case Family::kIsNull:
      return v.is_null() == n.expected;
    case Family::kIsNumeric:
      return v.is_number() == n.expected;
    case Family::kIsString:
      return v.is_string() == n.expected;
    case Family::kIsBoolean:
      return v.is_boolean() == n.expected;
    case Family::kIsTimestamp:
      return IsTimestampValue(v) == n.expected;
    case Family::kIsPresent:
      return n.expected;  // present (absence is handled by the caller)
  }
  return false;
}

Outcome<bool> Evaluate(const RuleNode& n, const Json& input, const Json& context) {
  switch (n.kind) {
    case RuleNode::Kind::kAnd:
    case RuleNode::Kind::kOr: {
      // The spec: evaluation stops once the result is decided, so a later rule's error is not
      // reached.
      const bool is_and = n.kind == RuleNode::Kind::kAnd;
      for (const RuleNode& child : n.children) {
        Outcome<bool> r = Evaluate(child, input, context);
        if (!r.ok()) return r;
        if (r.value() != is_and) return !is_and;
      }
      return is_and;
    }
    case RuleNode::Kind::kNot: {
      Outcome<bool> r = Evaluate(n.children.front(), input, context);
      if (!r.ok()) return r;
      return !r.value();
    }
    case RuleNode::Kind::kTest:
      break;
  }
  const std::optional<Json> v = n.variable->Select(input, context);
  if (n.family == Family::kIsPresent) return v.has_value() == n.expected;
  if (!v) return MissingPath(*n.variable, n.field, "Variable");
  std::optional<Json> operand;
  if (n.operand_path) {
    operand = n.operand_path->Select(input, context);
    if (!operand) return MissingPath(*n.operand_path, n.field, "path");
  }
  if (n.family == Family::kStringMatches && n.pattern.open_escape) {
    // The spec: "If an open escape backslash \ is found in the StringMatches string, the
    // interpreter will throw a runtime error." (Not a definition error, so it surfaces here.)
    return RuntimeError("StringMatches pattern '" + n.literal.get<std::string>() +
                        "' has a backslash that escapes neither '*' nor '\\'");
  }
  return Compare(n, *v, operand ? &*operand : nullptr);
}

}  // namespace

Result<ChoiceRule> ChoiceRule::Parse(const Json& rule, bool top_level, std::string_view where) {
  LOTE_ASSIGN_OR_RETURN(RuleNode root, ParseNode(rule, top_level, where, 0));
  ChoiceRule out;
  if (top_level) out.next_ = rule.at("Next").get<std::string>();
  out.root_ = std::make_shared<const RuleNode>(std::move(root));
  return out;
}

Outcome<bool> ChoiceRule::Matches(const Json& input, const Json& context) const {
  if (root_ == nullptr) return RuntimeError("choice rule used before it was parsed");
  return Evaluate(*root_, input, context);
}

}  // namespace lote::flow
