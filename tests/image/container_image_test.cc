// lote's container image (scripts/build_image.sh, deploy/container/Containerfile), started as
// SageMaker starts it: `IMAGE serve` answering a Batch Transform (tests/tools/batch_transform.py:
// records by line, and the pipeline's prep parts) and `IMAGE train` training from /opt/ml.
// `podman run` cannot set its rlimits on this kind of machine, so the image's own root is mounted
// (buildah from + mount) and its ENTRYPOINT run in it with chroot: the image's bytes, libraries
// and word lists, not the host's.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "integration/cli_runner.h"
#include "integration/serve_process.h"

namespace lote::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Runs a shell command; its stdout (stderr goes to `err`), and whether it exited 0.
bool Shell(const std::string& cmd, std::string* out, const std::string& err) {
  TempDir io;
  const int status = std::system((cmd + " >" + (io / "out") + " 2>>" + err).c_str());
  if (out != nullptr) *out = ReadAll(io / "out");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(ContainerImage, ServesATransformAndTrainsAsSageMakerStartsIt) {
  TempDir tmp;
  const std::string err = tmp / "err";
  std::string built;
  ASSERT_TRUE(Shell(
      kSource + "/scripts/build_image.sh --work " + (tmp / "work") + " --binary " + LOTE_CLI_PATH,
      &built, err))
      << ReadAll(err);
  // "localhost/lote:VERSION ARCHIVE"
  std::istringstream words(built);
  std::string image, archive;
  words >> image >> archive;
  ASSERT_EQ(image.rfind("localhost/lote:", 0), 0u) << built;
  std::string listing;
  ASSERT_TRUE(Shell("tar -tf " + archive, &listing, err)) << ReadAll(err);
  EXPECT_NE(listing.find("index.json"), std::string::npos) << listing;

  const std::string buildah = "buildah --root " + (tmp / "work/storage") + " --runroot " +
                              (tmp / "work/run") + " --storage-driver vfs ";
  std::string entrypoint;
  ASSERT_TRUE(Shell(buildah + "inspect --format '{{.OCIv1.Config.Entrypoint}}' " + image,
                    &entrypoint, err));
  EXPECT_EQ(Trim(entrypoint), "[/usr/local/bin/lote]");
  std::string container, root;
  ASSERT_TRUE(Shell(buildah + "from " + image, &container, err)) << ReadAll(err);
  container = Trim(container);
  ASSERT_TRUE(Shell(buildah + "mount " + container, &root, err)) << ReadAll(err);
  root = Trim(root);
  const std::string run = "chroot " + root + " /usr/local/bin/lote";

  // `IMAGE serve`: the model where SageMaker extracts it, the port SageMaker's variable says.
  const std::string model = tmp / "intents.lote";
  ASSERT_EQ(TrainSampleModel(model).exit_code, 0);
  fs::create_directories(root + "/opt/ml/model");
  fs::copy_file(model, root + "/opt/ml/model/intents.lote");
  {
    ServeProcess serve(run, "serve", tmp / "serve.log", "SAGEMAKER_BIND_TO_PORT=0");
    ASSERT_TRUE(serve.WaitReady()) << serve.log();
    fs::create_directories(tmp / "in");
    fs::copy_file(kSample + "/test.jsonl", tmp / "in/test.jsonl");
    const std::string job =
        "python3 " + kSource + "/tests/tools/batch_transform.py --endpoint http://127.0.0.1:" +
        std::to_string(serve.port()) + " --input " + (tmp / "in") + " --output " + (tmp / "out");
    ASSERT_TRUE(Shell(job, nullptr, err)) << ReadAll(err);
    std::ifstream rows(tmp / "out/test.jsonl.out");
    size_t n = 0;
    for (std::string line; std::getline(rows, line); ++n) {
      const json row = json::parse(line);
      ASSERT_FALSE(row.contains("error")) << line;
      EXPECT_EQ(row["model_version"].get<std::string>().rfind("intents-", 0), 0u) << line;
      EXPECT_FALSE(row["preprocess_version"].get<std::string>().empty());
    }
    EXPECT_EQ(n, 371u);
    // The pipeline's transform (docs/adr/0015): prep's parts through the image's server, the
    // answers imported by publish.
    const std::string out = tmp / "pipeline", manifest = out + "/_stages/transform/j/manifest.json";
    auto prep = RunLote("prep --input " + (tmp / "in") + " --output " + out +
                        " --transform-manifest " + manifest);
    ASSERT_EQ(prep.exit_code, 0) << prep.err;
    ASSERT_TRUE(Shell(
        "python3 " + kSource + "/tests/tools/batch_transform.py --endpoint http://127.0.0.1:" +
            std::to_string(serve.port()) + " --manifest " + manifest + " --output " + out +
            "/_stages/transform/j --split-type None "
            "--assemble-with None --batch-strategy SINGLE_RECORD --content-type "
            "application/x-lote-prep+zstd --accept application/x-lote-infer+zstd",
        nullptr, err))
        << ReadAll(err);
    auto publish =
        RunLote("publish --output " + out + " --transform-output " + out + "/_stages/transform/j");
    ASSERT_EQ(publish.exit_code, 0) << publish.err;
    auto count = RunLote("query --output " + out + " --format csv 'SELECT count(*) FROM results'");
    EXPECT_EQ(count.out, "count(*)\n371\n") << count.err;
    EXPECT_EQ(serve.Stop(), 0);  // SIGTERM, as SageMaker stops the container
    EXPECT_NE(serve.log().find("lote serve: stopped"), std::string::npos) << serve.log();
  }

  // `IMAGE train` with task=extract: the entity tagger with the word lists of the image.
  const std::string data = kSource + "/tests/data/extract_cli";
  fs::create_directories(root + "/opt/ml/input/config");
  fs::create_directories(root + "/opt/ml/input/data/train");
  fs::create_directories(root + "/opt/ml/input/data/validation");
  fs::copy_file(data + "/train.conll", root + "/opt/ml/input/data/train/train.conll");
  fs::copy_file(data + "/dev.conll", root + "/opt/ml/input/data/validation/dev.conll");
  WriteAll(root + "/opt/ml/input/config/hyperparameters.json",
           R"({"task": "extract", "name": "ner"})");
  fs::remove_all(root + "/opt/ml/model");
  std::string trained;
  ASSERT_TRUE(Shell("TRAINING_JOB_NAME=ner-1 " + run + " train", &trained, err)) << ReadAll(err);
  EXPECT_NE(trained.find("validation:entity_f1="), std::string::npos) << trained;
  EXPECT_FALSE(fs::exists(root + "/opt/ml/output/failure"));
  // The model trained in the image loads and tags on the host, with its gazetteer.
  auto tagged = RunLote("extract --model " + root + "/opt/ml/model/model.lote --format txt " +
                        "--input " + data + "/brat_train/doc00.txt");
  ASSERT_EQ(tagged.exit_code, 0) << tagged.err;
  EXPECT_NE(tagged.out.find("\"entities\":["), std::string::npos);
  // Its provenance names the word lists read inside the image (the model's meta is JSON text).
  const std::string bytes = ReadAll(root + "/opt/ml/model/model.lote");
  EXPECT_NE(bytes.find("\"name\":\"/usr/share/hunspell/es_ES.dic\""), std::string::npos);
  EXPECT_NE(bytes.find("\"name\":\"/usr/share/iso-codes/json/iso_3166-1.json\""),
            std::string::npos);

  Shell(buildah + "umount " + container, nullptr, err);
  Shell(buildah + "rm " + container, nullptr, err);
}

}  // namespace
}  // namespace lote::testing
