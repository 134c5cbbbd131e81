// JSONPath for the Amazon States Language: parsing paths into steps once, selecting from a
// document without copying until the result is built, ResultPath placement, "key.$" values
// (PathOrIntrinsic) and payload templates. Intrinsic functions live in intrinsics.cc.
#include "lote/flow/json_path.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flow/flow_internal.h"

namespace lote::flow {
namespace path_internal {
struct Filter;
}  // namespace path_internal

struct JsonPath::Step {
  enum class Kind { kName, kIndex, kWildcard, kSlice, kNames, kIndexes, kFilter };
  Kind kind = Kind::kName;
  bool deep = false;  // preceded by ".." (applies to the node and every descendant)
  std::string name;
  int64_t index = 0;
  std::optional<int64_t> start;
  std::optional<int64_t> end;
  int64_t step = 1;
  std::vector<std::string> names;
  std::vector<int64_t> indexes;
  std::shared_ptr<const path_internal::Filter> filter;
};

namespace path_internal {

using Step = JsonPath::Step;

// One side of a filter comparison: "@.a.b" (the candidate), "$.x" (the document's root) or a
// literal. Paths inside filters are names and indexes only.
struct Operand {
  enum class Kind { kCurrent, kRoot, kLiteral };
  Kind kind = Kind::kLiteral;
  std::vector<Step> steps;
  Json literal;
};

struct Filter {
  enum class Op { kOr, kAnd, kNot, kExists, kEq, kNe, kLt, kLe, kGt, kGe };
  Op op = Op::kExists;
  std::unique_ptr<Filter> left;
  std::unique_ptr<Filter> right;
  Operand a;
  Operand b;
};

namespace {

constexpr int kMaxFilterDepth = 32;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  // The whole path: "$" or "$$" then steps.
  Status ParsePath(bool* context, std::vector<Step>* steps) {
    if (text_.empty() || text_[0] != '$') return Fail("a path must start with '$'");
    pos_ = 1;
    *context = false;
    if (pos_ < text_.size() && text_[pos_] == '$') {
      *context = true;
      ++pos_;
    }
    while (pos_ < text_.size()) {
      Step step;
      LOTE_RETURN_IF_ERROR(ParseStep(/*in_filter=*/false, &step));
      steps->push_back(std::move(step));
    }
    return Status::Ok();
  }

 private:
  Status Fail(std::string what) const {
    return InvalidArgumentError("invalid path '" + std::string(text_) + "': " + what +
                                " (at position " + std::to_string(pos_) + ")");
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void SkipSpaces() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }

  // Characters that end a dot-notation name. Inside a filter, operators and brackets do too.
  static bool EndsName(char c, bool in_filter) {
    if (c == '.' || c == '[') return true;
    if (in_filter) {
      return IsSpace(c) || c == ')' || c == ']' || c == '=' || c == '!' || c == '<' || c == '>' ||
             c == '&' || c == '|' || c == ',';
    }
    return false;
  }

  Status ParseStep(bool in_filter, Step* step) {
    char c = Peek();
    if (c == '.') {
      ++pos_;
      if (Peek() == '.') {
        if (in_filter) return Fail("deep scan '..' is not allowed inside a filter");
        ++pos_;
        step->deep = true;
        if (Peek() == '[') return ParseBracket(in_filter, step);
      }
      if (Peek() == '*') {
        if (in_filter) return Fail("'*' is not allowed inside a filter");
        ++pos_;
        step->kind = Step::Kind::kWildcard;
        return Status::Ok();
      }
      size_t start = pos_;
      while (!AtEnd() && !EndsName(text_[pos_], in_filter)) {
        char n = text_[pos_];
        if (IsSpace(n) || n == ']' || n == '\'' || n == '"' || n == '(' || n == ')' || n == '*') {
          return Fail(std::string("unexpected '") + n + "' in a name (use ['...'] for it)");
        }
        ++pos_;
      }
      if (pos_ == start) return Fail("expected a name after '.'");
      step->kind = Step::Kind::kName;
      step->name = std::string(text_.substr(start, pos_ - start));
      return Status::Ok();
    }
    if (c == '[') return ParseBracket(in_filter, step);
    return Fail(std::string("unexpected '") + c + "', expected '.' or '['");
  }

