// `lote registry` through the CLI: register two versions, point champion at one, run and
// predict with models:/ URIs (every row names the version that scored it), move the alias and
// roll it back with the history printed, and bad input: unknown aliases, a tampered file, a
// registry with an event missing, a file that is not a model.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class RegistryCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    // A second version: the same classifier bundled under another name (other bytes).
    ASSERT_EQ(
        RunLote("bundle --out " + (tmp_ / "v2.lote") + " --name intents-b " + Model()).exit_code,
        0);
    env_ = "LOTE_REGISTRY=" + (tmp_ / "registry") + " LOTE_USER=ana";
  }
  CliResult Lote(const std::string& args) { return RunLote(args, env_); }
  TempDir tmp_;
  std::string env_;
};

TEST_F(RegistryCli, VersionsAliasesAndTheirHistoryServeRunsAndPredictions) {
  auto r1 = Lote("registry register --name intents --model " + Model() +
                 " --tag team=ml --description \"sample model\" --json");
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const Json v1 = Json::parse(r1.out);
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["registered_by"], "ana");
  EXPECT_EQ(v1["tags"]["team"], "ml");
  // Training data and parameters come from the model file.
  EXPECT_EQ(v1["parts"]["classifier"]["training"]["train_file"], "train.jsonl");
  auto r2 = Lote("registry register --name intents --model " + (tmp_ / "v2.lote"));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_NE(r2.out.find("models:/intents/2"), std::string::npos) << r2.out;
  ASSERT_EQ(Lote("registry alias set intents champion 1 --reason \"first\"").exit_code, 0);

  // A run with the alias: resolved once, said on stderr, and every row names the version.
  ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  auto run = Lote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") +
                  " --model models:/intents@champion --log-format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("models:/intents@champion is models:/intents/1"), std::string::npos)
      << run.err;
  EXPECT_EQ(Json::parse(run.out)["model_version"], v1["model_version_id"]);
  auto q = Lote("query --output " + (tmp_ / "out") +
                " --format csv \"SELECT DISTINCT model_version FROM results\"");
  EXPECT_EQ(q.out, "model_version\n" + v1["model_version_id"].get<std::string>() + "\n");

  // Promote version 2, predict with it, roll back: predictions follow the alias.
  ASSERT_EQ(Lote("registry alias set intents champion 2 --reason \"better on golden\"").exit_code,
            0);
  WriteAll(tmp_ / "one.jsonl", "{\"text\": \"quiero consultar mi saldo\"}\n");
  auto p2 = Lote("predict --model models:/intents@champion --input " + (tmp_ / "one.jsonl"));
  ASSERT_EQ(p2.exit_code, 0) << p2.err;
  EXPECT_NE(p2.out.find("intents-b-"), std::string::npos) << p2.out;
  auto rb = Lote("registry rollback intents champion --reason \"complaints\"");
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_NE(rb.out.find("rolled back to version 1"), std::string::npos);
  auto p1 = Lote("predict --model models:/intents@champion --input " + (tmp_ / "one.jsonl"));
  EXPECT_NE(p1.out.find(v1["model_version_id"].get<std::string>()), std::string::npos) << p1.out;

  auto history = Lote("registry alias-history intents --json");
  ASSERT_EQ(history.exit_code, 0) << history.err;
  const Json h = Json::parse(history.out);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0]["action"], "set");
  EXPECT_EQ(h[1]["from_version"], 1);
  EXPECT_EQ(h[1]["to_version"], 2);
  EXPECT_EQ(h[1]["reason"], "better on golden");
  EXPECT_EQ(h[1]["by"], "ana");
  EXPECT_EQ(h[2]["action"], "rollback");
  EXPECT_EQ(h[2]["to_version"], 1);
  EXPECT_EQ(h[2]["model_sha256"], v1["model_sha256"]);
  auto text = Lote("registry alias-history intents");
  EXPECT_NE(text.out.find("champion     rollback   2 -> 1   by ana: complaints"), std::string::npos)
      << text.out;

  ASSERT_EQ(Lote("registry approve intents 1 --reason \"golden set\"").exit_code, 0);
  ASSERT_EQ(Lote("registry reject intents 2 --reason \"complaints\"").exit_code, 0);
  ASSERT_EQ(Lote("registry tag intents/1 stage=prod").exit_code, 0);
  auto show = Lote("registry show intents --json");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const Json m = Json::parse(show.out);
  EXPECT_EQ(m["aliases"]["champion"], 1);
  EXPECT_EQ(m["versions"][0]["status"], "approved");
  EXPECT_EQ(m["versions"][0]["tags"]["stage"], "prod");
  EXPECT_EQ(m["versions"][1]["status"], "rejected");
  auto list = Lote("registry list --json");
  EXPECT_EQ(Json::parse(list.out)[0]["name"], "intents");
  auto resolve = Lote("registry resolve models:/intents@champion");
  EXPECT_NE(resolve.out.find("-> models:/intents/1"), std::string::npos) << resolve.out;
}

