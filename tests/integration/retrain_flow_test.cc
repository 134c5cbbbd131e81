// Continuous training end to end through the CLI, on the bundled sample: a champion that never
// saw one intent (pse_pago) scores a batch where it appears; late labels arrive for part of the
// batch; deploy/statemachines/retrain.asl.json, run by `lote flow run`, gathers the champion's
// training data plus those labels (read back from the raw lake, checked against the results'
// keyed fingerprints), trains a candidate with the champion's parameters, registers it, tests it
// on the golden set and moves the champion alias; the next run scores with it. Then: nothing new
// to learn ends the flow without a version; a candidate trained on corrupted labels is rejected
// and the champion stays; `lote training-data` counts a raw object replaced since it was scored
// and refuses to read texts it cannot check.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_runner.h"
#include "lote/storage/s3_storage.h"
#include "testing/moto_server.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kHeldOut = "pse_pago";

std::vector<Json> ReadJsonLines(const std::string& path) {
  std::vector<Json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(Json::parse(line));
  }
  return rows;
}

std::string JsonLines(const std::vector<Json>& rows) {
  std::string out;
  for (const Json& r : rows) out += r.dump() + "\n";
  return out;
}

class RetrainFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    // The champion's world: the sample's training split without one intent.
    std::vector<Json> base, batch;
    for (const Json& r : ReadJsonLines(kSample + "/train.jsonl")) {
      if (r["label"] == kHeldOut) {
        batch.push_back(r);  // the new intent arrives in the batch
      } else {
        base.push_back(r);
        if (base.size() % 8 == 0) batch.push_back(r);  // beside messages it knows
      }
    }
    WriteAll(tmp_ / "base.jsonl", JsonLines(base));
    fs::create_directories(tmp_ / "lake");
    std::vector<Json> lake;
    std::string labels = "record_id,label\n";
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string id = "m" + std::to_string(i);
      lake.push_back({{"id", id}, {"text", batch[i]["text"]}});
      // Labels arrive for two records of three.
      if (i % 3 != 2) labels += id + "," + batch[i]["label"].get<std::string>() + "\n";
    }
    WriteAll(tmp_ / "lake/batch1.jsonl", JsonLines(lake));
    WriteAll(tmp_ / "labels1.csv", labels);
    batch_size_ = batch.size();
    for (const Json& r : batch) batch_labels_.push_back(r["label"]);
    WriteAll(tmp_ / "pii.key", "0123456789abcdef-retrain-test-key");
    env_ = "LOTE_REGISTRY=" + (tmp_ / "registry") + " LOTE_USER=ana";
    CliResult train = Lote("train classify --train " + (tmp_ / "base.jsonl") + " --out " +
                           (tmp_ / "champion.lote") + " --name intents --c 2");
    ASSERT_EQ(train.exit_code, 0) << train.err;
    ASSERT_EQ(
        Lote("registry register --name intents --model " + (tmp_ / "champion.lote")).exit_code, 0);
    ASSERT_EQ(Lote("registry alias set intents champion 1 --reason start").exit_code, 0);
  }
  CliResult Lote(const std::string& args) { return RunLote(args, env_); }
  std::string Key() const { return " --pii-key-file " + (tmp_ / "pii.key"); }
  CliResult Run(const std::string& lake) {
    return Lote("run --input " + lake + " --output " + (tmp_ / "out") +
                " --model models:/intents@champion" + Key());
  }
  CliResult Retrain(const std::string& name, const std::string& model = "intents",
                    const std::string& golden = kSample + "/dev.jsonl") {
    const Json input{{"registry", tmp_ / "registry"}, {"model", model},   {"output", tmp_ / "out"},
                     {"base", tmp_ / "base.jsonl"},   {"golden", golden}, {"work", tmp_ / "work"}};
    return Lote("flow run --definition " + kSource + "/deploy/statemachines/retrain.asl.json" +
                " --substitutions " + kSource + "/deploy/statemachines/local.substitutions.json" +
                " --name " + name + " --history " + (tmp_ / "history.db") + " --input '" +
                input.dump() + "'" + Key());
  }
  Json Show() { return Json::parse(Lote("registry show intents --json").out); }
  // The first batch scored by the champion, and the late labels of two records in three.
  void ScoreAndLabelTheFirstBatch() {
    ASSERT_EQ(Run(tmp_ / "lake").exit_code, 0);
    CliResult fb =
        Lote("feedback --output " + (tmp_ / "out") + " --labels " + (tmp_ / "labels1.csv"));
    ASSERT_EQ(fb.exit_code, 0) << fb.err;
  }
  // alarms.yaml: a rule that fires on every run (the estimate is below 0.9999 on any data).
  void WriteAlwaysFiringAlarm() {
    WriteAll(tmp_ / "alarms.yaml",
             "monitoring:\n  alarms:\n    - name: always\n      signal: estimated_accuracy\n"
             "      below: 0.9999\n");
  }
  // The first batch again under new ids (PREFIX + id), as lake2/FILE; returns its records.
  std::vector<Json> NextBatch(const std::string& prefix, const std::string& file) {
    std::vector<Json> next;
    for (Json r : ReadJsonLines(tmp_ / "lake/batch1.jsonl")) {
      r["id"] = prefix + r["id"].get<std::string>();
      next.push_back(r);
    }
    fs::create_directories(tmp_ / "lake2");
    WriteAll(tmp_ / ("lake2/" + file), JsonLines(next));
    return next;
  }
  TempDir tmp_;
  std::string env_;
  size_t batch_size_ = 0;
  std::vector<std::string> batch_labels_;
};