  Status ParseQuoted(std::string* out) {
    char quote = Peek();
    ++pos_;
    while (true) {
      if (AtEnd()) return Fail("unterminated quoted name");
      char c = text_[pos_++];
      if (c == quote) return Status::Ok();
      if (c == '\\') {
        if (AtEnd()) return Fail("unterminated quoted name");
        char e = text_[pos_++];
        if (e != '\'' && e != '"' && e != '\\') {
          return Fail(std::string("unknown escape '\\") + e + "'");
        }
        out->push_back(e);
      } else {
        out->push_back(c);
      }
    }
  }

  bool ParseInt(int64_t* out) {
    size_t start = pos_;
    if (Peek() == '-') ++pos_;
    size_t digits = pos_;
    while (!AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == digits || pos_ - digits > 18) {
      pos_ = start;
      return false;
    }
    *out = std::strtoll(std::string(text_.substr(start, pos_ - start)).c_str(), nullptr, 10);
    return true;
  }

  Status ExpectClose() {
    SkipSpaces();
    if (Peek() != ']') return Fail("expected ']'");
    ++pos_;
    return Status::Ok();
  }

  Status ParseBracket(bool in_filter, Step* step) {
    ++pos_;  // '['
    SkipSpaces();
    char c = Peek();
    if (c == '*') {
      if (in_filter) return Fail("'*' is not allowed inside a filter");
      ++pos_;
      step->kind = Step::Kind::kWildcard;
      return ExpectClose();
    }
    if (c == '?') {
      if (in_filter) return Fail("nested filters are not supported");
      ++pos_;
      SkipSpaces();
      auto filter = std::make_unique<Filter>();
      LOTE_RETURN_IF_ERROR(ParseOr(0, filter.get()));
      step->kind = Step::Kind::kFilter;
      step->filter = std::move(filter);
      return ExpectClose();
    }
    if (c == '\'' || c == '"') {
      std::vector<std::string> names;
      while (true) {
        SkipSpaces();
        if (Peek() != '\'' && Peek() != '"') return Fail("expected a quoted name");
        std::string name;
        LOTE_RETURN_IF_ERROR(ParseQuoted(&name));
        names.push_back(std::move(name));
        SkipSpaces();
        if (Peek() != ',') break;
        ++pos_;
      }
      if (names.size() == 1) {
        step->kind = Step::Kind::kName;
        step->name = std::move(names[0]);
      } else {
        if (in_filter) return Fail("unions are not allowed inside a filter");
        step->kind = Step::Kind::kNames;
        step->names = std::move(names);
      }
      return ExpectClose();
    }
    // Index, union of indexes or slice.
    std::optional<int64_t> first;
    int64_t value = 0;
    if (ParseInt(&value)) first = value;
    SkipSpaces();
    if (Peek() == ':') {
      if (in_filter) return Fail("slices are not allowed inside a filter");
      ++pos_;
      step->kind = Step::Kind::kSlice;
      step->start = first;
      SkipSpaces();
      if (ParseInt(&value)) step->end = value;
      SkipSpaces();
      if (Peek() == ':') {
        ++pos_;
        SkipSpaces();
        if (ParseInt(&value)) {
          if (value == 0) return Fail("a slice's step cannot be 0");
          step->step = value;
        }
      }
      return ExpectClose();
    }
    if (!first) return Fail("expected an index, a slice, '*', '?' or a quoted name after '['");
    if (Peek() == ',') {
      if (in_filter) return Fail("unions are not allowed inside a filter");
      step->kind = Step::Kind::kIndexes;
      step->indexes.push_back(*first);
      while (Peek() == ',') {
        ++pos_;
        SkipSpaces();
        if (!ParseInt(&value)) return Fail("expected an index after ','");
        step->indexes.push_back(value);
        SkipSpaces();
      }
      return ExpectClose();
    }
    step->kind = Step::Kind::kIndex;
    step->index = *first;
    return ExpectClose();
  }

  // Filter grammar: or := and ('||' and)*; and := unary ('&&' unary)*;
  // unary := '!' unary | '(' or ')' | operand [cmp operand].
  Status ParseOr(int depth, Filter* out) {
    if (depth > kMaxFilterDepth) return Fail("filter expression nested too deeply");
    Filter left;
    LOTE_RETURN_IF_ERROR(ParseAnd(depth + 1, &left));
    SkipSpaces();
    while (Peek() == '|' && Peek(1) == '|') {
      pos_ += 2;
      auto right = std::make_unique<Filter>();
      LOTE_RETURN_IF_ERROR(ParseAnd(depth + 1, right.get()));
      Filter node;
      node.op = Filter::Op::kOr;
      node.left = std::make_unique<Filter>(std::move(left));
      node.right = std::move(right);
      left = std::move(node);
      SkipSpaces();
    }
    *out = std::move(left);
    return Status::Ok();
  }

