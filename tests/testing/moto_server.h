// MotoServer: a real moto_server (moto 5.2.1's S3 and the other AWS emulators, see
// ../shared/notes/aws-offline.md) started by a test on a free loopback port and stopped by pid.
//
// Start() picks a port (bind 127.0.0.1:0, read it back, close), starts
// `moto_server -H 127.0.0.1 -p PORT` in a process group of its own with its stdout and stderr in
// a temporary log file, and waits, bounded, until the child is alive and answers
// GET /moto-api/ with 200. A port taken by someone else in between (the server exits with
// "Address already in use") is retried on a new port. Any failure is an error naming the command,
// the port, the exit status and the end of the log: a test whose service cannot start FAILS, it
// never skips. The child gets AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY = testing and
// AWS_DEFAULT_REGION = us-east-1 (every other AWS_* variable of the test's environment is
// dropped), plus the options' `env`; the test process's own environment is not changed. The child
// is killed by the kernel if the thread that started it dies (PR_SET_PDEATHSIG), so a crashed
// test leaves no server behind: start servers from the test's main thread.
//
// Stop() (and the destructor) sends SIGTERM to the server's process group, waits up to
// `stop_timeout_seconds`, then SIGKILLs it, and reaps it with waitpid. The log file is removed
// then, unless a test of the binary failed or LOTE_KEEP_SERVICE_LOGS is set (its path is then
// printed to stderr).
//
// moto checks no signature by default, but it treats a request WITHOUT an Authorization header as
// anonymous: GetObject then answers 403 AccessDenied. Request() adds a dummy SigV4-shaped one.
//
// Thread-safety: endpoint(), port(), Reset(), CreateBucket() and Request() may be called from
// many threads; Start/Stop/destruction from one.
#ifndef LOTE_TESTS_TESTING_MOTO_SERVER_H_
#define LOTE_TESTS_TESTING_MOTO_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lote/aws/sqs.h"
#include "lote/base/status.h"
#include "lote/storage/s3_storage.h"
#include "testing/http_wire.h"

namespace lote::testing {

struct MotoServerOptions {
  // Extra environment for the server, e.g. {"S3_UPLOAD_PART_MIN_SIZE", "1024"} or
  // {"INITIAL_NO_AUTH_ACTION_COUNT", "4"}.
  std::vector<std::pair<std::string, std::string>> env;
  // Looked up on PATH (a pyenv shim on this machine, which execs Python in the same process).
  std::string program = "moto_server";
  // How long the server may take to answer after it was started (about 1.5 s on an idle machine).
  double startup_timeout_seconds = 20;
  // How long SIGTERM is given before SIGKILL.
  double stop_timeout_seconds = 5;
  // Ports tried when the chosen one is taken before moto binds it.
  int port_attempts = 3;
  // Per-request timeout of the helper requests (Reset, CreateBucket, Request).
  double request_timeout_seconds = 30;
};

class MotoServer {
 public:
  // A running server. Unavailable (with the log's end) when it cannot be started; NotFound when
  // `program` is not on PATH.
  static Result<std::unique_ptr<MotoServer>> Start(MotoServerOptions options = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  // "http://127.0.0.1:PORT".
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // The last `max_bytes` of the server's log (for failure messages).
  std::string LogTail(size_t max_bytes = 4000) const;

  // POST /moto-api/reset: every bucket and object of every emulated service is gone (the
  // server's configuration stays). Tests sharing a server isolate themselves by bucket name
  // instead; Reset is for suites that own their server.
  Status Reset() const;
  // PUT /NAME (us-east-1, no location constraint). OK also when the bucket exists already (moto,
  // like S3 in us-east-1, answers 200 to its owner); AlreadyExists on a 409; InvalidArgument for a
  // bad name (InvalidBucketName: 3-63 characters of a-z 0-9 . -).
  Status CreateBucket(std::string_view name) const;
  // CreateQueue (SQS JSON protocol); the queue's URL.
  Result<std::string> CreateQueue(std::string_view name) const;
  // PutBucketNotificationConfiguration: s3:ObjectCreated:* events for keys under `prefix` go to
  // queue `queue_name` (of account 123456789012, us-east-1). moto then also sends S3's
  // s3:TestEvent to the queue.
  Status NotifyQueueOnCreate(std::string_view bucket, std::string_view prefix,
                             std::string_view queue_name) const;
  // Sends `call` to the server on a fresh connection, adding a dummy Authorization header unless
  // the call has one. The answer whatever its status; Unavailable on transport errors.
  Result<HttpReply> Request(HttpCall call) const;

  // Stops the server (see the file comment); idempotent, and a no-op in any process but the one
  // that started it.
  void Stop();

 private:
  MotoServer(MotoServerOptions options, pid_t pid, int port, std::string log_path);

  MotoServerOptions options_;
  pid_t pid_;
  int port_;
  std::string log_path_;
  bool keep_log_ = false;  // a failed start: the error names the log
  // The process that started the server: a forked child of the test that exits normally runs
  // the destructors of the statics too, and must not stop its parent's server.
  pid_t owner_;
};

// This binary's shared server, started on first use with default options and stopped at exit.
// Every later call returns the same server, or the same error if it could not start (a test
// asserts on it: ASSERT_TRUE(moto.ok()) << moto.status().ToString()). Thread-safe; the first call
// must come from the main thread (see PR_SET_PDEATHSIG above).
Result<MotoServer*> SharedMotoServer();

// A bucket name no other test of this process uses: "lote-<tag>-<pid>-<n>", lower-cased, with
// characters S3 does not allow in bucket names replaced by '-', at most 63 characters.
std::string UniqueBucketName(std::string_view tag);

// S3StorageOptions for `endpoint` (a MotoServer's or a FaultProxy's): region us-east-1, static
// credentials testing/testing with no session token, and an empty environment, so nothing of the
// test machine's AWS set-up is read.
storage::S3StorageOptions MotoS3Options(const std::string& endpoint);
// The same for SQS.
aws::SqsOptions MotoSqsOptions(const std::string& endpoint);

}  // namespace lote::testing

#endif  // LOTE_TESTS_TESTING_MOTO_SERVER_H_
