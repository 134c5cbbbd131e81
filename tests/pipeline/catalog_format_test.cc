// FormatQueryResult: the table is safe for a terminal, CSV and JSON keep values as they are.
#include <gtest/gtest.h>

#include <string>

#include "lote/pipeline/catalog.h"

namespace lote::pipeline {
namespace {

QueryResult HostileResult() {
  QueryResult r;
  r.columns = {"id", "nota\x1b[2J"};
  r.rows.push_back({{QueryValue::Type::kText, "a\nlote: error: forged"},
                    {QueryValue::Type::kText, "\x1b[31mrojo\x1b[0m"}});
  r.rows.push_back({{QueryValue::Type::kText, "señor"}, {QueryValue::Type::kNull, ""}});
  return r;
}

TEST(FormatQueryResult, TableEscapesControlCharactersAndKeepsColumnsAligned) {
  // Widths count the escaped text: 22 and 19 code points ("señor" is 5).
  EXPECT_EQ(FormatQueryResult(HostileResult(), QueryFormat::kTable),
            "id" + std::string(20, ' ') + " | nota\\x1b[2J\n" + std::string(22, '-') + "-+-" +
                std::string(19, '-') +
                "\n"
                "a\\nlote: error: forged | \\x1b[31mrojo\\x1b[0m\n"
                "señor" +
                std::string(17, ' ') +
                " | NULL\n"
                "(2 rows)\n");
}

TEST(FormatQueryResult, CsvAndJsonKeepValuesAsTheyAre) {
  EXPECT_EQ(FormatQueryResult(HostileResult(), QueryFormat::kCsv),
            "id,nota\x1b[2J\n"
            "\"a\nlote: error: forged\",\x1b[31mrojo\x1b[0m\n"
            "señor,\n");
  const std::string json = FormatQueryResult(HostileResult(), QueryFormat::kJson);
  EXPECT_NE(json.find("\"a\\nlote: error: forged\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"\\u001b[31mrojo\\u001b[0m\""), std::string::npos) << json;
}

}  // namespace
}  // namespace lote::pipeline