TEST_F(RegistryCli, TheRegistryComesFromTheFlagTheConfigOrTheEnvironment) {
  ASSERT_EQ(Lote("registry register --name intents --model " + Model()).exit_code, 0);
  ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  const std::string unset = "env -u LOTE_REGISTRY";
  auto flag = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "a") +
                          " --model models:/intents/1 --registry " + (tmp_ / "registry"),
                      unset);
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  const std::string cfg = tmp_ / "pipeline.yaml";
  std::ofstream(cfg) << "model: models:/intents/1\nregistry: " << (tmp_ / "registry") << "\n";
  auto config = RunLote(
      "run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "b") + " --config " + cfg, unset);
  EXPECT_EQ(config.exit_code, 0) << config.err;
  auto none = RunLote(
      "run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "c") + " --model models:/intents/1",
      unset);
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("LOTE_REGISTRY"), std::string::npos) << none.err;
}

TEST_F(RegistryCli, PromotionMovesTheAliasOnlyForABetterCandidate) {
  const std::string corrupt = TrainCorruptedSampleModel(tmp_);
  ASSERT_FALSE(corrupt.empty());
  const std::string golden = std::string(LOTE_SAMPLE_DIR) + "/dev.jsonl";
  ASSERT_EQ(Lote("registry register --name intents --model " + Model()).exit_code, 0);
  ASSERT_EQ(Lote("registry register --name intents --model " + corrupt).exit_code, 0);
  // No champion yet: the first promotion makes one.
  auto first = Lote("promote --name intents --candidate 1 --golden " + golden + " --json");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(Json::parse(first.out)["promote"], true);
  // The corrupted candidate is rejected with the evidence; the champion stays.
  auto worse = Lote("promote --name intents --candidate 2 --golden " + golden + " --json");
  ASSERT_EQ(worse.exit_code, 0) << worse.err;
  const Json w = Json::parse(worse.out);
  EXPECT_EQ(w["promote"], false);
  EXPECT_EQ(w["alias_moved"], false);
  EXPECT_GT(w["mcnemar"]["b"].get<int>(), w["mcnemar"]["c"].get<int>());
  EXPECT_LT(w["candidate_accuracy"].get<double>(), w["champion_accuracy"].get<double>());
  EXPECT_EQ(w["golden"]["sha256"].get<std::string>().size(), 64u);
  auto show = Json::parse(Lote("registry show intents --json").out);
  EXPECT_EQ(show["aliases"]["champion"], 1);
  EXPECT_EQ(show["versions"][1]["status"], "rejected");
  EXPECT_NE(show["versions"][1]["status_reason"].get<std::string>().find("not more accurate"),
            std::string::npos);
  // The other way round (a bad champion, the good model as candidate): promoted, and the alias
  // history keeps the test's evidence.
  ASSERT_EQ(Lote("registry alias set intents champion 2 --reason \"test setup\"").exit_code, 0);
  ASSERT_EQ(Lote("registry register --name intents --model " + Model()).exit_code, 0);
  auto better = Lote("promote --name intents --candidate 3 --golden " + golden);
  ASSERT_EQ(better.exit_code, 0) << better.err;
  EXPECT_NE(better.out.find("PROMOTE"), std::string::npos) << better.out;
  EXPECT_NE(better.out.find("only candidate right"), std::string::npos) << better.out;
  const Json h = Json::parse(Lote("registry alias-history intents --json").out);
  const Json& last = h.back();
  EXPECT_EQ(last["to_version"], 3);
  EXPECT_EQ(last["from_version"], 2);
  EXPECT_EQ(last["by"], "ana");
  EXPECT_LT(last["evaluation"]["mcnemar"]["p_value"].get<double>(), 0.05);
  EXPECT_EQ(last["evaluation"]["candidate"], 3);
  // Bad input: no such version, the champion itself, a golden file that is missing.
  EXPECT_EQ(Lote("promote --name intents --candidate 9 --golden " + golden).exit_code, 3);
  EXPECT_EQ(Lote("promote --name intents --candidate 3 --golden " + golden).exit_code, 3);
  EXPECT_EQ(Lote("promote --name intents --candidate 1 --golden " + (tmp_ / "no.jsonl")).exit_code,
            3);
}