  Status ParseAnd(int depth, Filter* out) {
    Filter left;
    LOTE_RETURN_IF_ERROR(ParseUnary(depth + 1, &left));
    SkipSpaces();
    while (Peek() == '&' && Peek(1) == '&') {
      pos_ += 2;
      auto right = std::make_unique<Filter>();
      LOTE_RETURN_IF_ERROR(ParseUnary(depth + 1, right.get()));
      Filter node;
      node.op = Filter::Op::kAnd;
      node.left = std::make_unique<Filter>(std::move(left));
      node.right = std::move(right);
      left = std::move(node);
      SkipSpaces();
    }
    *out = std::move(left);
    return Status::Ok();
  }

  Status ParseUnary(int depth, Filter* out) {
    if (depth > kMaxFilterDepth) return Fail("filter expression nested too deeply");
    SkipSpaces();
    if (Peek() == '!' && Peek(1) != '=') {
      ++pos_;
      out->op = Filter::Op::kNot;
      out->left = std::make_unique<Filter>();
      return ParseUnary(depth + 1, out->left.get());
    }
    if (Peek() == '(') {
      ++pos_;
      LOTE_RETURN_IF_ERROR(ParseOr(depth + 1, out));
      SkipSpaces();
      if (Peek() != ')') return Fail("expected ')' in the filter");
      ++pos_;
      return Status::Ok();
    }
    LOTE_RETURN_IF_ERROR(ParseOperand(&out->a));
    SkipSpaces();
    std::optional<Filter::Op> op;
    char c = Peek();
    char d = Peek(1);
    if (c == '=' && d == '=') {
      op = Filter::Op::kEq;
      pos_ += 2;
    } else if (c == '!' && d == '=') {
      op = Filter::Op::kNe;
      pos_ += 2;
    } else if (c == '<' && d == '=') {
      op = Filter::Op::kLe;
      pos_ += 2;
    } else if (c == '>' && d == '=') {
      op = Filter::Op::kGe;
      pos_ += 2;
    } else if (c == '<') {
      op = Filter::Op::kLt;
      ++pos_;
    } else if (c == '>') {
      op = Filter::Op::kGt;
      ++pos_;
    } else if (c == '=') {
      return Fail("use '==' to compare");
    }
    if (!op) {
      if (out->a.kind == Operand::Kind::kLiteral) return Fail("expected a comparison");
      out->op = Filter::Op::kExists;
      return Status::Ok();
    }
    out->op = *op;
    SkipSpaces();
    return ParseOperand(&out->b);
  }

