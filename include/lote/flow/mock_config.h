// Mocked task responses in AWS Step Functions Local's mock configuration format.
//
//   {"StateMachines": {"pipeline": {"TestCases": {"InferFailsTwice": {"Infer": "InferFlaky"}}}},
//    "MockedResponses": {"InferFlaky": {"0-1": {"Throw": {"Error":
//    "SageMaker.AmazonSageMakerException",
//                                                          "Cause": "capacity"}},
//                                       "2": {"Return": {"TransformJobStatus": "Completed"}}}}}
//
// A test case maps state names to a mocked response; a mocked response maps invocation numbers
// (from 0, single numbers or ranges "1-3") to Return (the task's result) or Throw (Error, Cause).
// An invocation the mocked response does not define (past the last number, or in a gap) fails
// with States.Runtime, as Step Functions Local does ("you must specify a mocked response for every
// invocation"): Response gives a Throw of States.Runtime naming the response and the invocation.
// Thread-safety: immutable after Parse.
#ifndef LOTE_FLOW_MOCK_CONFIG_H_
#define LOTE_FLOW_MOCK_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/flow/definition.h"
#include "lote/flow/state_error.h"

namespace lote::flow {

struct MockedResponse {
  std::optional<Json> returned;      // Return
  std::optional<StateError> thrown;  // Throw
};

// The mocks of one test case: state name -> invocation responses.
class MockCase {
 public:
  // The response for the `invocation`-th call (from 0, counted per state over the whole
  // execution, retries included) of the Task state `state`, or null when the state is not mocked
  // in this case (it then runs for real). Never null for a mocked state: an undefined invocation
  // gets a Throw of States.Runtime.
  const MockedResponse* Response(std::string_view state, int invocation) const;
  bool Mocks(std::string_view state) const;

  struct Range {
    int first;
    int last;
    MockedResponse response;
  };

 private:
  friend class MockConfig;
  std::map<std::string, std::vector<Range>, std::less<>> states_;
};

class MockConfig {
 public:
  // Parses the file's text; errors name `source` and the JSON location
  // ("mocks.json: MockedResponses.InferFlaky.0-1: expected Return or Throw").
  static Result<MockConfig> Parse(std::string_view json_text, std::string_view source);

  // The test case `test_case` of state machine `state_machine` (when empty: the only state machine
  // the file has). Checks that every state it mocks exists in `machine` (nested Map and Parallel
  // states included) and is a Task, and that every response it names exists: errors name the file,
  // the test case and the state.
  Result<MockCase> Case(std::string_view state_machine, std::string_view test_case,
                        const StateMachine& machine) const;

 private:
  std::string source_;
  Json doc_;
};

}  // namespace lote::flow

#endif  // LOTE_FLOW_MOCK_CONFIG_H_
