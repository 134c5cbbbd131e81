// `lote train` as a SageMaker training job's container: hyperparameters and channels under
// /opt/ml/input (here a folder given by LOTE_SAGEMAKER_ROOT), the model written to /opt/ml/model,
// a failure's reason to /opt/ml/output/failure. The model equals `lote train classify`'s (or,
// with the hyperparameter task=extract, `lote train extract`'s) on the same data and options.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class TrainingContainer : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_ / "opt-ml";
    fs::create_directories(root_ + "/input/config");
    fs::create_directories(root_ + "/input/data/train/more");
    fs::create_directories(root_ + "/input/data/validation");
    // The sample's train split in two objects (File mode downloads a prefix's objects), and the
    // same rows in one file for `lote train classify`.
    std::ifstream in(std::string(LOTE_SAMPLE_DIR) + "/train.jsonl");
    std::ofstream a(root_ + "/input/data/train/part-0.jsonl");
    std::ofstream b(root_ + "/input/data/train/more/part-1.jsonl");
    std::ofstream all(tmp_ / "train.jsonl");
    int i = 0;
    for (std::string line; std::getline(in, line); ++i) {
      (i % 2 == 0 ? a : b) << line << "\n";
    }
    a.close();
    b.close();
    // The channel's files are read in the order of their paths: more/part-1 before part-0.
    all << ReadAll(root_ + "/input/data/train/more/part-1.jsonl")
        << ReadAll(root_ + "/input/data/train/part-0.jsonl");
    all.close();
    fs::copy_file(std::string(LOTE_SAMPLE_DIR) + "/dev.jsonl",
                  root_ + "/input/data/validation/dev.jsonl");
    WriteAll(root_ + "/input/config/inputdataconfig.json",
             R"({"train": {"ContentType": "application/jsonlines", "TrainingInputMode": "File",
                           "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
                 "validation": {"TrainingInputMode": "File"}})");
  }
  CliResult Train() {
    return RunLote("train", "LOTE_SAGEMAKER_ROOT=" + root_ + " TRAINING_JOB_NAME=intents-job-1");
  }
  // `lote predict`'s rows for the sample's test split, without the model's version.
  std::string Predictions(const std::string& model) {
    CliResult r = RunLote("predict --model " + model + " --input " + std::string(LOTE_SAMPLE_DIR) +
                          "/test.jsonl --id-field id");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      Json row = Json::parse(line);
      row.erase("model_version");
      out += row.dump() + "\n";
    }
    return out;
  }

  TempDir tmp_;
  std::string root_;
};

