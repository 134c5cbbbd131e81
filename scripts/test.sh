#!/usr/bin/env bash
# The README's test command and what CI runs: installs what is missing (scripts/bootstrap.sh),
# builds, and runs every check phase in turn (docs/testing.md):
#   format   clang-format-14 --dry-run over every tracked .cc/.h: names each unformatted file
#   release  Release build in build/ (g++), CTest: unit, integration, fuzz corpus (not slow)
#   asan     clang build in build-asan/ (-O1, ASan with leak checks + UBSan, findings fatal, and
#            libFuzzer coverage), CTest labels unit and integration (no slow)
#   fuzz     every libFuzzer target of build-asan/ for LOTE_FUZZ_SECONDS (default 20) seconds
#   tsan     clang build in build-tsan/ (-O1, TSan) of the CLI and the threaded suites, CTest
#            label threads (tests/pipeline, tests/storage, tests/base, tests/serve,
#            tests/integration but the suites in $tsan_skipped below)
# and, only when asked for,
#   slow      CTest label slow (tests/slow) in build/ (minutes of training on ../shared/datasets)
#   includes  every library and CLI file compiled on its own (clang -fsyntax-only): the unity
#             builds of every tree would hide a file that uses what an earlier file included
# Every phase runs even after one fails; a summary with each phase's time closes the run, followed
# by what failed (failed tests, sanitizer report files, each crashed fuzzer's SUMMARY line), so the
# last lines of a CI log say why; the exit status is 1 when any phase failed.
#
# Usage: scripts/test.sh [--quick] [--slow] [--phase NAME]... [-- CTEST_ARGS...]
#   --quick       the release phase alone: the developer loop
#   --slow        adds the slow phase to the phases run
#   --phase NAME  only the named phase (repeatable), e.g. --phase asan --phase fuzz
#   -- ARGS       passed to every ctest call, e.g. -- -R Csv
# Environment: LOTE_JOBS (parallel jobs, default nproc), LOTE_FUZZ_SECONDS.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_phases=(format release asan fuzz tsan slow includes)
default_phases=(format release asan fuzz tsan)
phases=()
quick=0
slow=0
ctest_args=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --slow) slow=1 ;;
    --phase)
      [[ $# -ge 2 && " ${all_phases[*]} " == *" $2 "* ]] || {
        echo "test.sh: --phase takes one of: ${all_phases[*]}" >&2
        exit 2
      }
      phases+=("$2")
      shift
      ;;
    --)
      shift
      ctest_args=("$@")
      break
      ;;
    *)
      echo "test.sh: unknown argument $1 (see the usage at the top of scripts/test.sh)" >&2
      exit 2
      ;;
  esac
  shift