TEST_F(RetrainFlow, LateLabelsTeachTheNewIntentAndTheNextRunScoresWithTheNewChampion) {
  ASSERT_EQ(Run(tmp_ / "lake").exit_code, 0);
  // The champion cannot name the intent it never saw.
  auto missed = Lote("query --output " + (tmp_ / "out") + " --format csv \"SELECT count(*) FROM " +
                     "results WHERE label = '" + kHeldOut + "'\"");
  EXPECT_EQ(missed.out, "count(*)\n0\n");
  auto fb = Lote("feedback --output " + (tmp_ / "out") + " --labels " + (tmp_ / "labels1.csv"));
  ASSERT_EQ(fb.exit_code, 0) << fb.err;

  CliResult flow = Retrain("r1");
  ASSERT_EQ(flow.exit_code, 0) << flow.err << flow.out;
  const Json out = Json::parse(flow.out);
  const Json& data = out["trainingData"]["data"];
  const size_t labelled = batch_size_ - batch_size_ / 3;
  EXPECT_EQ(data["feedbackRows"], labelled) << data;
  EXPECT_EQ(data["feedback"]["textChanged"], 0) << data;
  EXPECT_EQ(data["baseRows"], ReadJsonLines(tmp_ / "base.jsonl").size());
  EXPECT_EQ(data["champion"]["version"], 1);
  EXPECT_EQ(data["champion"]["hyperParameters"]["c"], "2");  // the champion's own parameters
  EXPECT_EQ(out["candidate"]["version"], 2);
  EXPECT_EQ(out["promotion"]["decision"]["promoted"], true) << out["promotion"];
  EXPECT_GT(out["promotion"]["decision"]["mcnemar"]["c"].get<int>(),
            out["promotion"]["decision"]["mcnemar"]["b"].get<int>());

  // The registry: version 2 is champion, tagged with what it learned from, changed by the flow.
  const Json show = Show();
  EXPECT_EQ(show["aliases"]["champion"], 2);
  const Json& v2 = show["versions"][1];
  EXPECT_EQ(v2["tags"]["training_data"], (tmp_ / "work/r1/train.jsonl"));
  EXPECT_FALSE(v2["tags"]["feedback_through"].get<std::string>().empty());
  EXPECT_EQ(v2["tags"]["retrained_from"], "1");
  EXPECT_EQ(v2["registered_by"].get<std::string>().rfind("flow:", 0), 0u) << v2;
  const Json history = Json::parse(Lote("registry alias-history intents --json").out);
  EXPECT_EQ(history.back()["to_version"], 2);
  EXPECT_EQ(history.back()["from_version"], 1);

  // The next batch (the same messages, new ids) is scored by the new champion, which now knows
  // the intent.
  const std::vector<Json> next = NextBatch("n-", "batch2.jsonl");
  ASSERT_EQ(Run(tmp_ / "lake2").exit_code, 0);
  auto by_version = Lote("query --output " + (tmp_ / "out") +
                         " --format csv \"SELECT model_version, sum(label = '" + kHeldOut +
                         "') FROM results WHERE record_id LIKE 'n-%' GROUP BY 1\"");
  ASSERT_EQ(by_version.exit_code, 0) << by_version.err;
  EXPECT_NE(by_version.out.find(v2["model_version_id"].get<std::string>()), std::string::npos)
      << by_version.out;
  const std::string count = by_version.out.substr(by_version.out.rfind(',') + 1);
  EXPECT_GT(std::stoi(count), 50) << by_version.out;

  // Nothing arrived since: the flow ends without training.
  CliResult again = Retrain("r2");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Json::parse(again.out)["trainingData"]["data"]["feedbackRows"], 0);
  EXPECT_FALSE(Json::parse(again.out).contains("candidate"));
  EXPECT_EQ(Show()["versions"].size(), 2u);

  // Corrupted labels for the second batch: every record labelled as one wrong intent. The
  // candidate is rejected, the champion stays.
  std::string wrong = "record_id,label\n";
  for (const Json& r : next) wrong += r["id"].get<std::string>() + ",saludo_otro\n";
  WriteAll(tmp_ / "labels2.csv", wrong);
  ASSERT_EQ(
      Lote("feedback --output " + (tmp_ / "out") + " --labels " + (tmp_ / "labels2.csv")).exit_code,
      0);
  CliResult bad = Retrain("r3");
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  const Json b = Json::parse(bad.out);
  // Only the new labels were added to the champion's own training file.
  EXPECT_EQ(b["trainingData"]["data"]["feedbackRows"], next.size());
  EXPECT_EQ(b["trainingData"]["data"]["base"], (tmp_ / "work/r1/train.jsonl"));
  EXPECT_EQ(b["promotion"]["decision"]["promoted"], false) << b["promotion"];
  const Json after = Show();
  EXPECT_EQ(after["aliases"]["champion"], 2);
  EXPECT_EQ(after["versions"][2]["status"], "rejected");
  CliResult history_r3 = Lote("flow history r3 --history " + (tmp_ / "history.db"));
  EXPECT_NE(history_r3.out.find("Kept"), std::string::npos) << history_r3.out;
}