TEST_F(TrainingContainer, TrainsFromTheChannelsAsTrainClassifyDoes) {
  WriteAll(root_ + "/input/config/hyperparameters.json",
           R"({"c": "0.5", "seed": "3", "min_df": "2"})");
  CliResult r = Train();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // The metrics a training job's MetricDefinitions read from the log.
  EXPECT_NE(r.out.find("validation:accuracy="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("validation:ece="), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(root_ + "/model/model.lote"));
  EXPECT_FALSE(fs::exists(root_ + "/output/failure"));
  CliResult local = RunLote("train classify --train " + (tmp_ / "train.jsonl") + " --dev " + root_ +
                            "/input/data/validation/dev.jsonl --c 0.5 --seed 3 --min-df 2 " +
                            "--name intents-job-1 --out " + (tmp_ / "local.lote"));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const std::string predicted = Predictions(root_ + "/model/model.lote");
  EXPECT_GT(std::count(predicted.begin(), predicted.end(), '\n'), 300);
  EXPECT_TRUE(predicted == Predictions(tmp_ / "local.lote"));  // (no diff of 370 rows)
}

TEST_F(TrainingContainer, OneFileGivesTheVeryModelOfTrainClassify) {
  fs::remove_all(root_ + "/input/data/train");
  fs::create_directories(root_ + "/input/data/train");
  fs::copy_file(std::string(LOTE_SAMPLE_DIR) + "/train.jsonl",
                root_ + "/input/data/train/train.jsonl");
  WriteAll(root_ + "/input/config/hyperparameters.json", R"({"name": "intents"})");
  CliResult r = Train();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  CliResult local = RunLote(
      "train classify --train " + std::string(LOTE_SAMPLE_DIR) + "/train.jsonl --dev " + root_ +
      "/input/data/validation/dev.jsonl --name intents --out " + (tmp_ / "local.lote"));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_TRUE(ReadAll(root_ + "/model/model.lote") == ReadAll(tmp_ / "local.lote"));
}

// task=extract: the entity tagger from CoNLL objects (joined in the order of their paths, an
// empty line apart) or a BRAT prefix, the very model `lote train extract` writes.
TEST_F(TrainingContainer, TaskExtractTrainsTheTaggerAsTrainExtractDoes) {
  const std::string data = std::string(LOTE_SOURCE_DIR) + "/tests/data/extract_cli";
  fs::remove_all(root_ + "/input/data");
  fs::create_directories(root_ + "/input/data/train/more");
  fs::create_directories(root_ + "/input/data/validation");
  // The CoNLL file's sentences in two objects, cut at a sentence boundary, the first one
  // without a final newline.
  const std::string conll = ReadAll(data + "/train.conll");
  const size_t cut = conll.find("\n\n", conll.size() / 2);
  ASSERT_NE(cut, std::string::npos);
  const std::string first = conll.substr(0, cut), second = conll.substr(cut + 2);
  WriteAll(root_ + "/input/data/train/a.conll", first);
  WriteAll(root_ + "/input/data/train/more/b.conll", second);
  fs::copy_file(data + "/dev.conll", root_ + "/input/data/validation/dev.conll");
  WriteAll(root_ + "/input/config/inputdataconfig.json",
           R"({"train": {"TrainingInputMode": "File"}, "validation": {}})");
  WriteAll(root_ + "/input/config/hyperparameters.json",
           R"({"task": "extract", "name": "ner", "seed": "7", "min_feature_count": "1"})");
  CliResult r = Train();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("validation:entity_f1="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("entity types"), std::string::npos) << r.out;
  fs::create_directories(tmp_ / "joined");
  WriteAll(tmp_ / "joined/train.conll", first + "\n\n" + second + "\n");
  CliResult local = RunLote("train extract --train " + (tmp_ / "joined/train.conll") + " --dev " +
                            root_ + "/input/data/validation/dev.conll --name ner --seed 7 --out " +
                            (tmp_ / "local.lote"));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_TRUE(ReadAll(root_ + "/model/model.lote") == ReadAll(tmp_ / "local.lote"));
  EXPECT_FALSE(fs::exists(root_ + "/output/failure"));

  // A BRAT prefix: the channel's folder is the BRAT folder.
  fs::remove_all(root_ + "/input/data");
  fs::create_directories(root_ + "/input/data");
  fs::copy(data + "/brat_train", root_ + "/input/data/train", fs::copy_options::recursive);
  WriteAll(root_ + "/input/config/inputdataconfig.json", R"({"train": {}})");
  WriteAll(root_ + "/input/config/hyperparameters.json", R"({"task": "extract"})");
  r = Train();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto extracted = RunLote("extract --model " + root_ + "/model/model.lote --format txt --input " +
                           data + "/brat_train/doc00.txt");
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  EXPECT_NE(extracted.out.find("\"entities\":[{"), std::string::npos) << extracted.out;

  // A classifier's hyperparameter is not the tagger's, and only two tasks exist.
  WriteAll(root_ + "/input/config/hyperparameters.json", R"({"task": "extract", "c": "1"})");
  EXPECT_NE(Train().exit_code, 0);
  EXPECT_NE(ReadAll(root_ + "/output/failure").find("not a hyperparameter of lote train extract"),
            std::string::npos);
  WriteAll(root_ + "/input/config/hyperparameters.json", R"({"task": "regress"})");
  EXPECT_NE(Train().exit_code, 0);
  EXPECT_NE(ReadAll(root_ + "/output/failure").find("HyperParameters.task"), std::string::npos);
}

TEST_F(TrainingContainer, AFailureIsWrittenWhereSageMakerReadsItsReason) {
  WriteAll(root_ + "/input/config/hyperparameters.json", R"({"c": "a lot"})");
  CliResult bad = Train();
  EXPECT_NE(bad.exit_code, 0);
  const std::string reason = ReadAll(root_ + "/output/failure");
  EXPECT_NE(reason.find("HyperParameters.c"), std::string::npos) << reason;
  EXPECT_FALSE(fs::exists(root_ + "/model/model.lote"));

  fs::remove(root_ + "/output/failure");
  WriteAll(root_ + "/input/config/hyperparameters.json", "{}");
  WriteAll(root_ + "/input/config/inputdataconfig.json", R"({"train": {}, "test": {}})");
  CliResult channel = Train();
  EXPECT_NE(channel.exit_code, 0);
  EXPECT_NE(ReadAll(root_ + "/output/failure").find("channel 'test'"), std::string::npos);

  fs::remove_all(root_ + "/input/data/train");
  WriteAll(root_ + "/input/config/inputdataconfig.json", R"({"train": {}})");
  CliResult empty = Train();
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(ReadAll(root_ + "/output/failure").find("no training data"), std::string::npos);

  // Outside a container (no ROOT/input), `lote train` alone is a usage error.
  fs::remove_all(root_ + "/input");
  CliResult usage = Train();
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("classify or extract"), std::string::npos) << usage.err;
}

}  // namespace
}  // namespace lote::testing
