// lote-drift-bench: what monitoring costs per batch, on observation files a Python peer reads too
// (bench/drift_vs_scipy.py runs both and prints them side by side).
//
//   lote-drift-bench (--reference REF.tsv | --reference-profile PROFILE.json) --batch BATCH.tsv
//                    [--batch MORE.tsv ...] [--repeats 7] [--replicates 400]
//
// An observation file is TSV with this header, one record per line (what the infer stage keeps
// per record: its "label", "score", "lang" and "sig" fields):
//
//   label score abstained lang chars words unknown_words char_ngrams unknown_char_ngrams
//
// abstained is 0 or 1; an empty label or lang is "none" (Profile::Add skips it). The reference
// profile is built from REF.tsv by Profile::Add (as training builds it), or read from
// --reference-profile (`lote profile MODEL --json`). For each batch it times, --repeats times:
// reading the file into Observations (parse), Profile::Add over all of them into a fresh Profile
// (add), CompareProfiles with default DriftOptions (compare; --replicates changes only the number
// of simulated pairs per signal, to see what they cost); and prints one JSON line per batch
// with the medians and every run in milliseconds, the verdict and the signals, then one line with
// the process's peak RSS. The observations are held in memory only so that add is timed apart
// from parsing; the pipeline adds each record as it writes it, and a Profile's size depends on the
// model (fixed bins, its labels, prep's languages), not on the batch size.
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/monitoring/drift.h"
#include "lote/monitoring/profile.h"

namespace lote::monitoring {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kHeader =
    "label\tscore\tabstained\tlang\tchars\twords\tunknown_words\tchar_ngrams\tunknown_char_ngrams";

// Observations hold string_views: the label and language names live here, one copy each.
class NameTable {
 public:
  std::string_view Intern(std::string_view name) {
    if (name.empty()) return {};
    auto it = index_.find(name);
    if (it != index_.end()) return it->second;
    const std::string& kept = names_.emplace_back(name);
    index_.emplace(kept, kept);
    return kept;
  }

 private:
  std::deque<std::string> names_;
  std::map<std::string, std::string_view, std::less<>> index_;
};

template <typename T>
bool ParseNumber(std::string_view field, T* out) {
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

Status ParseLine(std::string_view line, NameTable* names, Observation* o) {
  std::string_view f[9];
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= line.size() && n < 9; ++i) {
    if (i == line.size() || line[i] == '\t') {
      f[n++] = line.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 9 || start <= line.size())
    return InvalidArgumentError("expected 9 tab-separated fields");
  int abstained = 0;
  classify::VocabularyCounts& v = o->vocabulary;
  if (!ParseNumber(f[1], &o->score) || !ParseNumber(f[2], &abstained) ||
      !ParseNumber(f[4], &o->chars) || !ParseNumber(f[5], &v.words) ||
      !ParseNumber(f[6], &v.unknown_words) || !ParseNumber(f[7], &v.char_ngrams) ||
      !ParseNumber(f[8], &v.unknown_char_ngrams)) {
    return InvalidArgumentError("a number field is not a number");
  }
  o->label = names->Intern(f[0]);
  o->abstained = abstained != 0;
  o->lang = names->Intern(f[3]);
  return Status::Ok();
}

Status ReadObservations(const std::string& path, NameTable* names, std::vector<Observation>* out) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open " + path);
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    return InvalidArgumentError(path + ": the first line is not the header '" +
                                std::string(kHeader) + "'");
  }
  out->clear();
  uint64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    Observation o;
    Status s = ParseLine(line, names, &o);
    if (!s.ok()) return s.WithContext(path + ":" + std::to_string(line_no));
    out->push_back(o);
  }
  return Status::Ok();
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct Args {
  std::string reference, reference_profile;
  std::vector<std::string> batches;
  int repeats = 7;
  int replicates = DriftOptions().replicates;
};

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "lote-drift-bench: %s\nusage: lote-drift-bench (--reference REF.tsv | "
               "--reference-profile PROFILE.json) --batch BATCH.tsv [--batch ...] "
               "[--repeats N] [--replicates N]\n",
               why.c_str());
  return 2;
}