TEST_F(RetrainFlow, TrainingDataReadsOnlyTextsItCanProveWereScored) {
  ASSERT_NO_FATAL_FAILURE(ScoreAndLabelTheFirstBatch());
  const std::string to = tmp_ / "train.jsonl";
  auto ok = Lote("training-data --output " + (tmp_ / "out") + " --to " + to + Key() + " --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const Json j = Json::parse(ok.out);
  const size_t labelled = batch_size_ - batch_size_ / 3;
  EXPECT_EQ(j["feedbackRows"], labelled);
  EXPECT_EQ(j["baseRows"], 0);
  const auto rows = ReadJsonLines(to);
  ASSERT_EQ(rows.size(), labelled);
  // The text is the lake's (cleaned as the run cleaned it) with the late label.
  const auto lake = ReadJsonLines(tmp_ / "lake/batch1.jsonl");
  std::string clean = lake[0]["text"].get<std::string>();
  std::replace(clean.begin(), clean.end(), '\n', ' ');
  EXPECT_EQ(rows[0]["text"], clean);
  EXPECT_EQ(rows[0]["label"], batch_labels_[0]);
  // With --name the champion's tags decide: version 1 has none, so all labels count.
  auto named = Lote("training-data --output " + (tmp_ / "out") + " --to " + to + Key() +
                    " --name intents --base " + (tmp_ / "base.jsonl") + " --json");
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(Json::parse(named.out)["rows"], labelled + ReadJsonLines(tmp_ / "base.jsonl").size());
  // --since after the newest label: nothing from the output.
  auto since = Lote("training-data --output " + (tmp_ / "out") + " --to " + to + Key() +
                    " --base " + (tmp_ / "base.jsonl") + " --since 9999 --json");
  ASSERT_EQ(since.exit_code, 0) << since.err;
  EXPECT_EQ(Json::parse(since.out)["feedbackRows"], 0);

  // Without the key the texts cannot be checked against the fingerprints: refused, and the
  // message names neither a text nor a record.
  auto no_key = RunLote("training-data --output " + (tmp_ / "out") + " --to " + to);
  EXPECT_EQ(no_key.exit_code, 3) << no_key.err;
  EXPECT_NE(no_key.err.find("PII key"), std::string::npos) << no_key.err;
  EXPECT_EQ(no_key.err.find(lake[0]["text"].get<std::string>()), std::string::npos);

  // The raw object replaced after it was scored: its lines may hold other texts now.
  std::vector<Json> changed = lake;
  changed[0]["text"] = "otro texto completamente distinto";
  WriteAll(tmp_ / "lake/batch1.jsonl", JsonLines(changed));
  auto after = Lote("training-data --output " + (tmp_ / "out") + " --to " + to + Key() + " --json");
  ASSERT_EQ(after.exit_code, 3) << after.err;  // nothing left to train on
  // With base data the file is written and the count says why the labels were left out.
  auto counted = Lote("training-data --output " + (tmp_ / "out") + " --to " + to + Key() +
                      " --base " + (tmp_ / "base.jsonl") + " --json");
  ASSERT_EQ(counted.exit_code, 0) << counted.err;
  const Json c = Json::parse(counted.out);
  EXPECT_EQ(c["feedbackRows"], 0);
  EXPECT_EQ(c["feedback"]["objectChanged"], labelled);
  // The object gone altogether.
  fs::remove(tmp_ / "lake/batch1.jsonl");
  auto gone = Lote("training-data --output " + (tmp_ / "out") + " --to " + to + Key() + " --base " +
                   (tmp_ / "base.jsonl") + " --json");
  ASSERT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_EQ(Json::parse(gone.out)["feedback"]["objectMissing"], labelled);
}

TEST_F(RetrainFlow, ThePipelinesAlarmStartsTheRetrainingAsANestedExecution) {
  ASSERT_NO_FATAL_FAILURE(ScoreAndLabelTheFirstBatch());
  // The next batch goes through deploy/statemachines/pipeline.asl.json; an alarm that always
  // fires sends it to StartRetraining, which runs retrain.asl.json as a nested execution.
  NextBatch("p-", "batch2.jsonl");
  WriteAlwaysFiringAlarm();
  auto pipeline = [&](const std::string& name, const std::string& golden) {
    const Json retrain{{"registry", tmp_ / "registry"},
                       {"model", "intents"},
                       {"base", tmp_ / "base.jsonl"},
                       {"golden", golden},
                       {"work", tmp_ / "work"}};
    const Json input{{"input", tmp_ / "lake2"}, {"output", tmp_ / "out"}, {"retrain", retrain}};
    return Lote("flow run --definition " + kSource + "/deploy/statemachines/pipeline.asl.json" +
                " --substitutions " + kSource + "/deploy/statemachines/local.substitutions.json" +
                " --state-machine-file retrain=" + kSource +
                "/deploy/statemachines/retrain.asl.json --model lote-model=models:/intents@champion"
                " --config " +
                (tmp_ / "alarms.yaml") + " --name " + name + " --history " + (tmp_ / "history.db") +
                " --input '" + input.dump() + "'" + Key());
  };
  // A retraining that fails (no golden set) leaves the run's results and the champion as they
  // were: the pipeline succeeds and says so.
  CliResult failed = pipeline("p0", tmp_ / "missing.jsonl");
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  const Json f = Json::parse(failed.out);
  EXPECT_EQ(f["retraining"]["failed"], true) << f["retraining"];
  EXPECT_EQ(f["retraining"]["error"], "States.TaskFailed") << f["retraining"];
  EXPECT_EQ(Show()["aliases"]["champion"], 1);

  // A golden set: the nested execution trains, registers and promotes.
  ASSERT_EQ(fs::remove_all(tmp_ / "lake2"), 2u);
  NextBatch("q-", "batch3.jsonl");
  CliResult flow = pipeline("p1", kSample + "/dev.jsonl");
  ASSERT_EQ(flow.exit_code, 0) << flow.err;
  const Json out = Json::parse(flow.out);
  EXPECT_EQ(out["publish"]["run"]["monitoring"]["alarm"], true);
  EXPECT_EQ(out["retraining"]["status"], "SUCCEEDED") << out["retraining"];
  EXPECT_EQ(out["retraining"]["output"]["promotion"]["decision"]["promoted"], true)
      << out["retraining"];
  const std::string execution = out["retraining"]["execution"];
  EXPECT_NE(execution.find(":execution:retrain:retrain-"), std::string::npos) << execution;
  EXPECT_EQ(Show()["aliases"]["champion"], 3);  // version 2 came from the failed attempt
  // The nested execution is in the history with its parent's id in its input.
  const std::string child = execution.substr(execution.rfind(':') + 1);
  auto history = Lote("flow history " + child + " --history " + (tmp_ / "history.db"));
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("Promoted"), std::string::npos) << history.out;
  // Started again under the same name and input, it is not run twice: its result is returned.
  CliResult again = Lote("flow run --definition " + kSource +
                         "/deploy/statemachines/retrain.asl.json --substitutions " + kSource +
                         "/deploy/statemachines/local.substitutions.json --name " + child +
                         " --history " + (tmp_ / "history.db") + " --input '{}'" + Key());
  EXPECT_NE(again.exit_code, 0);  // another input: refused
  EXPECT_EQ(Show()["versions"].size(), 3u);
}