TEST_F(RegistryCli, ExtractionModelsArePromotedByEntityF1OverDocuments) {
  // A weak tagger (150 records) and a strong one (the whole sample), both PER, ORG, LOC.
  const std::string sample = LOTE_SAMPLE_DIR;
  std::string small;
  {
    std::ifstream in(sample + "/train.jsonl");
    std::string line;
    for (int i = 0; i < 150 && std::getline(in, line); ++i) small += line + "\n";
  }
  WriteAll(tmp_ / "small.jsonl", small);
  ASSERT_EQ(Lote("train extract --train " + (tmp_ / "small.jsonl") + " --types PER,ORG,LOC --out " +
                 (tmp_ / "weak.lote"))
                .exit_code,
            0);
  ASSERT_EQ(Lote("train extract --train " + sample + "/train.jsonl --types PER,ORG,LOC --out " +
                 (tmp_ / "strong.lote"))
                .exit_code,
            0);
  ASSERT_EQ(Lote("registry register --name ner --model " + (tmp_ / "weak.lote")).exit_code, 0);
  ASSERT_EQ(Lote("registry register --name ner --model " + (tmp_ / "strong.lote")).exit_code, 0);
  const std::string golden = sample + "/dev.jsonl";  // entity JSONL: one document per record
  // No champion yet: the first promotion makes one, with its F1 recorded.
  auto first = Lote("promote --name ner --candidate 1 --golden " + golden + " --json");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const Json f = Json::parse(first.out);
  EXPECT_EQ(f["promote"], true);
  EXPECT_GT(f["candidate_f1"].get<double>(), 0.2);
  EXPECT_LT(f["candidate_f1"].get<double>(), 0.6);
  auto better = Lote("promote --name ner --candidate 2 --golden " + golden + " --json");
  ASSERT_EQ(better.exit_code, 0) << better.err;
  const Json b = Json::parse(better.out);
  EXPECT_EQ(b["kind"], "entities");
  EXPECT_EQ(b["promote"], true) << b["reason"];
  EXPECT_EQ(b["units"], 371);
  EXPECT_GT(b["candidate_f1"].get<double>(), b["champion_f1"].get<double>());
  EXPECT_LT(b["p_value"].get<double>(), 0.01);
  EXPECT_EQ(Json::parse(Lote("registry show ner --json").out)["aliases"]["champion"], 2);
  // The weak one again, now against the strong champion: rejected, the types it loses named.
  ASSERT_EQ(Lote("registry register --name ner --model " + (tmp_ / "weak.lote")).exit_code, 0);
  auto worse = Lote("promote --name ner --candidate 3 --golden " + golden);
  ASSERT_EQ(worse.exit_code, 0) << worse.err;
  EXPECT_NE(worse.out.find("REJECT"), std::string::npos) << worse.out;
  EXPECT_NE(worse.out.find("worse: ORG"), std::string::npos) << worse.out;
  auto show = Json::parse(Lote("registry show ner --json").out);
  EXPECT_EQ(show["aliases"]["champion"], 2);
  EXPECT_EQ(show["versions"][2]["status"], "rejected");
  // A classifier against an entity champion: refused, nothing changes.
  ASSERT_EQ(Lote("registry register --name ner --model " + Model()).exit_code, 0);
  auto mixed = Lote("promote --name ner --candidate 4 --golden " + golden);
  EXPECT_EQ(mixed.exit_code, 3) << mixed.err;
  EXPECT_NE(mixed.err.find("different kinds of model"), std::string::npos) << mixed.err;
}