  Status ParseOperand(Operand* out) {
    char c = Peek();
    if (c == '@' || c == '$') {
      out->kind = c == '@' ? Operand::Kind::kCurrent : Operand::Kind::kRoot;
      ++pos_;
      if (c == '$' && Peek() == '$') return Fail("'$$' is not allowed inside a filter");
      while (Peek() == '.' || Peek() == '[') {
        Step step;
        LOTE_RETURN_IF_ERROR(ParseStep(/*in_filter=*/true, &step));
        if (step.kind != Step::Kind::kName && step.kind != Step::Kind::kIndex) {
          return Fail("only names and indexes are allowed in a filter's paths");
        }
        out->steps.push_back(std::move(step));
      }
      return Status::Ok();
    }
    out->kind = Operand::Kind::kLiteral;
    if (c == '\'' || c == '"') {
      std::string s;
      LOTE_RETURN_IF_ERROR(ParseQuoted(&s));
      out->literal = std::move(s);
      return Status::Ok();
    }
    if (text_.substr(pos_, 4) == "true") {
      pos_ += 4;
      out->literal = true;
      return Status::Ok();
    }
    if (text_.substr(pos_, 5) == "false") {
      pos_ += 5;
      out->literal = false;
      return Status::Ok();
    }
    if (text_.substr(pos_, 4) == "null") {
      pos_ += 4;
      out->literal = nullptr;
      return Status::Ok();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      if (Peek() == '-') ++pos_;
      while (!AtEnd()) {
        char n = text_[pos_];
        bool exponent_sign =
            (n == '+' || n == '-') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E');
        bool number_char = (n >= '0' && n <= '9') || n == '.' || n == 'e' || n == 'E';
        if (!number_char && !exponent_sign) break;
        ++pos_;
      }
      std::string number(text_.substr(start, pos_ - start));
      Json parsed = Json::parse(number, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded() || !parsed.is_number()) {
        pos_ = start;
        return Fail("bad number '" + number + "'");
      }
      out->literal = std::move(parsed);
      return Status::Ok();
    }
    return Fail("expected '@', '$', a string, a number, true, false or null in the filter");
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Walks names and indexes (a reference path, or a filter operand). Null when absent.
const Json* Walk(const std::vector<Step>& steps, const Json* node) {
  for (const Step& step : steps) {
    if (step.kind == Step::Kind::kName) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(step.name);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else {
      if (!node->is_array()) return nullptr;
      int64_t size = static_cast<int64_t>(node->size());
      int64_t i = step.index < 0 ? step.index + size : step.index;
      if (i < 0 || i >= size) return nullptr;
      node = &(*node)[static_cast<size_t>(i)];
    }
  }
  return node;
}

const Json* Resolve(const Operand& operand, const Json& current, const Json& root) {
  switch (operand.kind) {
    case Operand::Kind::kCurrent:
      return Walk(operand.steps, &current);
    case Operand::Kind::kRoot:
      return Walk(operand.steps, &root);
    case Operand::Kind::kLiteral:
      return &operand.literal;
  }
  return nullptr;
}

// Comparison as Jayway's JsonPath (which Step Functions uses) does it: numbers numerically,
// strings lexicographically; values of different types are unequal and unordered.
bool Compare(const Json& a, const Json& b, Filter::Op op) {
  int cmp = 0;
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) {
      double x = a.get<double>();
      double y = b.get<double>();
      cmp = x < y ? -1 : (x > y ? 1 : 0);
    } else if (a.is_number_unsigned() || b.is_number_unsigned()) {
      // Mixed signed/unsigned: compare through long double to keep large values ordered.
      long double x = a.get<long double>();
      long double y = b.get<long double>();
      cmp = x < y ? -1 : (x > y ? 1 : 0);
    } else {
      int64_t x = a.get<int64_t>();
      int64_t y = b.get<int64_t>();
      cmp = x < y ? -1 : (x > y ? 1 : 0);
    }
  } else if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    bool equal = a.type() == b.type() && a == b;
    if (op == Filter::Op::kEq) return equal;
    if (op == Filter::Op::kNe) return !equal;
    return false;
  }
  switch (op) {
    case Filter::Op::kEq:
      return cmp == 0;
    case Filter::Op::kNe:
      return cmp != 0;
    case Filter::Op::kLt:
      return cmp < 0;
    case Filter::Op::kLe:
      return cmp <= 0;
    case Filter::Op::kGt:
      return cmp > 0;
    case Filter::Op::kGe:
      return cmp >= 0;
    default:
      return false;
  }
}

bool Matches(const Filter& f, const Json& current, const Json& root) {
  switch (f.op) {
    case Filter::Op::kOr:
      return Matches(*f.left, current, root) || Matches(*f.right, current, root);
    case Filter::Op::kAnd:
      return Matches(*f.left, current, root) && Matches(*f.right, current, root);
    case Filter::Op::kNot:
      return !Matches(*f.left, current, root);
    case Filter::Op::kExists:
      return Resolve(f.a, current, root) != nullptr;
    default: {
      const Json* a = Resolve(f.a, current, root);
      const Json* b = Resolve(f.b, current, root);
      if (a == nullptr || b == nullptr) return false;  // a missing operand matches nothing
      return Compare(*a, *b, f.op);
    }
  }
}

void ApplyStep(const Step& step, const Json& node, const Json& root,
               std::vector<const Json*>* out) {
  switch (step.kind) {
    case Step::Kind::kName:
      if (node.is_object()) {
        auto it = node.find(step.name);
        if (it != node.end()) out->push_back(&*it);
      }
      return;
    case Step::Kind::kNames:
      if (node.is_object()) {
        for (const std::string& name : step.names) {
          auto it = node.find(name);
          if (it != node.end()) out->push_back(&*it);
        }
      }
      return;
    case Step::Kind::kIndex:
    case Step::Kind::kIndexes: {
      if (!node.is_array()) return;
      int64_t size = static_cast<int64_t>(node.size());
      auto add = [&](int64_t index) {
        int64_t i = index < 0 ? index + size : index;
        if (i >= 0 && i < size) out->push_back(&node[static_cast<size_t>(i)]);
      };
      if (step.kind == Step::Kind::kIndex) {
        add(step.index);
      } else {
        for (int64_t index : step.indexes) add(index);
      }
      return;
    }
    case Step::Kind::kWildcard:
      if (node.is_object() || node.is_array()) {
        for (const Json& child : node) out->push_back(&child);
      }
      return;
    case Step::Kind::kSlice: {
      if (!node.is_array()) return;
      int64_t n = static_cast<int64_t>(node.size());
      int64_t s = step.step;
      if (s > 0) {
        int64_t b = step.start.value_or(0);
        int64_t e = step.end.value_or(n);
        if (b < 0) b += n;
        if (e < 0) e += n;
        b = std::clamp<int64_t>(b, 0, n);
        e = std::clamp<int64_t>(e, 0, n);
        for (int64_t i = b; i < e; i += s) out->push_back(&node[static_cast<size_t>(i)]);
      } else {
        int64_t b = step.start.value_or(n - 1);
        if (step.start && b < 0) b += n;
        b = std::clamp<int64_t>(b, -1, n - 1);
        int64_t e = -1;
        if (step.end) {
          e = *step.end < 0 ? *step.end + n : *step.end;
          e = std::clamp<int64_t>(e, -1, n - 1);
        }
        for (int64_t i = b; i > e; i += s) out->push_back(&node[static_cast<size_t>(i)]);
      }
      return;
    }
    case Step::Kind::kFilter:
      // As in Jayway's JsonPath: a filter tests each element of an array, and an object itself.
      if (node.is_array()) {
        for (const Json& child : node) {
          if (Matches(*step.filter, child, root)) out->push_back(&child);
        }
      } else if (node.is_object()) {
        if (Matches(*step.filter, node, root)) out->push_back(&node);
      }
      return;
  }
}

void ApplyDeep(const Step& step, const Json& node, const Json& root,
               std::vector<const Json*>* out) {
  ApplyStep(step, node, root, out);
  if (node.is_object() || node.is_array()) {
    for (const Json& child : node) ApplyDeep(step, child, root, out);
  }
}

}  // namespace
}  // namespace path_internal

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  JsonPath path;
  path.text_ = std::string(text);
  auto steps = std::make_shared<std::vector<Step>>();
  path_internal::PathParser parser(text);
  LOTE_RETURN_IF_ERROR(parser.ParsePath(&path.context_, steps.get()));
  path.reference_ = std::all_of(steps->begin(), steps->end(), [](const Step& s) {
    return !s.deep && (s.kind == Step::Kind::kName || s.kind == Step::Kind::kIndex);
  });
  path.steps_ = std::move(steps);
  return path;
}

