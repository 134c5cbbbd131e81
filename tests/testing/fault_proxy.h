// FaultProxy: an HTTP/1.1 proxy between the code under test (lote's S3 client) and an upstream
// on loopback (MotoServer), which answers some requests with the failures S3 clients must
// survive. The client is pointed at proxy.endpoint() instead of moto's.
//
// Why C++ in the test process and not a Python script beside moto: the counters and the
// "fail the next K" rules are read and set by the test directly, without a control protocol or a
// second child to start, stop and wait for; it runs under the sanitizers with the tests; and it
// can cut a response at an exact byte.
//
// Forwarding: one thread per client connection. The request (head and body, Content-Length or
// chunked) is read whole, then sent upstream unchanged except that "Expect: 100-continue" is
// answered by the proxy itself (and not forwarded) and the hop-by-hop Connection / Keep-Alive
// headers are dropped. The answer's status line, headers and body are relayed byte for byte
// (chunked bodies stay chunked), with the proxy's own Connection header. The client connection
// is kept alive across requests (as S3 keeps it) even though moto closes after each answer; the
// proxy opens a new upstream connection when the last one was closed, and retries a request once
// on a fresh connection when a reused one turns out closed before any byte of the answer. Bodies
// are buffered in memory (tests move tens of MiB at most).
//
// Faults (FaultKind), chosen per request: first by the FailNext rules, in the order they were
// added, else at random with probability `fault_rate` among `fault_kinds`, from a generator seeded
// with `seed` (the sequence is reproducible; which concurrent request draws which number is not).
// Thread-safety: every public method may be called from any thread while the proxy runs.
#ifndef LOTE_TESTS_TESTING_FAULT_PROXY_H_
#define LOTE_TESTS_TESTING_FAULT_PROXY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lote/base/status.h"

namespace lote::testing {

enum class FaultKind {
  kNone,
  // 500 with an S3 error body (<Code>InternalError</Code>), without forwarding the request.
  kInternalError,
  // 503 with <Code>SlowDown</Code>, without forwarding the request.
  kSlowDown,
  // The connection is reset (TCP RST) without an answer; the request is NOT forwarded.
  kReset,
  // The request IS forwarded (upstream applies it), then the connection is reset without an
  // answer: a PUT that succeeded although the client saw a failure.
  kResetAfterUpstream,
  // The request is forwarded and its answer held for `stall_seconds` before it is sent.
  kStall,
  // The request is forwarded; the answer's head is sent with its real Content-Length, then half
  // of its body, then the connection is closed. An answer without a body (a PUT's, a HEAD's) is
  // cut in the middle of its head instead.
  kTruncate,
};

// "InternalError", "SlowDown", "Reset", "ResetAfterUpstream", "Stall", "Truncate", "None".
std::string_view FaultKindName(FaultKind kind);

struct FaultProxyOptions {
  int upstream_port = 0;  // on 127.0.0.1; required
  // Probability in [0, 1] that a request not matched by a FailNext rule gets a random fault.
  double fault_rate = 0;
  uint64_t seed = 1;
  // The kinds random faults are drawn from, uniformly.
  std::vector<FaultKind> fault_kinds = {FaultKind::kInternalError, FaultKind::kSlowDown,
                                        FaultKind::kReset,         FaultKind::kResetAfterUpstream,
                                        FaultKind::kStall,         FaultKind::kTruncate};
  double stall_seconds = 2;
  // Bound on every socket wait (client and upstream), so a stuck peer cannot hang a test.
  double io_timeout_seconds = 60;
};

// Counts since the proxy started (or since ResetCounters).
struct FaultCounters {
  uint64_t requests = 0;   // complete requests read from clients
  uint64_t forwarded = 0;  // requests sent upstream and answered
  uint64_t internal_error = 0;
  uint64_t slow_down = 0;
  uint64_t reset = 0;
  uint64_t reset_after_upstream = 0;
  uint64_t stall = 0;
  uint64_t truncate = 0;

  uint64_t faults() const {
    return internal_error + slow_down + reset + reset_after_upstream + stall + truncate;
  }
  uint64_t of(FaultKind kind) const;
};

class FaultProxy {
 public:
  // Listens on a free port of 127.0.0.1 and starts accepting. InvalidArgument for bad options,
  // Unavailable when it cannot listen.
  static Result<std::unique_ptr<FaultProxy>> Start(FaultProxyOptions options);
  // Stops accepting, closes every connection (interrupting stalls) and joins every thread.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "http://127.0.0.1:PORT": what the client under test is given as its endpoint.
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  // Changes the random faults for requests read from now on.
  void SetFaultRate(double rate);
  void SetFaultKinds(std::vector<FaultKind> kinds);
  // The next `count` requests whose method is `method` (empty: any) and whose request target
  // ("/bucket/key?query", as sent: percent-encoded) contains `target_substring` get `kind`.
  // Rules are consumed in the order they were added; they win over the random faults.
  void FailNext(int count, FaultKind kind, std::string method = "",
                std::string target_substring = "");
  // Drops the FailNext rules not consumed yet.
  void ClearRules();
  // FailNext faults not consumed yet, over all rules.
  int PendingRuleFaults() const;

  FaultCounters counters() const;
  void ResetCounters();

 private:
  struct Rule {
    int remaining;
    FaultKind kind;
    std::string method;
    std::string target_substring;
  };
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  FaultProxy(FaultProxyOptions options, int listen_fd, int port);
  void AcceptLoop();
  void Serve(int client_fd);
  FaultKind Decide(std::string_view method, std::string_view target);
  void Count(FaultKind kind);
  // Sleeps up to `seconds`; returns early (false) when the proxy stops.
  bool SleepUnlessStopped(double seconds);
  // Sockets are registered while open so that the destructor can shut them down.
  void Track(int fd);
  void CloseTracked(int fd);

  const FaultProxyOptions options_;
  const int listen_fd_;
  const int port_;
  int wake_fds_[2] = {-1, -1};  // a pipe that wakes the accept loop on stop

  mutable std::mutex mu_;  // guards everything below
  double fault_rate_;
  std::vector<FaultKind> fault_kinds_;
  std::mt19937_64 rng_;
  std::list<Rule> rules_;
  FaultCounters counters_;
  std::set<int> open_fds_;
  std::list<Connection> connections_;
  bool stopping_ = false;
  std::condition_variable stop_cv_;

  std::thread acceptor_;
};

}  // namespace lote::testing

#endif  // LOTE_TESTS_TESTING_FAULT_PROXY_H_