TEST_F(RegistryCli, ShadowScoringWritesTheChallengersPredictionsBesideTheChampions) {
  const std::string corrupt = TrainCorruptedSampleModel(tmp_);
  ASSERT_FALSE(corrupt.empty());
  ASSERT_EQ(Lote("registry register --name intents --model " + Model()).exit_code, 0);
  ASSERT_EQ(Lote("registry register --name intents --model " + (tmp_ / "v2.lote")).exit_code, 0);
  ASSERT_EQ(Lote("registry register --name intents --model " + corrupt).exit_code, 0);
  ASSERT_EQ(Lote("registry alias set intents champion 1").exit_code, 0);
  ASSERT_EQ(Lote("registry alias set intents challenger 2").exit_code, 0);
  ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  // Version 2 is the same classifier under another name: it agrees on every record.
  auto run = Lote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") +
                  " --model models:/intents@champion --shadow models:/intents@challenger" +
                  " --log-format json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json r = Json::parse(run.out);
  const uint64_t out = r["records_out"];
  EXPECT_EQ(r["shadow"]["records"], out);
  EXPECT_EQ(r["shadow"]["agree"], out);
  EXPECT_EQ(r["monitoring"]["shadow"]["agreement"], 1.0);
  const Json show = Json::parse(Lote("registry show intents --json").out);
  const std::string v2 = show["versions"][1]["model_version_id"];
  // The shadow rows sit beside the results, one per results row, under their own model=.
  size_t rows = 0;
  for (const auto& e : fs::recursive_directory_iterator(tmp_ / "out/shadow")) {
    if (!e.is_regular_file()) continue;
    EXPECT_NE(e.path().string().find("/model=" + v2 + "/"), std::string::npos) << e.path();
    const std::string cmd = "zstdcat " + e.path().string() + " | wc -l";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[64] = {};
    ASSERT_NE(fgets(buf, sizeof buf, p), nullptr);
    pclose(p);
    rows += std::stoul(buf);
  }
  EXPECT_EQ(rows, out);
  // The results are the champion's alone.
  auto q = Lote("query --output " + (tmp_ / "out") +
                " --format csv \"SELECT count(*), count(DISTINCT model_version) FROM results\"");
  EXPECT_EQ(q.out, "count(*),count(DISTINCT model_version)\n" + std::to_string(out) + ",1\n");

  // A challenger trained on scrambled labels disagrees often; a new run (another command: the
  // shadow is part of what a run is) scores the same lake's new objects only, so use a new
  // output.
  ASSERT_EQ(Lote("registry alias set intents challenger 3").exit_code, 0);
  auto worse = Lote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out2") +
                    " --model models:/intents@champion --shadow models:/intents@challenger");
  ASSERT_EQ(worse.exit_code, 0) << worse.err;
  const std::string v3 = show["versions"][2]["model_version_id"];
  EXPECT_NE(worse.out.find("shadow " + v3 + ": " + std::to_string(out) + " records"),
            std::string::npos)
      << worse.out;
  std::string monitoring;
  for (const auto& e : fs::recursive_directory_iterator(tmp_ / "out2/_runs")) {
    if (e.path().filename() == "monitoring.json") monitoring = ReadAll(e.path());
  }
  const Json shadow = Json::parse(monitoring)["shadow"];
  EXPECT_EQ(shadow["model_version"], v3);
  EXPECT_LT(shadow["agreement"].get<double>(), 0.9);
  EXPECT_LT(shadow["agreement_low"].get<double>(), shadow["agreement"].get<double>());
  // The champion as its own shadow, and --shadow with a stage command: refused.
  auto self = Lote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out3") +
                   " --model models:/intents/1 --shadow models:/intents/1");
  EXPECT_EQ(self.exit_code, 2) << self.err;
  EXPECT_NE(self.err.find("the shadow model is the model itself"), std::string::npos) << self.err;
  EXPECT_NE(Lote("infer --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out4") + " --model " +
                 Model() + " --shadow " + Model())
                .exit_code,
            0);

  // The stages: infer --shadow hands the challenger's predictions over beside the champion's,
  // publish writes them; the report and the rows are lote run's.
  const std::string staged = " --output " + (tmp_ / "staged");
  ASSERT_EQ(Lote("ingest --input " + (tmp_ / "lake") + staged).exit_code, 0);
  ASSERT_EQ(Lote("prep" + staged).exit_code, 0);
  EXPECT_EQ(Lote("prep --shadow " + Model() + staged).exit_code, 2);  // scores nothing
  auto infer =
      Lote("infer --model models:/intents@champion --shadow models:/intents@challenger" + staged);
  ASSERT_EQ(infer.exit_code, 0) << infer.err;
  // The same command again skips what is done; another shadow is another inference.
  auto again = Lote(
      "infer --log-format json --model models:/intents@champion --shadow "
      "models:/intents@challenger" +
      staged);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Json::parse(again.out)["objects_done"], 0) << again.out;
  EXPECT_EQ(Lote("publish --shadow " + Model() + staged).exit_code, 2);
  auto pub = Lote("publish --log-format json" + staged);
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const Json p = Json::parse(pub.out);
  EXPECT_EQ(p["shadow"]["records"], out);
  EXPECT_EQ(p["shadow"]["agree"], Json::parse(monitoring)["shadow"]["agree"]);
  EXPECT_EQ(p["monitoring"]["shadow"]["model_version"], v3);
  EXPECT_EQ(p["monitoring"]["shadow"]["agreement"], shadow["agreement"]);
  // Each shadow row's record, label, score, agreement and entities, sorted.
  auto shadow_rows = [&](const std::string& output) {
    std::vector<std::string> rows;
    for (const auto& e : fs::recursive_directory_iterator(fs::path(tmp_ / output) / "shadow")) {
      if (!e.is_regular_file()) continue;
      FILE* f = popen(("zstdcat " + e.path().string()).c_str(), "r");
      std::string text;
      char buf[4096];
      while (f != nullptr && fgets(buf, sizeof buf, f) != nullptr) text += buf;
      if (f != nullptr) pclose(f);
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        Json row = Json::parse(line);
        rows.push_back(row["record_id"].dump() + row["label"].dump() + row["score"].dump() +
                       row["agree"].dump() + row["entities"].dump());
      }
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  const std::vector<std::string> staged_rows = shadow_rows("staged");
  EXPECT_EQ(staged_rows.size(), out);
  EXPECT_TRUE(staged_rows == shadow_rows("out2"));
}

