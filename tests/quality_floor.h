// Quality floors: a measured score (accuracy, F1, recall) checked against a floor set just under
// what the code measures today, and printed next to it on every run, so a regression of a
// point fails and the numbers are in the test log (ctest -V, or the test binary's output).
#ifndef LOTE_TESTS_QUALITY_FLOOR_H_
#define LOTE_TESTS_QUALITY_FLOOR_H_

#include <gtest/gtest.h>

#include <cstdio>

namespace lote::quality {

// Use as EXPECT_TRUE(quality::AtLeast("sample test accuracy", accuracy, 0.97)).
inline ::testing::AssertionResult AtLeast(const char* what, double measured, double floor) {
  std::printf("quality: %s = %.4f (floor %.4f)\n", what, measured, floor);
  if (measured >= floor) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " = " << measured << ", under its floor " << floor
                                       << " (set just under the last measured value)";
}

}  // namespace lote::quality

#endif  // LOTE_TESTS_QUALITY_FLOOR_H_