std::optional<Json> JsonPath::Select(const Json& input, const Json& context) const {
  const Json& root = context_ ? context : input;
  if (steps_ == nullptr) return std::nullopt;  // a default-constructed (moved-from) path
  if (reference_) {
    const Json* node = path_internal::Walk(*steps_, &root);
    if (node == nullptr) return std::nullopt;
    return *node;
  }
  std::vector<const Json*> current{&root};
  std::vector<const Json*> next;
  for (const Step& step : *steps_) {
    next.clear();
    for (const Json* node : current) {
      if (step.deep) {
        path_internal::ApplyDeep(step, *node, root, &next);
      } else {
        path_internal::ApplyStep(step, *node, root, &next);
      }
    }
    current.swap(next);
    if (current.empty()) break;
  }
  Json out = Json::array();
  auto& array = out.get_ref<Json::array_t&>();
  array.reserve(current.size());
  for (const Json* node : current) array.push_back(*node);
  return out;
}

namespace {

StateError PlaceFailure(const JsonPath& path, const std::string& why) {
  return StateError{kStatesResultPathMatchFailure,
                    "Unable to apply ReferencePath " + path.text() + " to the input: " + why};
}

}  // namespace

Outcome<Json> PlaceAt(const JsonPath& path, Json input, Json result) {
  if (path.is_context() || !path.is_reference() || path.steps_ == nullptr) {
    return RuntimeError("ResultPath " + path.text() + " must be a reference path on the input");
  }
  const std::vector<JsonPath::Step>& steps = *path.steps_;
  if (steps.empty()) return result;
  Json* node = &input;
  std::string where = "$";
  for (size_t i = 0; i < steps.size(); ++i) {
    const JsonPath::Step& step = steps[i];
    bool last = i + 1 == steps.size();
    if (step.kind == JsonPath::Step::Kind::kName) {
      if (!node->is_object()) {
        return PlaceFailure(path, where + " is " + JsonTypePhrase(*node) + ", not an object");
      }
      auto it = node->find(step.name);
      if (last) {
        if (it == node->end()) {
          node->get_ref<Json::object_t&>().Container::emplace_back(step.name, std::move(result));
        } else {
          *it = std::move(result);
        }
        return input;
      }
      if (it == node->end()) {
        // Missing objects on the way are created, as AWS does.
        auto& object = node->get_ref<Json::object_t&>();
        object.Container::emplace_back(step.name, Json::object());
        node = &object.back().second;
      } else {
        node = &*it;
      }
      where += "." + step.name;
    } else {
      if (!node->is_array()) {
        return PlaceFailure(path, where + " is " + JsonTypePhrase(*node) + ", not an array");
      }
      int64_t size = static_cast<int64_t>(node->size());
      int64_t index = step.index < 0 ? step.index + size : step.index;
      if (index < 0 || index >= size) {
        return PlaceFailure(path, "index " + std::to_string(step.index) + " is out of range for " +
                                      where + " (" + std::to_string(size) + " elements)");
      }
      Json& element = (*node)[static_cast<size_t>(index)];
      if (last) {
        element = std::move(result);
        return input;
      }
      node = &element;
      // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on a literal + std::string.
      where.append("[").append(std::to_string(step.index)).append("]");
    }
  }
  return input;
}