TEST_F(RegistryCli, BadReferencesAndDamageAreClearErrors) {
  ASSERT_EQ(Lote("registry register --name intents --model " + Model()).exit_code, 0);
  WriteAll(tmp_ / "one.jsonl", "{\"text\": \"hola\"}\n");
  auto unknown = Lote("predict --model models:/intents@champion --input " + (tmp_ / "one.jsonl"));
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("no alias 'champion'"), std::string::npos) << unknown.err;
  EXPECT_EQ(Lote("predict --model models:/intents/7 --input " + (tmp_ / "one.jsonl")).exit_code, 3);
  EXPECT_EQ(Lote("predict --model models:/intents --input " + (tmp_ / "one.jsonl")).exit_code, 3);
  // No registry configured at all.
  auto none = RunLote("predict --model models:/intents/1 --input " + (tmp_ / "one.jsonl"),
                      "env -u LOTE_REGISTRY");
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_NE(none.err.find("LOTE_REGISTRY"), std::string::npos) << none.err;
  // Not a model file: refused before anything is written.
  WriteAll(tmp_ / "junk.lote", "not a model");
  EXPECT_EQ(Lote("registry register --name intents --model " + (tmp_ / "junk.lote")).exit_code, 3);
  auto show = Lote("registry show intents --json");
  EXPECT_EQ(Json::parse(show.out)["versions"].size(), 1u);
  EXPECT_EQ(Lote("registry alias set intents 1st 1").exit_code, 3);       // bad alias
  EXPECT_EQ(Lote("registry alias set intents champion 5").exit_code, 3);  // no such version
  EXPECT_EQ(Lote("registry rollback intents champion").exit_code, 3);     // no such alias
  EXPECT_EQ(Lote("registry show nope").exit_code, 3);
  // A file changed behind the registry's back is not served.
  for (const auto& e : fs::directory_iterator(tmp_ / "registry/blobs/sha256")) {
    std::ofstream(e.path(), std::ios::app) << "x";
  }
  auto tampered = Lote("predict --model models:/intents/1 --input " + (tmp_ / "one.jsonl"));
  EXPECT_EQ(tampered.exit_code, 3);
  EXPECT_NE(tampered.err.find("does not match"), std::string::npos) << tampered.err;
  // An event file gone: named, not skipped.
  ASSERT_EQ(Lote("registry tag intents owner=ml").exit_code, 0);
  fs::remove(tmp_ / "registry/models/intents/events/0000000001.json");
  auto gap = Lote("registry show intents");
  EXPECT_EQ(gap.exit_code, 3);
  EXPECT_NE(gap.err.find("0000000001.json: missing"), std::string::npos) << gap.err;
}

}  // namespace
}  // namespace lote::testing
