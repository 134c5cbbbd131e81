// End-to-end tests of `lote train classify`, `lote eval` and `lote predict`, including the bad
// inputs issue 2 lists: each must give a clear error or warning naming file and line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "quality_floor.h"

namespace lote::testing {
namespace {

// One trained sample model shared by the tests of this file (training takes about a second).
class ClassifyCli : public SampleModelTest {
 protected:
  TempDir tmp_;
};

TEST_F(ClassifyCli, TrainingTwiceGivesByteIdenticalModels) {
  auto r = RunLote("train classify --train " + kSample + "/train.jsonl --dev " + kSample +
                   "/dev.jsonl --name intents --threads 1 --out " + (tmp_ / "again.lote"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(Model()), ReadAll(tmp_ / "again.lote"));
}

TEST_F(ClassifyCli, EvalJsonHasEveryRequiredFieldAsFractions) {
  auto r = RunLote("eval --model " + Model() + " --data " + kSample + "/test.jsonl --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n"], 371);
  for (const char* k : {"accuracy", "macro_f1", "ece"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_GE(j[k].get<double>(), 0.0);
    EXPECT_LE(j[k].get<double>(), 1.0);
  }
  EXPECT_TRUE(quality::AtLeast("sample test accuracy", j["accuracy"].get<double>(), 0.99));
  ASSERT_TRUE(j["per_label"].contains("consulta_saldo"));
  for (const char* k : {"precision", "recall", "f1", "support"}) {
    EXPECT_TRUE(j["per_label"]["consulta_saldo"].contains(k)) << k;
  }
  EXPECT_TRUE(j["confusions"].is_array());
  EXPECT_FALSE(j.contains("in_scope_accuracy"));  // no oos label in this model
}

TEST_F(ClassifyCli, PredictWritesOneRowPerRecordInInputOrder) {
  WriteAll(tmp_ / "in.txt", "quiero saber mi saldo\n\nme bloquearon la cuenta\nhola\n");
  auto r = RunLote("predict --model " + Model() + " --input " + (tmp_ / "in.txt") +
                   " --top-k 2 --threads 2 --output " + (tmp_ / "out.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(ReadAll(tmp_ / "out.jsonl"));
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["record_id"], 1);
  EXPECT_EQ(rows[1]["record_id"], 3);  // the blank line 2 is not a record
  EXPECT_EQ(rows[0]["label"], "consulta_saldo");
  EXPECT_EQ(rows[1]["label"], "cuenta_bloqueada");
  ASSERT_EQ(rows[0]["top_k"].size(), 2u);
  EXPECT_EQ(rows[0]["top_k"][0]["label"], rows[0]["label"]);
  EXPECT_TRUE(rows[0]["model_version"].get<std::string>().starts_with("intents-"));
}

TEST_F(ClassifyCli, PredictUsesIdFieldAndReportsBadRecordsWithoutStopping) {
  WriteAll(tmp_ / "in.jsonl",
           "{\"id\": \"a1\", \"text\": \"saldo por favor\"}\n"
           "{\"id\": \"a2\", \"text\": \"bad \xff\xfe bytes\"}\n"
           "not json at all\n"
           "{\"id\": \"a4\", \"text\": \"mi tarjeta debito no sirve\"}\n");
  auto r =
      RunLote("predict --model " + Model() + " --input " + (tmp_ / "in.jsonl") + " --id-field id");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["record_id"], "a1");
  EXPECT_TRUE(rows[1].contains("error"));
  EXPECT_EQ(rows[1]["record_id"], 2);  // no id could be read: the line number stands in
  EXPECT_NE(rows[1]["error"].get<std::string>().find("in.jsonl:2"), std::string::npos);
  EXPECT_TRUE(rows[2].contains("error"));
  EXPECT_EQ(rows[2]["record_id"], 3);
  EXPECT_EQ(rows[3]["record_id"], "a4");
  EXPECT_EQ(rows[3]["label"], "tarjeta_debito");
}

TEST_F(ClassifyCli, EmptyFileIsAClearError) {
  WriteAll(tmp_ / "empty.csv", "");
  auto r = RunLote("train classify --train " + (tmp_ / "empty.csv") + " --out " + (tmp_ / "m"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("empty.csv"), std::string::npos) << r.err;
}

TEST_F(ClassifyCli, HeaderOnlyFileIsAClearError) {
  WriteAll(tmp_ / "header.csv", "text,label\n");
  auto r = RunLote("train classify --train " + (tmp_ / "header.csv") + " --out " + (tmp_ / "m"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("header.csv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no valid labelled records"), std::string::npos) << r.err;
}

TEST_F(ClassifyCli, MissingColumnNamesTheColumn) {
  WriteAll(tmp_ / "cols.csv", "text,category\nhola,saludo\nchao,saludo\n");
  auto r = RunLote("train classify --train " + (tmp_ / "cols.csv") + " --out " + (tmp_ / "m"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("label"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cols.csv"), std::string::npos) << r.err;
}

TEST_F(ClassifyCli, InvalidUtf8AndNulRowsAreSkippedWithWarningsNamingTheLine) {
  std::string csv = "text,label\nsaldo disponible,saldo\nbad \xc3\x28 text,saldo\n";
  csv += std::string("nul \0 inside,saldo\n", 19);
  csv += "transferencia fallida,transferencia\nno llega la transferencia,transferencia\n";
  csv += "ver saldo,saldo\n";
  WriteAll(tmp_ / "bad.csv", csv);
  auto r = RunLote("train classify --train " + (tmp_ / "bad.csv") + " --out " + (tmp_ / "m"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bad.csv:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.csv:4"), std::string::npos) << r.err;
}

TEST_F(ClassifyCli, TenMegabyteLineIsHandled) {
  std::string big(10 << 20, 'a');
  WriteAll(tmp_ / "big.txt", "saldo\n" + big + "\nme bloquearon la cuenta\n");
  auto r = RunLote("predict --model " + Model() + " --input " + (tmp_ / "big.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 500);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
  EXPECT_LT(r.err.size(), 2000u);  // never echoes the huge text
}

TEST_F(ClassifyCli, LabelSeenOnceIsAWarning) {
  WriteAll(
      tmp_ / "once.jsonl",
      "{\"text\":\"saldo\",\"label\":\"saldo\"}\n{\"text\":\"ver saldo\",\"label\":\"saldo\"}\n"
      "{\"text\":\"un credito\",\"label\":\"credito\"}\n");
  auto r = RunLote("train classify --train " + (tmp_ / "once.jsonl") + " --out " + (tmp_ / "m"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("'credito' has a single training example"), std::string::npos) << r.err;
}

TEST_F(ClassifyCli, UnknownLabelAtEvalIsWarnedAndCountedWrong) {
  WriteAll(tmp_ / "eval.jsonl",
           "{\"text\":\"cual es mi saldo\",\"label\":\"consulta_saldo\"}\n"
           "{\"text\":\"quiero un seguro de vida\",\"label\":\"seguros\"}\n"
           "{\"text\":\"seguro para el carro\",\"label\":\"seguros\"}\n"
           "{\"text\":\"seguro de viaje\",\"label\":\"seguros\"}\n");
  auto r = RunLote("eval --json --model " + Model() + " --data " + (tmp_ / "eval.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every row of the unseen label is counted, not only its first.
  EXPECT_NE(r.err.find("'seguros' (3 rows)"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.25);
  EXPECT_EQ(j["per_label"]["seguros"]["support"], 3);
  EXPECT_EQ(j["unknown_labels"]["seguros"], 3);
}

TEST_F(ClassifyCli, TruncatedModelFileIsDataLossNamingTheFile) {
  std::string bytes = ReadAll(Model());
  WriteAll(tmp_ / "cut.lote", bytes.substr(0, bytes.size() / 2));
  auto r =
      RunLote("predict --model " + (tmp_ / "cut.lote") + " --input " + kSample + "/test.jsonl");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("cut.lote"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(ClassifyCli, OosModelReportsInScopeAccuracyAndOosRecall) {
  std::string train, dev;
  const char* oos[] = {"cual es la capital de francia",
                       "recomiendame una pelicula",
                       "que hora es en tokio",
                       "cuentame un chiste",
                       "como esta el clima",
                       "receta de arepas",
                       "quien gano el partido",
                       "pon musica"};
  for (auto* t : oos) train += std::string("{\"text\":\"") + t + "\",\"label\":\"oos\"}\n";
  train += ReadAll(kSample + "/train.jsonl");
  dev = ReadAll(kSample + "/dev.jsonl") + "{\"text\":\"dime un chiste\",\"label\":\"oos\"}\n";
  WriteAll(tmp_ / "train.jsonl", train);
  WriteAll(tmp_ / "dev.jsonl", dev);
  auto r = RunLote("train classify --train " + (tmp_ / "train.jsonl") + " --dev " +
                   (tmp_ / "dev.jsonl") + " --oos-label oos --out " + (tmp_ / "oos.lote"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunLote("eval --json --model " + (tmp_ / "oos.lote") + " --data " + (tmp_ / "dev.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("in_scope_accuracy"));
  ASSERT_TRUE(j.contains("oos_recall"));
  EXPECT_TRUE(
      quality::AtLeast("oos model in-scope accuracy", j["in_scope_accuracy"].get<double>(), 0.99));
}

TEST_F(ClassifyCli, MissingInputFileExitsWithInputErrorCode) {
  auto r = RunLote("predict --model " + Model() + " --input " + (tmp_ / "nope.txt"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("nope.txt"), std::string::npos);
}

}  // namespace
}  // namespace lote::testing
