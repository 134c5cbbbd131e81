// What the history stores' tests share: a minimal execution record, and the ids of events.
#ifndef LOTE_TESTS_FLOW_HISTORY_TEST_UTIL_H_
#define LOTE_TESTS_FLOW_HISTORY_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lote/flow/history.h"

namespace lote::flow::testing {

// An execution of a one-Pass-state machine named `name`, started at `start` microseconds.
inline ExecutionRecord Record(const std::string& name, int64_t start) {
  ExecutionRecord r;
  r.name = name;
  r.state_machine = "pipeline";
  r.definition = R"({"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}})";
  r.input = R"({"n":1})";
  r.start_micros = start;
  return r;
}

inline std::vector<int64_t> Ids(const std::vector<HistoryEvent>& events) {
  std::vector<int64_t> ids;
  for (const auto& e : events) ids.push_back(e.id);
  return ids;
}

}  // namespace lote::flow::testing

#endif  // LOTE_TESTS_FLOW_HISTORY_TEST_UTIL_H_
