#include "lote/base/ordered_executor.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "lote/base/parallel_for.h"

namespace lote {
namespace {

struct Batch {
  std::vector<int> in;
  std::vector<int> out;
};

// Reads `n` numbers in batches of `per_batch`; fails with `fail_at` (when >= 0) before that batch.
std::function<Result<bool>(Batch*)> Reader(int n, int per_batch, int* next, int fail_at = -1) {
  return [=](Batch* b) -> Result<bool> {
    b->in.clear();
    b->out.clear();
    if (fail_at >= 0 && *next >= fail_at)
      return UnavailableError("read failed at " + std::to_string(*next));
    for (int i = 0; i < per_batch && *next < n; ++i) b->in.push_back((*next)++);
    return !b->in.empty();
  };
}

std::function<std::function<Status(Batch*)>()> Squarer(std::atomic<int>* workers_made) {
  return [workers_made] {
    ++*workers_made;
    return [](Batch* b) -> Status {
      for (int v : b->in) b->out.push_back(v * v);
      return Status::Ok();
    };
  };
}

TEST(OrderedExecutor, WritesEveryBatchInReadOrderWhateverTheThreadCount) {
  for (int threads : {1, 2, 7}) {
    int next = 0;
    std::atomic<int> made{0};
    std::vector<int> got;
    OrderedExecutorOptions o;
    o.threads = threads;
    Status s = RunOrdered<Batch>(o, Reader(10000, 37, &next), Squarer(&made), [&](Batch* b) {
      got.insert(got.end(), b->out.begin(), b->out.end());
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(made.load(), threads);
    ASSERT_EQ(got.size(), 10000u);
    for (int i = 0; i < 10000; ++i) ASSERT_EQ(got[i], i * i) << "threads " << threads;
  }
}

TEST(OrderedExecutor, KeepsAtMostMaxInflightBatchesAndReusesWrittenOnes) {
  std::atomic<int> peak{0};
  int next = 0;
  std::atomic<int> in_flight{0};
  OrderedExecutorOptions o;
  o.threads = 3;
  o.max_inflight = 4;
  std::set<Batch*> distinct;
  Status s = RunOrdered<Batch>(
      o,
      [&](Batch* b) -> Result<bool> {
        distinct.insert(b);
        b->in.clear();
        b->out.clear();
        if (next >= 2000) return false;
        for (int i = 0; i < 10; ++i) b->in.push_back(next++);
        const int now = ++in_flight;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        return true;
      },
      [] {
        return [](Batch* b) -> Status {
          for (int v : b->in) b->out.push_back(v);
          return Status::Ok();
        };
      },
      [&](Batch*) {
        --in_flight;
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok());
  EXPECT_LE(peak.load(), 4);
  // Batches are recycled: never more distinct ones than can be in flight at once (+1 being read).
  EXPECT_LE(distinct.size(), 5u);
}

TEST(OrderedExecutor, AReadErrorStillWritesEverythingReadBeforeIt) {
  int next = 0;
  std::atomic<int> made{0};
  std::vector<int> got;
  OrderedExecutorOptions o;
  o.threads = 2;
  Status s =
      RunOrdered<Batch>(o, Reader(1000, 10, &next, /*fail_at=*/500), Squarer(&made), [&](Batch* b) {
        got.insert(got.end(), b->out.begin(), b->out.end());
        return Status::Ok();
      });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "read failed at 500");
  ASSERT_EQ(got.size(), 500u);
  EXPECT_EQ(got.back(), 499 * 499);
}

TEST(OrderedExecutor, AWriteErrorStopsReadingAndIsReturned) {
  int next = 0;
  std::atomic<int> made{0};
  int writes = 0;
  OrderedExecutorOptions o;
  o.threads = 2;
  o.max_inflight = 3;
  Status s = RunOrdered<Batch>(o, Reader(1000000, 10, &next), Squarer(&made), [&](Batch*) {
    return ++writes == 5 ? ResourceExhaustedError("disk full") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(writes, 5);
  EXPECT_LE(next, (5 + 3 + 1) * 10);  // reading stopped soon after
}

TEST(OrderedExecutor, AWorkerErrorStopsEverything) {
  int next = 0;
  int writes = 0;
  OrderedExecutorOptions o;
  o.threads = 2;
  Status s = RunOrdered<Batch>(
      o, Reader(1000000, 10, &next),
      [] {
        return [](Batch* b) -> Status {
          return b->in.front() == 200 ? DataLossError("bad batch") : Status::Ok();
        };
      },
      [&](Batch*) {
        ++writes;
        return Status::Ok();
      });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_LE(writes, 20);
  EXPECT_LT(next, 1000000);
}

TEST(OrderedExecutor, RefusesThreadCountsOutsidePolicy) {
  int next = 0;
  std::atomic<int> made{0};
  OrderedExecutorOptions o;
  for (int threads : {0, -1, kMaxThreads + 1}) {
    o.threads = threads;
    Status s = RunOrdered<Batch>(o, Reader(10, 1, &next), Squarer(&made),
                                 [](Batch*) { return Status::Ok(); });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << threads;
  }
  EXPECT_EQ(made.load(), 0);
}

// A thread that cannot be started (here: every new thread asks for a stack larger than the
// machine, as a pids or memory limit would refuse it) is an error value, never std::terminate.
// In a child process, since the default thread attributes are process-wide.
TEST(OrderedExecutorDeathTest, AThreadThatCannotStartIsResourceExhausted) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, size_t{1} << 46);  // 64 TiB
        pthread_setattr_default_np(&attr);
        int next = 0;
        std::atomic<int> made{0};
        OrderedExecutorOptions o;
        o.threads = 4;
        Status s = RunOrdered<Batch>(o, Reader(100, 10, &next), Squarer(&made),
                                     [](Batch*) { return Status::Ok(); });
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        std::exit(s.code() == StatusCode::kResourceExhausted &&
                          s.message().find("could not start thread 1 of 5") != std::string::npos
                      ? 0
                      : 1);
      },
      ::testing::ExitedWithCode(0), "ResourceExhausted: could not start thread");
}

TEST(ThreadCount, FollowsTheCgroupQuotaRoundedUpAndTheAffinity) {
  EXPECT_EQ(ParseCgroupCpuMax("max 100000\n"), std::nullopt);
  EXPECT_DOUBLE_EQ(*ParseCgroupCpuMax("150000 100000\n"), 1.5);
  EXPECT_DOUBLE_EQ(*ParseCgroupCpuMax("50000 100000"), 0.5);
  EXPECT_EQ(ParseCgroupCpuMax("garbage"), std::nullopt);
  EXPECT_EQ(ParseCgroupV1Quota("-1\n", "100000\n"), std::nullopt);
  EXPECT_DOUBLE_EQ(*ParseCgroupV1Quota("200000\n", "100000\n"), 2.0);
  EXPECT_EQ(ParseCgroupV1Quota("x", "100000"), std::nullopt);
  const int cpus = UsableCpuCount();
  EXPECT_GE(cpus, 1);
  EXPECT_EQ(DefaultThreadCount(std::nullopt), std::min(cpus, kMaxThreads));
  EXPECT_EQ(DefaultThreadCount(0.5), 1);
  EXPECT_EQ(DefaultThreadCount(1.5), std::min(cpus, 2));
  EXPECT_EQ(DefaultThreadCount(1000.0), std::min(cpus, kMaxThreads));
}

TEST(ParallelFor, CallsEveryIndexOnceWithWorkerIdsBelowTheThreadCount) {
  std::vector<std::atomic<int>> seen(1000);
  std::atomic<int> bad_worker{0};
  const int ran = ParallelFor(seen.size(), 3, [&](int worker, size_t i) {
    if (worker < 0 || worker >= 3) ++bad_worker;
    ++seen[i];
  });
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(bad_worker.load(), 0);
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
  EXPECT_EQ(ParallelFor(0, 4, [](int, size_t) {}), 0);
  EXPECT_EQ(ParallelFor(2, 8, [](int, size_t) {}), 2);  // never more workers than items
}

TEST(ParallelForDeathTest, ThreadsThatCannotStartLeaveTheWorkToTheCaller) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, size_t{1} << 46);
        pthread_setattr_default_np(&attr);
        std::vector<int> seen(100);
        const int ran = ParallelFor(seen.size(), 4, [&](int, size_t i) { ++seen[i]; });
        bool all = true;
        for (int v : seen) all = all && v == 1;
        std::exit(ran == 1 && all ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace lote
