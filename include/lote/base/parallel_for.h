// ParallelFor: independent work items spread over threads (training's per-label solvers,
// evaluation), for work that has no order to keep (RunOrdered is for streams).
// Thread-safety: fn is called concurrently from several threads with distinct indices.
#ifndef LOTE_BASE_PARALLEL_FOR_H_
#define LOTE_BASE_PARALLEL_FOR_H_

#include <cstddef>
#include <functional>

namespace lote {

// Calls fn(worker, i) exactly once for every i in [0, n), handing indices out one at a time to
// up to `threads` workers (at most n; worker 0 is the calling thread, the others get ids
// 1..threads-1, so callers can keep per-worker state in an array of `threads`). A thread that
// cannot be started (a pids limit) is not an error: the workers that did start, at least the
// caller, do its share. Returns the number of workers that ran.
int ParallelFor(size_t n, int threads, const std::function<void(int worker, size_t i)>& fn);

}  // namespace lote

#endif  // LOTE_BASE_PARALLEL_FOR_H_
