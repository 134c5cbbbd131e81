// Helpers shared by the pipeline unit and integration tests: reading published parts back.
#ifndef LOTE_TESTS_PIPELINE_PIPELINE_TEST_UTIL_H_
#define LOTE_TESTS_PIPELINE_PIPELINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lote/io/byte_source.h"
#include "lote/storage/storage.h"

namespace lote::pipeline::testing {

// Every row of every part-*.jsonl.zst below `prefix` (sorted by part URI), as JSON.
inline std::vector<nlohmann::json> ReadRows(storage::Storage& storage, const std::string& prefix,
                                            std::vector<std::string>* part_uris = nullptr) {
  std::vector<nlohmann::json> rows;
  auto listed = storage.List(prefix);
  if (!listed.ok()) return rows;  // nothing published
  for (const auto& info : *listed) {
    if (info.uri.find("/part-") == std::string::npos) continue;
    if (part_uris != nullptr) part_uris->push_back(info.uri);
    auto raw = storage.OpenRead(info.uri);
    EXPECT_TRUE(raw.ok()) << raw.status().ToString();
    if (!raw.ok()) continue;
    auto source = io::MakeZstdSource(std::move(raw).value());
    io::LineReader lines(source.get());
    std::string line;
    while (true) {
      auto next = lines.Next(&line);
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !*next) break;
      rows.push_back(nlohmann::json::parse(line));
    }
  }
  return rows;
}

}  // namespace lote::pipeline::testing

#endif  // LOTE_TESTS_PIPELINE_PIPELINE_TEST_UTIL_H_
