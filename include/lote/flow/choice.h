// Choice rules and timestamps of the Amazon States Language.
//
// A Choice state's rules (AWS "Choice Rules"): comparisons of a Variable against a literal or,
// in the *Path variants, against another path (StringEquals, StringLessThan,
// StringGreaterThan(Equals), StringLessThanEquals, StringMatches, NumericEquals, NumericLessThan,
// NumericGreaterThan, NumericLessThanEquals, NumericGreaterThanEquals, BooleanEquals,
// TimestampEquals, TimestampLessThan, ..., and each "...Path"), the type tests IsNull, IsPresent,
// IsNumeric, IsString, IsBoolean, IsTimestamp, and the combinators And, Or, Not.
// Parsed once with the definition (errors name the rule's field, e.g.
// "States.Route.Choices[1].NumericEquals: expected a number"); evaluated per input.
// Thread-safety: immutable after Parse; const methods are thread-safe.
#ifndef LOTE_FLOW_CHOICE_H_
#define LOTE_FLOW_CHOICE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lote/base/status.h"
#include "lote/flow/state_error.h"

namespace lote::flow {

// Parses an RFC 3339 timestamp as the States Language requires it ("2016-03-14T01:59:00Z",
// "2016-03-14T01:59:00.123+01:00": uppercase T, a Z or a numeric offset, fractions to any
// precision) into microseconds since the Unix epoch (UTC). nullopt when `text` is not one.
std::optional<int64_t> ParseTimestamp(std::string_view text);

// "2016-03-14T01:59:00.123Z" (milliseconds, UTC): how the executor writes timestamps
// (context object, history).
std::string FormatTimestamp(int64_t micros);

class ChoiceRule {
 public:
  // Parses one element of a Choices array (`top_level`: it must have Next; nested rules inside
  // And/Or/Not must not). `where` names it in errors ("States.Route.Choices[0]").
  static Result<ChoiceRule> Parse(const Json& rule, bool top_level, std::string_view where);

  // The state this rule leads to (top-level rules only).
  const std::string& next() const { return next_; }

  // Whether `input` matches. A comparison whose Variable (or *Path operand) selects nothing fails
  // with States.Runtime, as AWS does; IsPresent is the way to test for absence. A value of the
  // wrong type makes a comparison false (not an error). StringMatches supports '*' and the
  // escapes "\\*" and "\\\\".
  Outcome<bool> Matches(const Json& input, const Json& context) const;

  struct Node;

 private:
  std::string next_;
  std::shared_ptr<const Node> root_;
};

}  // namespace lote::flow

#endif  // LOTE_FLOW_CHOICE_H_
