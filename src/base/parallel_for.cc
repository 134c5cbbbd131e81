#include "lote/base/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

namespace lote {

int ParallelFor(size_t n, int threads, const std::function<void(int worker, size_t i)>& fn) {
  if (n == 0) return 0;
  const int workers =
      static_cast<int>(std::clamp<size_t>(static_cast<size_t>(std::max(threads, 1)), 1, n));
  std::atomic<size_t> next{0};
  auto work = [&](int worker) {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(worker, i);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(work, w);
    } catch (const std::system_error&) {
      break;  // run with the threads we have
    }
  }
  work(0);
  for (auto& t : pool) t.join();
  return static_cast<int>(pool.size()) + 1;
}

}  // namespace lote