// ---------------------------------------------------------------------------------------------
// PathOrIntrinsic

Result<PathOrIntrinsic> PathOrIntrinsic::Parse(std::string_view text) {
  PathOrIntrinsic out;
  if (Intrinsic::Looks(text)) {
    LOTE_ASSIGN_OR_RETURN(Intrinsic intrinsic, Intrinsic::Parse(text));
    out.intrinsic_ = std::move(intrinsic);
    return out;
  }
  if (text.empty() || text[0] != '$') {
    return InvalidArgumentError(
        "expected a path ('$...') or an intrinsic function "
        "('States.Name(...)'), got '" +
        std::string(text) + "'");
  }
  LOTE_ASSIGN_OR_RETURN(JsonPath path, JsonPath::Parse(text));
  out.path_ = std::move(path);
  return out;
}

const std::string& PathOrIntrinsic::text() const {
  static const std::string kEmpty;
  if (path_) return path_->text();
  if (intrinsic_) return intrinsic_->text();
  return kEmpty;
}

Outcome<Json> PathOrIntrinsic::Evaluate(const Json& input, const Json& context,
                                        const char* missing_error) const {
  if (intrinsic_) return intrinsic_->Evaluate(input, context);
  if (!path_) return RuntimeError("empty path");
  std::optional<Json> value = path_->Select(input, context);
  // An indefinite path gives a list; one that matched nothing fails like a missing node (the
  // header's contract; AWS documents only the reference-path case).
  if (!value || (!path_->is_reference() && value->empty())) {
    return StateError{missing_error, "The JSONPath '" + path_->text() +
                                         "' could not be found in the " +
                                         (path_->is_context() ? "context object" : "input")};
  }
  return std::move(*value);
}

// ---------------------------------------------------------------------------------------------
// PayloadTemplate

struct PayloadTemplate::Node {
  enum class Kind { kLiteral, kObject, kArray, kValue };
  Kind kind = Kind::kLiteral;
  std::string key;    // the output key (object members)
  std::string field;  // the template's key as written ("x.$"), for errors
  Json literal;
  std::vector<Node> children;
  std::optional<PathOrIntrinsic> value;
};

namespace {

bool EndsWithDollar(std::string_view key) {
  return key.size() >= 2 && key.substr(key.size() - 2) == ".$";
}

// Whether any object inside `v` has a "key.$" member (otherwise `v` is copied as is).
bool HasDynamic(const Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (EndsWithDollar(it.key()) || HasDynamic(it.value())) return true;
    }
  } else if (v.is_array()) {
    for (const Json& e : v) {
      if (HasDynamic(e)) return true;
    }
  }
  return false;
}

}  // namespace