int Run(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return Usage("missing value for " + std::string(flag));
    const std::string value = argv[++i];
    if (flag == "--reference") {
      a.reference = value;
    } else if (flag == "--reference-profile") {
      a.reference_profile = value;
    } else if (flag == "--batch") {
      a.batches.push_back(value);
    } else if (flag == "--repeats") {
      if (!ParseNumber(std::string_view(value), &a.repeats) || a.repeats < 1) {
        return Usage("--repeats takes a whole number >= 1");
      }
    } else if (flag == "--replicates") {
      if (!ParseNumber(std::string_view(value), &a.replicates) || a.replicates < 1) {
        return Usage("--replicates takes a whole number >= 1");
      }
    } else {
      return Usage("unknown flag " + std::string(flag));
    }
  }
  if (a.reference.empty() == a.reference_profile.empty()) {
    return Usage("give one of --reference and --reference-profile");
  }
  if (a.batches.empty()) return Usage("give at least one --batch");

  NameTable names;
  Profile reference;
  const auto build_start = Clock::now();
  if (!a.reference_profile.empty()) {
    std::ifstream in(a.reference_profile);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<Profile> p = Profile::FromJson(text);
    if (!p.ok()) {
      std::fprintf(stderr, "%s: %s\n", a.reference_profile.c_str(), p.status().ToString().c_str());
      return 1;
    }
    reference = std::move(*p);
  } else {
    std::vector<Observation> ref_obs;
    if (Status s = ReadObservations(a.reference, &names, &ref_obs); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    bool abstains = false;
    for (const Observation& o : ref_obs) {
      reference.Add(o);
      abstains = abstains || o.abstained;
    }
    reference.set_has_abstention(abstains);
  }
  Json ref_line = {{"what", "reference"},
                   {"source", a.reference_profile.empty() ? a.reference : a.reference_profile},
                   {"records", reference.records()},
                   {"ms", Ms(Clock::now() - build_start)}};
  std::printf("%s\n", ref_line.dump().c_str());

  DriftOptions options;  // the defaults a run uses
  options.replicates = a.replicates;
  for (const std::string& path : a.batches) {
    std::vector<double> parse_ms, add_ms, compare_ms, total_ms;
    std::vector<Observation> obs;
    MonitoringReport report;
    uint64_t records = 0;
    for (int r = 0; r < a.repeats; ++r) {
      auto t0 = Clock::now();
      std::vector<Observation>().swap(obs);  // a fresh read each time, as a new process would
      if (Status s = ReadObservations(path, &names, &obs); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      auto t1 = Clock::now();
      Profile batch;
      for (const Observation& o : obs) batch.Add(o);
      auto t2 = Clock::now();
      report = CompareProfiles(&reference, batch, options);
      auto t3 = Clock::now();
      records = batch.records();
      parse_ms.push_back(Ms(t1 - t0));
      add_ms.push_back(Ms(t2 - t1));
      compare_ms.push_back(Ms(t3 - t2));
      total_ms.push_back(Ms(t3 - t1));
    }
    Json signals = Json::array();
    for (const SignalResult& s : report.signals) {
      signals.push_back({{"name", s.name},
                         {"test", s.test},
                         {"statistic", s.statistic},
                         {"threshold", s.threshold},
                         {"p_value", s.p_value},
                         {"band", std::string(BandName(s.band))}});
    }
    Json line = {{"what", "batch"},
                 {"file", path},
                 {"records", records},
                 {"repeats", a.repeats},
                 {"replicates", options.replicates},
                 {"parse_ms", Median(parse_ms)},
                 {"add_ms", Median(add_ms)},
                 {"compare_ms", Median(compare_ms)},
                 {"add_compare_ms", Median(total_ms)},
                 {"runs",
                  {{"parse_ms", parse_ms},
                   {"add_ms", add_ms},
                   {"compare_ms", compare_ms},
                   {"add_compare_ms", total_ms}}},
                 {"verdict", report.verdict},
                 {"signals", signals}};
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  std::printf("%s\n", Json({{"what", "process"}, {"peak_rss_mib", PeakRssMiB()}}).dump().c_str());
  return 0;
}

}  // namespace
}  // namespace lote::monitoring

int main(int argc, char** argv) { return lote::monitoring::Run(argc, argv); }