done
if ((quick)) && ((${#phases[@]} == 0)); then phases=(release); fi
if ((${#phases[@]} == 0)); then phases=("${default_phases[@]}"); fi
if ((slow)) && [[ " ${phases[*]} " != *" slow "* ]]; then phases+=(slow); fi

jobs=${LOTE_JOBS:-$(nproc 2>/dev/null || echo 2)}
fuzz_seconds=${LOTE_FUZZ_SECONDS:-20}
clang_cc=clang-14
clang_cxx=clang++-14
# File:line stack traces in sanitizer reports.
symbolizer=external_symbolizer_path=/usr/bin/llvm-symbolizer-14

wants() { [[ " ${phases[*]} " == *" $1 "* ]]; }
needs_checks=0
for p in "${phases[@]}"; do [[ $p != release && $p != slow ]] && needs_checks=1; done
if ((needs_checks)); then
  scripts/bootstrap.sh --checks --services --image || exit 1
else
  scripts/bootstrap.sh --services --node --image || exit 1
fi

# What failed, one line each, printed after the summary.
findings=()

header() {
  printf '\n==================== %s ====================\n' "$1"
  printf '%s\n\n' "$2"
}

# Runs ctest in build dir $1 with extra arguments; sanitizer reports land in $1/sanitizer-logs
# (log_path), so reports from `lote` processes the integration tests start are seen too, whatever
# the test did with their stderr. Any report fails the phase.
run_ctest() {
  local dir=$1
  shift
  local logs=$root/$dir/sanitizer-logs
  rm -rf "$logs" && mkdir -p "$logs"
  local rc=0
  # CTest leaves this file from an earlier run when no test fails: the list below is this run's.
  local failed_list=$dir/Testing/Temporary/LastTestsFailed.log
  rm -f "$failed_list"
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$logs/asan:$symbolizer" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan:$symbolizer" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan:$symbolizer" \
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" "${ctest_args[@]}" || rc=1
  if ((rc)) && [[ -f $failed_list ]]; then
    while IFS= read -r t; do findings+=("$dir: test ${t#*:} failed"); done <"$failed_list"
  fi
  if compgen -G "$logs/*" >/dev/null; then
    findings+=("$dir: sanitizer reports: $(cd "$logs" && echo *)")
    echo "sanitizer reports (in $dir/sanitizer-logs):"
    for f in "$logs"/*; do
      echo "---- $f"
      cat "$f"
    done
    rc=1
  fi
  return $rc
}

# Configures (if needed) and builds clang tree $1 with the given cmake options; the targets to
# build come after "--" (none: everything).
build_clang_tree() {
  local dir=$1
  shift
  local opts=() targets=()
  while (($#)) && [[ $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  (($#)) && shift
  targets=("$@")
  # -O1 with line tables: sanitizer builds compile and run several times faster than -O0 and
  # still give file:line stack traces. No NDEBUG. lld links the large instrumented binaries in a
  # fraction of GNU ld's time. The library compiles one module folder at a time
  # (LOTE_UNITY_BUILD, the default) unless the options say otherwise.
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER=$clang_cc -DCMAKE_CXX_COMPILER=$clang_cxx \
    -DCMAKE_EXE_LINKER_FLAGS=--ld-path=/usr/bin/ld.lld-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DLOTE_BUILD_SLOW_TESTS=OFF \
    -DLOTE_BUILD_BENCH=OFF "${opts[@]}" >/dev/null || return 1
  if ((${#targets[@]})); then
    cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
  else
    cmake --build "$dir" -j "$jobs"
  fi
}

phase_format() {
  header format "clang-format-14 (Google, 100 columns; .clang-format) over every tracked .cc/.h"
  local bad=()
  while IFS= read -r -d '' f; do
    clang-format-14 --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done < <(git ls-files -z -- '*.cc' '*.h')
  if ((${#bad[@]})); then
    echo "not formatted (fix with: clang-format-14 -i FILE...):"
    printf '  %s\n' "${bad[@]}"
    return 1
  fi
  echo "every tracked .cc/.h is formatted"
}

phase_release() {
  header release "Release build in build/ (g++), then CTest: unit, integration, fuzz corpus"
  scripts/build.sh || return 1
  run_ctest build -LE slow
}

phase_includes() {
  header includes "each library and CLI file compiled on its own (clang -fsyntax-only, no PCH)"
  local bad
  bad=$(git ls-files -- 'src/*.cc' 'apps/*.cc' | xargs -P "$jobs" -I{} sh -c \
    "$clang_cxx -std=gnu++20 -fsyntax-only -Iinclude -Isrc -Iapps/lote -DLOTE_VERSION=\\\"0\\\" {} \
      >/dev/null 2>&1 || echo {}")
  if [[ -n $bad ]]; then
    echo "do not compile on their own includes:"
    printf '  %s\n' $bad
    findings+=("includes: $(echo $bad | wc -w) file(s)")
    return 1
  fi
  echo "every library and CLI file compiles on its own includes"
}

phase_slow() {
  header slow "CTest label slow in build/ (tests/slow: quality on ../shared/datasets, minutes)"
  if ! wants release; then scripts/build.sh || return 1; fi
  run_ctest build -L slow --no-tests=error
}

phase_asan() {
  header asan "clang -O1 build in build-asan/ with ASan (leaks too) + UBSan, findings fatal;
CTest labels unit and integration (fuzz corpus replays included)"
  build_clang_tree build-asan -DLOTE_SANITIZE=address -DLOTE_FUZZ=ON || return 1
  run_ctest build-asan -L 'unit|integration'
}

phase_fuzz() {
  header fuzz "each libFuzzer target in build-asan/tests for ${fuzz_seconds} s, from its corpus in
tests/fuzz/corpus/NAME; new inputs and crashes go to build-asan/fuzz/NAME/"
  local targets=()
  for src in tests/fuzz/*_fuzz.cc; do
    targets+=("$(basename "$src" _fuzz.cc)")
  done
  if ! wants asan; then
    build_clang_tree build-asan -DLOTE_SANITIZE=address -DLOTE_FUZZ=ON -- "${targets[@]/%/_fuzz}" ||
      return 1
  fi
  local failed=()
  run_one() {
    local name=$1 work=build-asan/fuzz/$1
    rm -rf "$work" && mkdir -p "$work/corpus"
    # The first folder receives new inputs; the committed corpus is only read.
    ASAN_OPTIONS="detect_leaks=1:$symbolizer" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:$symbolizer" \
      "build-asan/tests/${name}_fuzz" -max_total_time="$fuzz_seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix="$work/" \
      "$work/corpus" "tests/fuzz/corpus/$name" >"$work/log" 2>&1
  }
  # Two at a time: a fuzzer is single-threaded.
  local i=0 pids=() names=()
  for name in "${targets[@]}"; do
    run_one "$name" &
    pids+=($!)
    names+=("$name")
    if ((${#pids[@]} >= jobs)) || ((i == ${#targets[@]} - 1)); then
      for k in "${!pids[@]}"; do
        if ! wait "${pids[$k]}"; then failed+=("${names[$k]}"); fi
      done
      pids=()
      names=()
    fi
    i=$((i + 1))
  done
  for name in "${targets[@]}"; do
    local log=build-asan/fuzz/$name/log
    local runs cov
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    printf '  %-14s %9s runs  %s\n' "$name" "${runs:-?}" "${cov:-}"
  done
  if ((${#failed[@]})); then
    for name in "${failed[@]}"; do
      echo
      echo "---- $name crashed; reproduce with: build-asan/tests/${name}_fuzz build-asan/fuzz/$name/crash-*"
      tail -n 60 "build-asan/fuzz/$name/log"
      findings+=("fuzz: $name: $(grep -m1 '^SUMMARY' "build-asan/fuzz/$name/log" || echo 'exit status not 0')")
    done
    return 1
  fi
}

# Integration suites the TSan phase leaves out: they run again, on more data, threaded code that
# other suites run under TSan (training's workers: ClassifyCli and ExtractCli; the flow executor's
# states and a nested execution: FlowCli, FlowPipelineCli and RetrainFlow's alarm test; the
# registry's racing writers: tests/registry). Under TSan they took about 3 minutes of the phase.
tsan_skipped='^(RetrainFlow\.(LateLabels|OnS3|AWatchedLake|AFailingStep|TrainingDataReads)|TrainingContainer\.|ReproducibleModelCli\.)'

phase_tsan() {
  header tsan "clang -O1 build in build-tsan/ with TSan: the CLI, tests/pipeline, tests/storage,
tests/base, tests/serve and tests/integration; CTest label threads but the suites of tsan_skipped"
  build_clang_tree build-tsan -DLOTE_SANITIZE=thread -- lote_cli pipeline_test storage_test \
    base_test serve_test integration_test ||
    return 1
  run_ctest build-tsan -L threads -E "$tsan_skipped"
}

results=()
failures=0
for p in "${phases[@]}"; do
  start=$(date +%s)
  if "phase_$p"; then r=passed; else
    r=FAILED
    failures=$((failures + 1))
  fi
  results+=("$(printf '  %-8s %-7s %5d s' "$p" "$r" $(($(date +%s) - start)))")
done

printf '\n==================== summary ====================\n'
printf '%s\n' "${results[@]}"
echo "phases: $((${#phases[@]} - failures)) passed, $failures failed"
if ((${#findings[@]})); then
  echo "failures:"
  printf '  %s\n' "${findings[@]}"
fi
((failures == 0))