namespace path_internal {
namespace {

Status ParseTemplateNode(const Json& v, const std::string& where, int depth,
                         PayloadTemplate::Node* out) {
  using Node = PayloadTemplate::Node;
  if (depth > 512) return InvalidArgumentError(where + ": template nested too deeply");
  if (!HasDynamic(v)) {
    out->kind = Node::Kind::kLiteral;
    out->literal = v;
    return Status::Ok();
  }
  if (v.is_array()) {
    out->kind = Node::Kind::kArray;
    out->children.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      Node child;
      LOTE_RETURN_IF_ERROR(
          ParseTemplateNode(v[i], where + "[" + std::to_string(i) + "]", depth + 1, &child));
      out->children.push_back(std::move(child));
    }
    return Status::Ok();
  }
  out->kind = Node::Kind::kObject;
  out->children.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& key = it.key();
    std::string location = where + "." + key;
    Node child;
    child.field = key;
    if (EndsWithDollar(key)) {
      child.key = key.substr(0, key.size() - 2);
      if (!it.value().is_string()) {
        return InvalidArgumentError(location + ": the value of a key ending in '.$' must be a " +
                                    "string (a path or an intrinsic function)");
      }
      Result<PathOrIntrinsic> parsed =
          PathOrIntrinsic::Parse(it.value().get_ref<const std::string&>());
      if (!parsed.ok()) return InvalidArgumentError(location + ": " + parsed.status().message());
      child.kind = Node::Kind::kValue;
      child.value = std::move(parsed).value();
    } else {
      child.key = key;
      LOTE_RETURN_IF_ERROR(ParseTemplateNode(it.value(), location, depth + 1, &child));
    }
    // "a" and "a.$" in one object would both write "a": AWS refuses such a template too.
    for (const Node& other : out->children) {
      if (other.key == child.key) {
        return InvalidArgumentError(location + ": the key '" + child.key + "' is given twice");
      }
    }
    out->children.push_back(std::move(child));
  }
  return Status::Ok();
}

Outcome<Json> EvaluateTemplateNode(const PayloadTemplate::Node& node, const Json& input,
                                   const Json& context) {
  using Node = PayloadTemplate::Node;
  switch (node.kind) {
    case Node::Kind::kLiteral:
      return node.literal;
    case Node::Kind::kValue: {
      // AWS (and Step Functions Local) fail with States.Runtime here, not with the
      // States.ParameterPathFailure the States Language spec names: the execution fails, no Catch
      // applies. The cause names path and field, never the input (it may hold personal data).
      Outcome<Json> value = node.value->Evaluate(input, context, kStatesParameterPathFailure);
      if (!value.ok() && value.error().error == kStatesParameterPathFailure) {
        return StateError{kStatesRuntime, "The JSONPath '" + node.value->text() +
                                              "' specified for the field '" + node.field +
                                              "' could not be found in the input"};
      }
      return value;
    }
    case Node::Kind::kArray: {
      Json out = Json::array();
      auto& array = out.get_ref<Json::array_t&>();
      array.reserve(node.children.size());
      for (const Node& child : node.children) {
        Outcome<Json> value = EvaluateTemplateNode(child, input, context);
        if (!value.ok()) return value.error();
        array.push_back(std::move(value).value());
      }
      return out;
    }
    case Node::Kind::kObject: {
      Json out = Json::object();
      auto& object = out.get_ref<Json::object_t&>();
      object.reserve(node.children.size());
      for (const Node& child : node.children) {
        Outcome<Json> value = EvaluateTemplateNode(child, input, context);
        if (!value.ok()) return value.error();
        // Keys are unique (checked at parse): append without ordered_map's linear search.
        object.Container::emplace_back(child.key, std::move(value).value());
      }
      return out;
    }
  }
  return RuntimeError("bad template node");
}

}  // namespace
}  // namespace path_internal

Result<PayloadTemplate> PayloadTemplate::Parse(const Json& tmpl, std::string_view where) {
  auto root = std::make_shared<Node>();
  LOTE_RETURN_IF_ERROR(path_internal::ParseTemplateNode(tmpl, std::string(where), 0, root.get()));
  PayloadTemplate out;
  out.root_ = std::move(root);
  return out;
}

Outcome<Json> PayloadTemplate::Evaluate(const Json& input, const Json& context) const {
  if (root_ == nullptr) return Json::object();
  return path_internal::EvaluateTemplateNode(*root_, input, context);
}

}  // namespace lote::flow
