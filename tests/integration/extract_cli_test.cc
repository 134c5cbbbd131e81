// End-to-end tests of `lote train extract`, `lote eval` on entity data, `lote extract`,
// `lote redact` and `lote bundle` (issue 3), including the bad inputs the issue lists: each gives
// a clear error naming file and line, or an error row, with the documented exit code.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_runner.h"
#include "quality_floor.h"

namespace lote::testing {
namespace {

const std::string kData = std::string(LOTE_TEST_DATA_DIR) + "/extract_cli";

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// One CoNLL and one BRAT tagger, trained once for the file (each takes well under a second).
class ExtractCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto r = TrainCached("train extract --train " + kData + "/train.conll --dev " + kData +
                             "/dev.conll --format conll --name ner",
                         *dir_ / "ner.lote");
    setup_error_ = SetupProblem(r, "training on train.conll");
    r = TrainCached("train extract --train " + kData + "/brat_train --format brat",
                    *dir_ / "brat.lote");
    if (setup_error_.empty()) setup_error_ = SetupProblem(r, "training on brat_train");
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { ASSERT_EQ(setup_error_, ""); }
  static inline std::string setup_error_;
  static std::string Ner() { return *dir_ / "ner.lote"; }
  static std::string Brat() { return *dir_ / "brat.lote"; }
  static TempDir* dir_;
  TempDir tmp_;
};
TempDir* ExtractCli::dir_ = nullptr;

void ExpectFractions(const nlohmann::json& j) {
  for (const char* k : {"precision", "recall", "f1"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_GE(j[k].get<double>(), 0.0) << k;
    EXPECT_LE(j[k].get<double>(), 1.0) << k;
  }
}

TEST_F(ExtractCli, TrainingTwiceGivesByteIdenticalModels) {
  auto r = RunLote("train extract --train " + kData + "/train.conll --dev " + kData +
                   "/dev.conll --format conll --name ner --out " + (tmp_ / "again.lote"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(Ner()), ReadAll(tmp_ / "again.lote"));
}

TEST_F(ExtractCli, DocWindowZeroTrainsAOnePassModel) {
  // Section names are stored in clear in the model container.
  EXPECT_NE(ReadAll(Ner()).find("tagger.doc.weights"), std::string::npos);
  auto r = RunLote("train extract --train " + kData +
                   "/train.conll --format conll --doc-window 0 " + "--out " + (tmp_ / "one.lote"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(tmp_ / "one.lote").find("tagger.doc.weights"), std::string::npos);
  r = RunLote("eval --model " + (tmp_ / "one.lote") + " --data " + kData +
              "/dev.conll --format conll --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectFractions(nlohmann::json::parse(r.out));
  r = RunLote("train extract --train " + kData + "/train.conll --doc-window -1 --out " +
              (tmp_ / "bad.lote"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(ExtractCli, EvalConllJsonHasScoresAsFractionsPerGoldType) {
  auto r =
      RunLote("eval --model " + Ner() + " --data " + kData + "/dev.conll --format conll --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ExpectFractions(j);
  EXPECT_TRUE(j["model_version"].get<std::string>().starts_with("ner-"));
  ASSERT_EQ(j["per_type"].size(), 3u);
  for (const char* type : {"PER", "ORG", "LOC"}) {
    ASSERT_TRUE(j["per_type"].contains(type)) << type;
    ExpectFractions(j["per_type"][type]);
    EXPECT_GT(j["per_type"][type]["support"].get<int>(), 0);
  }
  // Templated sentences: easy.
  EXPECT_TRUE(quality::AtLeast("conll dev entity F1", j["f1"].get<double>(), 0.98));
  EXPECT_EQ(j["n_sentences"], 24);  // every sentence of dev.conll
}

TEST_F(ExtractCli, EvalScoresOnlyGoldTypes) {
  // Gold with PER only: the model's ORG and LOC predictions are ignored, not false positives.
  WriteAll(tmp_ / "per.conll",
           "Juan B-PER\nPérez I-PER\nabrió O\nuna O\ncuenta O\nen O\n"
           "Bancolombia O\n. O\n");
  auto r = RunLote("eval --json --model " + Ner() + " --data " + (tmp_ / "per.conll") +
                   " --format conll");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["per_type"].size(), 1u);
  EXPECT_TRUE(j["per_type"].contains("PER"));
  EXPECT_EQ(j["per_type"]["PER"]["support"], 1);
}

TEST_F(ExtractCli, EvalBratJsonUsesStrictSpans) {
  auto r =
      RunLote("eval --model " + Brat() + " --data " + kData + "/brat_test --format brat --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ExpectFractions(j);
  ASSERT_TRUE(j["per_type"].contains("PER"));
  EXPECT_EQ(j["per_type"]["PER"]["support"], 15);  // every T line of type PER in brat_test
  EXPECT_EQ(j["n_documents"], 5);
  EXPECT_TRUE(quality::AtLeast("brat test strict-span F1", j["f1"].get<double>(), 0.97));
}

TEST_F(ExtractCli, TrainsAndEvaluatesOnEntityJsonlWithATypeSubset) {
  // The bundled sample: short chat messages with entity spans in code points.
  const std::string model = tmp_ / "sample_ner.lote";
  auto r = RunLote("train extract --train " + kSample + "/train.jsonl --dev " + kSample +
                   "/dev.jsonl --types PER,ORG,LOC --out " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("one-pass model"), std::string::npos) << r.err;  // short records

  // Without --types every gold type is scored, and the tagger knows three of twelve.
  r = RunLote("eval --json --model " + model + " --data " + kSample + "/test.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto all = nlohmann::json::parse(r.out);
  EXPECT_EQ(all["per_type"].size(), 12u);
  EXPECT_EQ(all["per_type"]["MONEY"]["recall"], 0.0);

  r = RunLote("eval --json --types PER,ORG,LOC --model " + model + " --data " + kSample +
              "/test.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto three = nlohmann::json::parse(r.out);
  ExpectFractions(three);
  EXPECT_EQ(three["per_type"].size(), 3u);
  EXPECT_EQ(three["n_records"], 371);
  EXPECT_TRUE(quality::AtLeast("sample PER/ORG/LOC F1", three["f1"].get<double>(), 0.96));

  // --patterns scores what `lote extract` writes: the pattern types are found too.
  r = RunLote("eval --json --patterns --reference-date 2024-03-15 --model " + model + " --data " +
              kSample + "/test.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto with_patterns = nlohmann::json::parse(r.out);
  EXPECT_TRUE(quality::AtLeast("sample EMAIL F1 with patterns",
                               with_patterns["per_type"]["EMAIL"]["f1"].get<double>(), 0.98));
  // Relative dates ("ayer", "el domingo pasado") need the reference date.
  EXPECT_TRUE(quality::AtLeast("sample DATE recall with patterns",
                               with_patterns["per_type"]["DATE"]["recall"].get<double>(), 0.98));
  EXPECT_TRUE(quality::AtLeast("sample F1 with patterns", with_patterns["f1"].get<double>(), 0.98));
  EXPECT_TRUE(quality::AtLeast("sample F1, tagger only", all["f1"].get<double>(), 0.5));
  EXPECT_GT(with_patterns["f1"].get<double>(), all["f1"].get<double>());
}

TEST_F(ExtractCli, EvalTaskBothScoresLabelsAndEntitiesInOneObject) {
  const std::string clf = tmp_ / "intents.lote", ner = tmp_ / "ner.lote", both = tmp_ / "b.lote";
  auto r = RunLote("train classify --train " + kSample + "/train.jsonl --out " + clf);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunLote("train extract --train " + kSample + "/train.jsonl --types PER,ORG,LOC --out " + ner);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunLote("bundle --out " + both + " " + clf + " " + ner);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // auto on JSONL with a classifier: classification only, as before.
  r = RunLote("eval --json --model " + both + " --data " + kSample + "/test.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out).contains("entities"));

  r = RunLote("eval --json --task both --patterns --reference-date 2024-03-15 --model " + both +
              " --data " + kSample + "/test.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(quality::AtLeast("bundle sample accuracy", j["accuracy"].get<double>(), 0.985));
  ASSERT_TRUE(j.contains("entities"));
  ExpectFractions(j["entities"]);
  EXPECT_EQ(j["entities"]["per_type"].size(), 12u);
  EXPECT_TRUE(quality::AtLeast("bundle sample entity F1 (12 types)",
                               j["entities"]["f1"].get<double>(), 0.975));

  // CoNLL data has no labels to classify.
  r = RunLote("eval --task both --model " + both + " --data " + kData + "/dev.conll");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no classification labels"), std::string::npos) << r.err;
  r = RunLote("eval --task sideways --model " + both + " --data " + kSample + "/test.jsonl");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ExtractCli, EntityJsonlErrorsNameFileAndLine) {
  WriteAll(tmp_ / "bad.jsonl",
           "{\"text\": \"Ana paga\", \"entities\": [[0, 3, \"PER\"]]}\n"
           "{\"text\": \"Ana paga\", \"entities\": [[0, 30, \"PER\"]]}\n");
  auto r = RunLote("train extract --train " + (tmp_ / "bad.jsonl") + " --out " + (tmp_ / "m.lote"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("bad.jsonl:2: entity 1: span 0-30 out of range"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "m.lote"));

  // A --types name the data does not have is a typo, not an empty model.
  r = RunLote("train extract --train " + kSample + "/dev.jsonl --types PERS --out " +
              (tmp_ / "m.lote"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("type 'PERS' of --types is not in the data"), std::string::npos) << r.err;
}

TEST_F(ExtractCli, ExtractSpansAreCodePointsAfterAccentsAndEmoji) {
  WriteAll(tmp_ / "in.jsonl",
           "{\"id\":\"m1\",\"text\":\"¡Señor! 😀👍 María Gómez pagó $50.000 ayer\"}\n");
  auto r = RunLote("extract --model " + Ner() + " --input " + (tmp_ / "in.jsonl") +
                   " --id-field id --reference-date 2024-03-15 --pii-mode none");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["record_id"], "m1");
  EXPECT_TRUE(rows[0]["model_version"].get<std::string>().starts_with("ner-"));
  bool per = false, money = false, date = false;
  for (const auto& e : rows[0]["entities"]) {
    for (const char* k : {"type", "start", "end", "text", "score"}) ASSERT_TRUE(e.contains(k)) << k;
    if (e["type"] == "PER") {
      per = true;
      // "¡Señor! " is 8 code points, "😀👍 " 3 more (bytes would say 18).
      EXPECT_EQ(e["start"], 11);
      EXPECT_EQ(e["end"], 22);
      EXPECT_EQ(e["text"], "María Gómez");
    }
    if (e["type"] == "MONEY") {
      money = true;
      EXPECT_EQ(e["start"], 28);
      EXPECT_EQ(e["end"], 35);
      EXPECT_EQ(e["value"]["amount"], 50000);
      EXPECT_EQ(e["value"]["currency"], "COP");
    }
    if (e["type"] == "DATE") {
      date = true;
      EXPECT_EQ(e["value"], "2024-03-14");
    }
  }
  EXPECT_TRUE(per && money && date) << r.out;
}

TEST_F(ExtractCli, ExtractNoPatternsKeepsOnlyModelEntities) {
  WriteAll(tmp_ / "in.txt", "María Gómez pagó $50.000 ayer\n");
  auto r = RunLote("extract --no-patterns --model " + Ner() + " --input " + (tmp_ / "in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  for (const auto& e : rows[0]["entities"]) EXPECT_NE(e["type"], "MONEY");
}

TEST_F(ExtractCli, InvalidUtf8RecordIsAnErrorRowAndTheRestIsProcessed) {
  WriteAll(tmp_ / "in.txt", "Juan Pérez vive en Cali\nmal \xc3\x28 texto\nAna López\n");
  auto r = RunLote("extract --model " + Ner() + " --input " + (tmp_ / "in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0].contains("entities"));
  ASSERT_TRUE(rows[1].contains("error"));
  EXPECT_NE(rows[1]["error"].get<std::string>().find("in.txt:2"), std::string::npos);
  EXPECT_FALSE(rows[1].contains("entities"));
  EXPECT_TRUE(rows[2].contains("entities"));
}

TEST_F(ExtractCli, BadReferenceDateIsAUsageError) {
  WriteAll(tmp_ / "in.txt", "hola\n");
  auto r = RunLote("extract --model " + Ner() + " --input " + (tmp_ / "in.txt") +
                   " --reference-date 2024-02-30");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--reference-date"), std::string::npos) << r.err;
}

// --- redact ---------------------------------------------------------------------------------

const char kPii[] =
    "{\"id\":\"r1\",\"text\":\"María Gómez pidió un crédito, cel 3001234567, correo "
    "maria.gomez@example.com\"}\n"
    "{\"id\":\"r2\",\"text\":\"Llamar al 300 123 4567 mañana\"}\n";

void ExpectNoClearValues(const CliResult& r) {
  for (const char* clear : {"3001234567", "300 123 4567", "maria.gomez", "María Gómez"}) {
    EXPECT_EQ(r.out.find(clear), std::string::npos) << clear << "\n" << r.out;
    EXPECT_EQ(r.err.find(clear), std::string::npos) << clear << "\n" << r.err;
  }
}

TEST_F(ExtractCli, RedactMaskKeepsLengthAndReportsSpans) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  auto r = RunLote("redact --mode mask --model " + Ner() + " --id-field id --input " +
                   (tmp_ / "in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectNoClearValues(r);
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["text"],
            "*********** pidió un crédito, cel **********, correo ***********************");
  ASSERT_EQ(rows[0]["redactions"].size(), 3u);
  EXPECT_EQ(rows[0]["redactions"][0]["type"], "PER");
  EXPECT_EQ(rows[0]["redactions"][0]["start"], 0);
  EXPECT_EQ(rows[0]["redactions"][0]["end"], 11);
  EXPECT_EQ(rows[0]["redactions"][1]["type"], "PHONE");
  EXPECT_EQ(rows[0]["redactions"][2]["type"], "EMAIL");
  EXPECT_TRUE(rows[0]["model_version"].get<std::string>().starts_with("ner-"));
}

TEST_F(ExtractCli, RedactTypeModeWithoutModelUsesPatternsOnly) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  auto r = RunLote("redact --mode type --id-field id --input " + (tmp_ / "in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  // No tagger: the name stays, the phone and e-mail go.
  EXPECT_EQ(rows[0]["text"], "María Gómez pidió un crédito, cel [PHONE], correo [EMAIL]");
  // Spans are in the redacted text's code points.
  EXPECT_EQ(rows[0]["redactions"][0]["type"], "PHONE");
  EXPECT_EQ(rows[0]["redactions"][0]["start"], 34);
  EXPECT_EQ(rows[0]["redactions"][0]["end"], 41);
  EXPECT_TRUE(!rows[0].contains("model_version") || rows[0]["model_version"].is_null());
}

TEST_F(ExtractCli, RedactTypesFlagLimitsWhatIsReplaced) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  auto r = RunLote("redact --mode type --types EMAIL --id-field id --input " + (tmp_ / "in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = JsonLines(r.out);
  EXPECT_EQ(rows[0]["text"], "María Gómez pidió un crédito, cel 3001234567, correo [EMAIL]");
}

TEST_F(ExtractCli, RedactHashGivesTheSameTokenForTheSameValueWithEnvOrKeyFile) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  auto env = RunLote(
      "redact --mode hash --model " + Ner() + " --id-field id --input " + (tmp_ / "in.jsonl"),
      "LOTE_PII_KEY=s3cret-0123456789");
  ASSERT_EQ(env.exit_code, 0) << env.err;
  ExpectNoClearValues(env);
  auto rows = JsonLines(env.out);
  ASSERT_EQ(rows.size(), 2u);
  // The same phone written two ways normalizes to one value, hence one token.
  const std::string t0 = rows[0]["text"], t1 = rows[1]["text"];
  const size_t p0 = t0.find("[PHONE_"), p1 = t1.find("[PHONE_");
  ASSERT_NE(p0, std::string::npos) << t0;
  ASSERT_NE(p1, std::string::npos) << t1;
  EXPECT_EQ(t0.substr(p0, 24), t1.substr(p1, 24));
  EXPECT_EQ(t0[p0 + 23], ']');

  WriteAll(tmp_ / "key", "s3cret-0123456789\r\n");  // the line ending is not part of the key
  auto file = RunLote("redact --mode hash --key-file " + (tmp_ / "key") + " --model " + Ner() +
                      " --id-field id --input " + (tmp_ / "in.jsonl"));
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, env.out);

  auto other = RunLote(
      "redact --mode hash --model " + Ner() + " --id-field id --input " + (tmp_ / "in.jsonl"),
      "LOTE_PII_KEY=another-0123456789");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(other.out, env.out);
}

TEST_F(ExtractCli, RedactHashWithoutKeyIsAUsageError) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  auto r = RunLote("redact --mode hash --input " + (tmp_ / "in.jsonl"), "env -u LOTE_PII_KEY");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("LOTE_PII_KEY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--key-file"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(ExtractCli, AKeyShorterThanSixteenBytesIsRefusedByEveryCommand) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  WriteAll(tmp_ / "short", "fifteen-bytes!!\n");
  for (const std::string& cmd :
       {"redact --mode hash --key-file " + (tmp_ / "short"),
        "predict --model " + Ner() + " --pii-mode hash --pii-key-file " + (tmp_ / "short"),
        "extract --model " + Ner() + " --pii-mode hash --pii-key-file " + (tmp_ / "short")}) {
    auto r = RunLote(cmd + " --input " + (tmp_ / "in.jsonl"));
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find("15 bytes"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("fifteen"), std::string::npos) << r.err;  // never the key itself
    EXPECT_TRUE(r.out.empty());
  }
  auto env = RunLote("redact --mode hash --input " + (tmp_ / "in.jsonl"), "LOTE_PII_KEY=short");
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.err.find("LOTE_PII_KEY"), std::string::npos) << env.err;
}

// predict and extract take `lote run`'s PII options and write what the server will return:
// masked by default, pseudonyms with hash that join with `lote redact`'s.
TEST_F(ExtractCli, PredictAndExtractApplyThePiiPolicyLikeRun) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  for (const std::string& cmd : {std::string("extract"), std::string("predict")}) {
    auto masked =
        RunLote(cmd + " --model " + Ner() + " --id-field id --input " + (tmp_ / "in.jsonl"));
    ASSERT_EQ(masked.exit_code, 0) << masked.err;
    ExpectNoClearValues(masked);
    bool saw_phone = false;
    for (const auto& row : JsonLines(masked.out)) {
      for (const auto& e : row["entities"]) {
        if (e["type"] == "PHONE") {
          saw_phone = true;
          const std::string t = e["text"];
          EXPECT_EQ(t.find_first_not_of('*'), std::string::npos) << t;
          EXPECT_FALSE(e.contains("value"));
        }
      }
    }
    EXPECT_TRUE(saw_phone) << cmd;
    auto typed = RunLote(cmd + " --model " + Ner() + " --pii-mode type --pii-types EMAIL" +
                         " --id-field id --input " + (tmp_ / "in.jsonl"));
    ASSERT_EQ(typed.exit_code, 0) << typed.err;
    EXPECT_NE(typed.out.find("[EMAIL]"), std::string::npos);
    EXPECT_NE(typed.out.find("3001234567"), std::string::npos);  // not a listed type
  }
  WriteAll(tmp_ / "key", "s3cret-0123456789\r\n");
  auto hashed = RunLote("extract --model " + Ner() + " --pii-mode hash --pii-key-file " +
                        (tmp_ / "key") + " --id-field id --input " + (tmp_ / "in.jsonl"));
  ASSERT_EQ(hashed.exit_code, 0) << hashed.err;
  ExpectNoClearValues(hashed);
  auto redacted = RunLote("redact --mode hash --key-file " + (tmp_ / "key") + " --model " + Ner() +
                          " --id-field id --input " + (tmp_ / "in.jsonl"));
  ASSERT_EQ(redacted.exit_code, 0) << redacted.err;
  // The phone's pseudonym is the same token in both outputs: the key file was read the same way.
  const std::string text = JsonLines(redacted.out)[0]["text"];
  const size_t p = text.find("[PHONE_");
  ASSERT_NE(p, std::string::npos) << text;
  EXPECT_NE(hashed.out.find(text.substr(p, 24)), std::string::npos) << hashed.out;
}

TEST_F(ExtractCli, BadFlagValuesAreUsageErrors) {
  WriteAll(tmp_ / "in.jsonl", kPii);
  for (const std::string flags :
       {"predict --top-k -1", "predict --top-k 0", "predict --reference-date 2024-13-45",
        "extract --reference-date yesterday", "predict --threads -2", "extract --threads 100000",
        "redact --mode type --threads -1", "predict --pii-mode scramble",
        "predict --max-record-bytes 10", "redact --mode type --reference-date 2024-02-30"}) {
    const bool needs_model = flags.rfind("redact", 0) != 0;
    auto r = RunLote(flags + (needs_model ? " --model " + Ner() : std::string()) + " --input " +
                     (tmp_ / "in.jsonl"));
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << flags;
  }
}

// A record over the cap is one error row and memory stays bounded by the cap: a 40 MiB line is
// never buffered.
TEST_F(ExtractCli, ARecordOverTheCapIsAnErrorRowAndTheRestIsRead) {
  std::string big = "{\"id\":\"big\",\"text\":\"" + std::string(40 << 20, 'a') + "\"}\n";
  WriteAll(tmp_ / "in.jsonl",
           "{\"id\":\"a\",\"text\":\"hola\"}\n" + big + "{\"id\":\"c\",\"text\":\"chao\"}\n");
  auto r = RunLote("predict --model " + Ner() + " --id-field id --input " + (tmp_ / "in.jsonl") +
                   " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The largest child this process has waited for (the suite's training, or this predict): before
  // the cap, this line alone took 4.7 GB in `lote predict`. (Peak resident memory rather than an
  // address-space limit, which the sanitizer builds' shadow memory would exceed.)
  struct rusage ru;
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &ru), 0);
  EXPECT_LT(ru.ru_maxrss, 1000000) << "KiB";
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[1].contains("error"));
  EXPECT_NE(rows[1]["error"].get<std::string>().find("longer than 1048576 bytes"),
            std::string::npos);
  EXPECT_EQ(rows[2]["record_id"], "c");
}

TEST_F(ExtractCli, RedactUnknownModeIsAUsageError) {
  WriteAll(tmp_ / "in.txt", "hola\n");
  auto r = RunLote("redact --mode scramble --input " + (tmp_ / "in.txt"));
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ExtractCli, RedactErrorRowCarriesOnlyTheReason) {
  // A bad record holding a phone number: its row and stderr name the line, never the text.
  WriteAll(tmp_ / "in.txt", "cel 3001234567 \xff ok\nmi cel 3001234567\n");
  auto r = RunLote("redact --mode type --input " + (tmp_ / "in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("3001234567"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("3001234567"), std::string::npos) << r.err;
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_TRUE(rows[0].contains("error"));
  EXPECT_FALSE(rows[0].contains("text"));
  EXPECT_NE(rows[0]["error"].get<std::string>().find("in.txt:1"), std::string::npos);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("invalid UTF-8"), std::string::npos);
  EXPECT_EQ(rows[1]["text"], "mi cel [PHONE]");
}

// --- bundle ---------------------------------------------------------------------------------

TEST_F(ExtractCli, BundlePredictsLabelAndEntitiesInOnePass) {
  auto r = RunLote("train classify --train " + kSample + "/train.jsonl --dev " + kSample +
                   "/dev.jsonl --name intents --out " + (tmp_ / "intents.lote"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunLote("bundle --out " + (tmp_ / "both.lote") + " --name banca " + (tmp_ / "intents.lote") +
              " " + Ner());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteAll(tmp_ / "in.txt", "María Gómez quiere saber su saldo, cel 3001234567\n");
  r = RunLote("predict --model " + (tmp_ / "both.lote") + " --input " + (tmp_ / "in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["label"], "consulta_saldo");
  EXPECT_TRUE(rows[0].contains("top_k"));
  EXPECT_TRUE(rows[0]["model_version"].get<std::string>().starts_with("banca-"));
  std::set<std::string> types;
  for (const auto& e : rows[0]["entities"]) types.insert(e["type"].get<std::string>());
  EXPECT_TRUE(types.count("PER")) << r.out;
  EXPECT_TRUE(types.count("PHONE")) << r.out;

  // The classifier alone keeps its entity-free rows.
  r = RunLote("predict --model " + (tmp_ / "intents.lote") + " --input " + (tmp_ / "in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rows = JsonLines(r.out);
  EXPECT_FALSE(rows[0].contains("entities"));

  // The bundled tagger is the trained one: eval gives the same scores.
  auto a = RunLote("eval --json --model " + Ner() + " --data " + kData + "/dev.conll");
  auto b =
      RunLote("eval --json --model " + (tmp_ / "both.lote") + " --data " + kData + "/dev.conll");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(nlohmann::json::parse(a.out)["f1"], nlohmann::json::parse(b.out)["f1"]);
}

TEST_F(ExtractCli, BundleOfTwoTaggersIsRefused) {
  auto r = RunLote("bundle --out " + (tmp_ / "x.lote") + " " + Ner() + " " + Brat());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("more than one"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "x.lote"));
}

// --- bad training / evaluation data ---------------------------------------------------------

TEST_F(ExtractCli, ConllLineWithoutTagColumnNamesFileAndLine) {
  WriteAll(tmp_ / "bad.conll", "Juan B-PER\nPérez I-PER\n\nvive O\nen\nCali B-LOC\n");
  auto r = RunLote("train extract --train " + (tmp_ / "bad.conll") + " --format conll --out " +
                   (tmp_ / "m.lote"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("bad.conll:5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing tag column"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "m.lote"));
}

TEST_F(ExtractCli, ConllUnknownTagPrefixNamesFileAndLine) {
  WriteAll(tmp_ / "bad.conll", "Juan B-PER\nPérez X-PER\n");
  auto r = RunLote("eval --model " + Ner() + " --data " + (tmp_ / "bad.conll") + " --format conll");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("bad.conll:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("X-PER"), std::string::npos) << r.err;
}

TEST_F(ExtractCli, EmptyConllFileIsAClearError) {
  WriteAll(tmp_ / "empty.conll", "");
  auto r = RunLote("train extract --train " + (tmp_ / "empty.conll") + " --format conll --out " +
                   (tmp_ / "m.lote"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("empty.conll"), std::string::npos) << r.err;
}

TEST_F(ExtractCli, BratOffsetsOutOfRangeNameFileAndLine) {
  std::filesystem::create_directory(tmp_ / "brat");
  WriteAll(tmp_ / "brat/a.txt", "Juan Pérez vive en Cali.\n");
  WriteAll(tmp_ / "brat/a.ann", "T1\tPER 0 10\tJuan Pérez\nT2\tLOC 19 90\tCali\n");
  auto r = RunLote("train extract --train " + (tmp_ / "brat") + " --format brat --out " +
                   (tmp_ / "m.lote"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("a.ann:2"), std::string::npos) << r.err;
  r = RunLote("eval --model " + Brat() + " --data " + (tmp_ / "brat") + " --format brat");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("a.ann:2"), std::string::npos) << r.err;
}

TEST_F(ExtractCli, EvalOfAClassifierOnEntityDataIsAClearError) {
  auto r = RunLote("train classify --train " + kSample + "/train.jsonl --out " +
                   (tmp_ / "intents.lote"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunLote("eval --model " + (tmp_ / "intents.lote") + " --data " + kData + "/dev.conll");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no entity tagger"), std::string::npos) << r.err;
}

TEST_F(ExtractCli, MissingModelExitsWithInputErrorCode) {
  WriteAll(tmp_ / "in.txt", "hola\n");
  auto r = RunLote("extract --model " + (tmp_ / "nope.lote") + " --input " + (tmp_ / "in.txt"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("nope.lote"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lote::testing