TEST_F(RetrainFlow, AWatchedLakeRetrainsWhenItsAlarmFires) {
  ASSERT_NO_FATAL_FAILURE(ScoreAndLabelTheFirstBatch());
  NextBatch("w-", "batch2.jsonl");
  WriteAlwaysFiringAlarm();
  const Json retrain{{"retrain",
                      {{"registry", tmp_ / "registry"},
                       {"model", "intents"},
                       {"base", tmp_ / "base.jsonl"},
                       {"golden", kSample + "/dev.jsonl"},
                       {"work", tmp_ / "work"}}}};
  const std::string sm = kSource + "/deploy/statemachines/";
  pid_t pid = SpawnLote("watch --input " + (tmp_ / "lake2") + " --output " + (tmp_ / "out") +
                            " --model models:/intents@champion --config " + (tmp_ / "alarms.yaml") +
                            " --flow " + sm + "pipeline.asl.json --substitutions " + sm +
                            "local.substitutions.json --state-machine-file retrain=" + sm +
                            "retrain.asl.json --flow-input '" + retrain.dump() + "' --history " +
                            (tmp_ / "history.db") + " --interval 0.2 --settle 0" + Key(),
                        tmp_ / "watch.out", "env " + env_, tmp_ / "watch.err");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    const Json show = Show();
    if (show["aliases"]["champion"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(tmp_ / "watch.err");
  EXPECT_EQ(Show()["aliases"]["champion"], 2) << ReadAll(tmp_ / "watch.err");
  // A --flow-input that would replace what the watch sets is refused.
  CliResult bad =
      Lote("watch --input " + (tmp_ / "lake2") + " --output " + (tmp_ / "out") +
           " --model models:/intents@champion --flow " + sm + "pipeline.asl.json --substitutions " +
           sm + "local.substitutions.json --flow-input '{\"output\": \"elsewhere\"}'");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

TEST_F(RetrainFlow, OnS3TheWholeLoopRunsAgainstTheBucket) {
  // The lake, the output, the registry and the flow's work on moto's S3; the labels, the base
  // data and the golden set are local files.
  auto moto = SharedMotoServer();
  ASSERT_TRUE(moto.ok()) << moto.status().ToString();
  const std::string bucket = UniqueBucketName("retrain");
  ASSERT_TRUE((*moto)->CreateBucket(bucket).ok());
  auto s3 = storage::NewS3Storage(MotoS3Options((*moto)->endpoint()));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  ASSERT_TRUE(
      (*s3)
          ->Write("s3://" + bucket + "/raw/batch1.jsonl", ReadAll(tmp_ / "lake/batch1.jsonl"))
          .ok());
  fs::create_directories(tmp_ / "home");
  const std::string registry = "s3://" + bucket + "/registry";
  const std::string env =
      "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CONFIG_FILE "
      "-u AWS_SHARED_CREDENTIALS_FILE -u AWS_ENDPOINT_URL_S3 -u "
      "XDG_CACHE_HOME HOME=" +
      (tmp_ / "home") +
      " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
      "AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=" +
      (*moto)->endpoint() + " LOTE_USER=ana LOTE_REGISTRY=" + registry;
  auto lote = [&](const std::string& args) { return RunLote(args, env); };
  ASSERT_EQ(lote("registry register --name intents --model " + (tmp_ / "champion.lote")).exit_code,
            0);
  ASSERT_EQ(lote("registry alias set intents champion 1").exit_code, 0);
  const std::string output = "s3://" + bucket + "/results";
  // With a shadow model too: its parts are on the bucket beside the results, and a catalog
  // rebuilt from the ledger there (another machine) holds the champion's rows alone.
  ASSERT_EQ(lote("train classify --train " + (tmp_ / "base.jsonl") + " --out " +
                 (tmp_ / "shadow.lote") + " --name shadow")
                .exit_code,
            0);
  auto run = lote("run --input s3://" + bucket + "/raw/ --output " + output +
                  " --model models:/intents@champion --shadow " + (tmp_ / "shadow.lote") +
                  " --log-format json" + Key());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const uint64_t records_out = Json::parse(run.out)["records_out"];
  EXPECT_EQ(Json::parse(run.out)["shadow"]["records"], records_out);
  fs::create_directories(tmp_ / "home2");
  std::string other = env;
  other.replace(other.find("HOME=" + (tmp_ / "home")), 5 + (tmp_ / "home").size(),
                "HOME=" + (tmp_ / "home2"));
  auto count = RunLote("query --output " + output +
                           " --format csv \"SELECT count(*), count(DISTINCT model_version) FROM "
                           "results\"",
                       other);
  ASSERT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out,
            "count(*),count(DISTINCT model_version)\n" + std::to_string(records_out) + ",1\n");
  // The labels use the lake's ids.
  auto fb = lote("feedback --output " + output + " --labels " + (tmp_ / "labels1.csv"));
  ASSERT_EQ(fb.exit_code, 0) << fb.err;
  const Json input{{"registry", registry},
                   {"model", "intents"},
                   {"output", output},
                   {"base", tmp_ / "base.jsonl"},
                   {"golden", kSample + "/dev.jsonl"},
                   {"work", "s3://" + bucket + "/work"}};
  auto flow = lote("flow run --definition " + kSource + "/deploy/statemachines/retrain.asl.json" +
                   " --substitutions " + kSource +
                   "/deploy/statemachines/local.substitutions.json --name s3r --history " +
                   (tmp_ / "history.db") + " --input '" + input.dump() + "'" + Key());
  ASSERT_EQ(flow.exit_code, 0) << flow.err << flow.out;
  const Json out = Json::parse(flow.out);
  EXPECT_EQ(out["trainingData"]["data"]["feedbackRows"], batch_size_ - batch_size_ / 3);
  EXPECT_EQ(out["trainingData"]["data"]["feedback"]["objectsRead"], 1);
  EXPECT_EQ(out["promotion"]["decision"]["promoted"], true) << out["promotion"];
  // The training file and the model are on the bucket; the registry there names version 2.
  EXPECT_TRUE((*s3)->Stat("s3://" + bucket + "/work/s3r/train.jsonl").ok());
  const std::string model = out["training"]["model"];
  EXPECT_EQ(model.rfind("s3://" + bucket + "/work/lote-retrain-", 0), 0u) << model;
  EXPECT_TRUE((*s3)->Stat(model).ok());
  auto show = lote("registry show intents --json");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Json::parse(show.out)["aliases"]["champion"], 2);
}

TEST_F(RetrainFlow, AFailingStepLeavesTheChampionServing) {
  ASSERT_NO_FATAL_FAILURE(ScoreAndLabelTheFirstBatch());
  // A golden set that does not exist: training and registration happen, the promotion fails,
  // the flow ends failed with the step's error, and the alias has not moved.
  CliResult flow = Retrain("f1", "intents", tmp_ / "missing.jsonl");
  EXPECT_EQ(flow.exit_code, 6) << flow.err;
  const Json failure = Json::parse(flow.out);
  EXPECT_EQ(failure["error"], "Lote.NotFound") << flow.out;
  EXPECT_EQ(Show()["aliases"]["champion"], 1);
  // A model the registry does not have: the first step fails.
  CliResult none = Retrain("f2", "nosuch");
  EXPECT_EQ(none.exit_code, 6);
  EXPECT_EQ(Json::parse(none.out)["error"], "Lote.NotFound") << none.out;
}

}  // namespace
}  // namespace lote::testing
