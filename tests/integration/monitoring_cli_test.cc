// Monitoring through the CLI: the sample model carries a reference profile (`lote profile`), a run
// on messages like its training data is ok, a run on another domain and language is drift named
// by signal, `lote monitor` reads both back, and the catalog has them.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"

namespace lote::testing {
namespace {

using Json = nlohmann::json;

class MonitoringCli : public SampleModelTest {
 protected:
  void SetUp() override {
    SampleModelTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(MakeDemoLake(tmp_ / "lake"));
  }
  // 500 English messages about something else than banking (a mining company's site log).
  void MakeOtherDomainLake() {
    std::filesystem::create_directories(tmp_ / "other");
    std::ofstream out(tmp_ / "other/log.jsonl");
    const char* subjects[] = {"the drilling crew", "our geologist", "the night shift",
                              "the survey team", "the haul truck driver"};
    const char* verbs[] = {"inspected", "logged", "sampled", "reported on", "recalibrated"};
    const char* objects[] = {"the core samples from borehole", "the conveyor belt at pit",
                             "the ventilation shaft near level", "the tailings pond sensor",
                             "the crusher bearings on line"};
    for (int i = 0; i < 500; ++i) {
      out << "{\"id\":\"o" << i << "\",\"text\":\"" << subjects[i % 5] << " " << verbs[(i / 5) % 5]
          << " " << objects[(i / 25) % 5] << " " << (i % 17) + 3
          << " before the weekly safety briefing\"}\n";
    }
  }
  TempDir tmp_;
};

TEST_F(MonitoringCli, TrainedModelsCarryAReferenceProfile) {
  auto r = RunLote("profile " + Model() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json p = Json::parse(r.out);
  EXPECT_EQ(p["format"], "lote-profile");
  EXPECT_GT(p["records"].get<int>(), 100);  // the sample's dev split
  EXPECT_EQ(p["records"], p["calibration"]["rows"]);
  EXPECT_GT(p["calibration"]["accuracy"].get<double>(), 0.8);
  EXPECT_TRUE(p["categorical"]["lang"].contains("es"));
  EXPECT_EQ(p["numeric"]["top_score"]["counts"].size(), 50u);
  // Nothing from any record but counts: no text or id in the profile; terms are hashes.
  EXPECT_EQ(r.out.find("\"text\""), std::string::npos);
  EXPECT_EQ(r.out.find("\"examples\""), std::string::npos);
  EXPECT_GT(p["terms"]["hash"].size(), 50u);
  EXPECT_EQ(p["terms"]["hash"].size(), p["terms"]["hits"].size());
  EXPECT_LE(p["terms"]["records"].get<int>(), p["records"].get<int>());
  EXPECT_GE(p["terms"]["hits"][0].get<int>(), 3);

  auto text = RunLote("profile " + Model());
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("calibration: accuracy"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("unknown_word_rate: mean"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("word unigrams and bigrams stored as hashes"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("entities (records holding each type"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("check-digit failures (of candidates): CEDULA 0 of"), std::string::npos)
      << text.out;
  // The entity counts: every pattern type, each within the records the extractors ran on.
  ASSERT_TRUE(p.contains("entities")) << r.out;
  EXPECT_EQ(p["entities"]["records"], p["records"]);
  EXPECT_EQ(p["entities"]["types"].size(), 9u);
  EXPECT_GT(p["entities"]["types"]["MONEY"].get<int>(), 10);
  EXPECT_GT(p["entities"]["check_digits"]["CARD"]["candidates"].get<int>(), 0);

  EXPECT_EQ(RunLote("profile " + (tmp_ / "missing.lote")).exit_code, 3);
}

TEST_F(MonitoringCli, RunsLikeTheTrainingDataAreOkOthersAreDriftAndMonitorReadsThemBack) {
  const std::string out = tmp_ / "out";
  auto same = RunLote("run --input " + (tmp_ / "lake") + " --output " + out + " --model " +
                      Model() + " --log-format json");
  ASSERT_EQ(same.exit_code, 0) << same.err;
  const Json s = Json::parse(same.out);
  EXPECT_EQ(s["monitoring"]["verdict"], "ok") << s["monitoring"].dump(2);
  EXPECT_EQ(s["monitoring"]["records"], s["records_out"]);
  const double estimate = s["monitoring"]["estimated_accuracy"]["value"].get<double>();
  EXPECT_GT(estimate, 0.8);
  EXPECT_LE(s["monitoring"]["estimated_accuracy"]["low"].get<double>(), estimate);

  MakeOtherDomainLake();
  auto other =
      RunLote("run --input " + (tmp_ / "other") + " --output " + out + " --model " + Model());
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(other.out.find("monitoring: drift"), std::string::npos) << other.out;
  EXPECT_NE(other.err.find("monitoring: drift"), std::string::npos) << other.err;  // the log

  auto monitor = RunLote("monitor --output " + out + " --last 2 --json");
  ASSERT_EQ(monitor.exit_code, 0) << monitor.err;
  std::istringstream lines(monitor.out);
  std::vector<Json> reports;
  for (std::string line; std::getline(lines, line);) reports.push_back(Json::parse(line));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0]["run_id"], s["run_id"]);
  EXPECT_EQ(reports[0]["verdict"], "ok");
  EXPECT_EQ(reports[1]["verdict"], "drift");
  std::map<std::string, std::string> bands;
  for (const Json& g : reports[1]["signals"]) bands[g["name"]] = g["band"];
  EXPECT_EQ(bands["unknown_word_rate"], "drift");
  EXPECT_EQ(bands["lang"], "drift");  // English only, against a mostly Spanish reference
  // Site logs hold no amounts, where a fifth of the bank's messages do.
  EXPECT_EQ(bands["entity_rate:MONEY"], "drift");
  // Fewer known words, less confident: the estimate falls.
  EXPECT_LT(reports[1]["estimated_accuracy"]["value"].get<double>(), estimate);
  // The drift is explained in the batch's words, with example records. The run like the training
  // data names only what the demo lake adds to every 11th record of its CSV file ("Nota: cliente
  // molesto", scripts/make_demo_inputs.py).
  for (const Json& t : reports[0]["top_terms"]) {
    EXPECT_NE(std::string(" nota cliente molesto nota cliente molesto ")
                  .find(" " + t["term"].get<std::string>() + " "),
              std::string::npos)
        << t.dump();
  }
  const Json& terms = reports[1]["top_terms"];
  ASSERT_GE(terms.size(), 5u) << reports[1].dump(1);
  EXPECT_LE(terms.size(), 10u);
  const std::string mining =
      "the drilling crew our geologist night shift survey team haul truck driver inspected "
      "logged sampled reported on recalibrated core samples from borehole conveyor belt at pit "
      "ventilation shaft near level tailings pond sensor crusher bearings line before weekly "
      "safety briefing 0 00";  // numbers: digits map to 0
  for (const Json& t : terms) {
    const std::string term = t["term"];
    for (size_t from = 0, space; from <= term.size(); from = space + 1) {
      space = std::min(term.find(' ', from), term.size());
      EXPECT_NE(mining.find(term.substr(from, space - from)), std::string::npos) << term;
    }
    EXPECT_GE(t["batch_records"].get<int>(), 5);
    EXPECT_GT(t["batch_share"].get<double>(), t["reference_share"].get<double>());
    EXPECT_GE(t["z"].get<double>(), 3.29);
    ASSERT_FALSE(t["examples"].empty());
    EXPECT_EQ(t["examples"][0].get<std::string>()[0], 'o') << t.dump();
  }
  // Terms are in the report only, never in the log.
  for (const Json& t : terms) {
    EXPECT_EQ(other.err.find(" " + t["term"].get<std::string>() + " "), std::string::npos)
        << other.err;
  }

  auto table = RunLote("monitor --output " + out);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("verdict drift"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("unknown_word_rate"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("term (more in this batch)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(terms[0]["term"].get<std::string>()), std::string::npos) << table.out;
  auto one = RunLote("monitor --output " + out + " --run " + s["run_id"].get<std::string>());
  EXPECT_NE(one.out.find("verdict ok"), std::string::npos) << one.out;
  EXPECT_EQ(RunLote("monitor --output " + out + " --run ../../etc").exit_code, 3);
  EXPECT_EQ(RunLote("monitor --output " + (tmp_ / "lake")).exit_code, 3);

  auto sql = RunLote("query --output " + out +
                     " --format csv \"SELECT verdict FROM monitoring JOIN runs USING (run_id) "
                     "ORDER BY finished_at\"");
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_EQ(sql.out, "verdict\nok\ndrift\n");
}

TEST_F(MonitoringCli, TheStagesReportWhatARunReports) {
  // The stage files carry no text: infer counts the terms and hands them over in its markers;
  // the entity counts travel with each record's signals.
  MakeOtherDomainLake();
  auto run = RunLote("run --threads 2 --log-format json --input " + (tmp_ / "other") +
                     " --output " + (tmp_ / "run") + " --model " + Model());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string out = " --output " + (tmp_ / "staged");
  ASSERT_EQ(RunLote("ingest --input " + (tmp_ / "other") + out).exit_code, 0);
  ASSERT_EQ(RunLote("prep" + out).exit_code, 0);
  auto infer = RunLote("infer --threads 2 --model " + Model() + out);
  ASSERT_EQ(infer.exit_code, 0) << infer.err;
  auto pub = RunLote("publish --log-format json" + out);
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const Json a = Json::parse(run.out)["monitoring"]["top_terms"];
  const Json b = Json::parse(pub.out)["monitoring"]["top_terms"];
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size()) << a.dump(1) << b.dump(1);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["term"], b[i]["term"]);
    EXPECT_EQ(a[i]["batch_records"], b[i]["batch_records"]);
  }
  const Json sa = Json::parse(run.out)["monitoring"]["signals"];
  const Json sb = Json::parse(pub.out)["monitoring"]["signals"];
  ASSERT_EQ(sa.size(), sb.size()) << sa.dump(1) << sb.dump(1);
  bool entity_signal = false;
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i]["name"], sb[i]["name"]);
    EXPECT_EQ(sa[i]["statistic"], sb[i]["statistic"]) << sa[i]["name"];
    entity_signal = entity_signal || sa[i]["name"].get<std::string>().starts_with("entity_rate:");
  }
  EXPECT_TRUE(entity_signal) << sa.dump(1);
}

// The tagger's entity rates: its reference is its dev sentences, so runs count sentences too.
// The sample's own messages are ok; the same messages, half of them opening with a sentence
// naming the writer, are drift on PER alone; the stage commands report the same statistics.
TEST_F(MonitoringCli, TheTaggersEntityRatesAreComparedSentenceBySentence) {
  const std::string sample = LOTE_SAMPLE_DIR;
  const std::string ner = tmp_ / "ner.lote", both = tmp_ / "both.lote";
  auto r = TrainCached("train extract --train " + sample + "/train.jsonl --dev " + sample +
                           "/dev.jsonl --types PER,ORG,LOC",
                       ner);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(RunLote("bundle --out " + both + " " + Model() + " " + ner).exit_code, 0);
  r = RunLote("profile --json " + both);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json p = Json::parse(r.out);
  ASSERT_TRUE(p.contains("tagger_entities")) << r.out;
  const int dev_sentences = p["tagger_entities"]["sentences"].get<int>();
  EXPECT_GT(dev_sentences, 400);  // the dev split's messages, cut into sentences
  for (const char* type : {"PER", "ORG", "LOC"}) {
    EXPECT_GT(p["tagger_entities"]["types"][type].get<int>(), 10) << type;
    EXPECT_LT(p["tagger_entities"]["types"][type].get<int>(), dev_sentences / 2) << type;
  }
  EXPECT_EQ(p["records"], p["calibration"]["rows"]);  // the classifier's part is unchanged
  auto text = RunLote("profile " + ner);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("tagger entities (sentences holding each type, of " +
                          std::to_string(dev_sentences) + "): "),
            std::string::npos)
      << text.out;
  // A tagger trained without dev has nothing it did not learn from to count on.
  const std::string no_dev = tmp_ / "no_dev.lote";
  r = RunLote("train extract --train " + sample + "/dev.jsonl --types PER --out " + no_dev);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("reference profile for monitoring: none"), std::string::npos) << r.err;

  // Like the dev data: ok. Every sentence that opens with a name: PER drifts, alone.
  std::filesystem::create_directories(tmp_ / "same");
  std::filesystem::create_directories(tmp_ / "names");
  std::filesystem::copy(sample + "/test.jsonl", tmp_ / "same/test.jsonl");
  {
    std::ifstream in(sample + "/test.jsonl");
    std::ofstream out(tmp_ / "names/test.jsonl");
    const char* names[] = {"María Fernanda Gómez", "Carlos Andrés Rodríguez", "Luisa Martínez",
                           "Jorge Iván Castaño", "Valentina Ospina"};
    std::string line;
    for (int i = 0; std::getline(in, line); ++i) {
      Json j = Json::parse(line);
      if (i % 2 == 0) {
        j["text"] = std::string("Hola, soy ") + names[i % 5] + ". " + j["text"].get<std::string>();
      }
      out << Json{{"id", j["id"]}, {"text", j["text"]}}.dump() << "\n";
    }
  }
  auto signals_of = [](const std::string& out) {
    const Json report = Json::parse(out);
    std::map<std::string, Json> s;
    for (const Json& g : report["monitoring"]["signals"]) s[g["name"].get<std::string>()] = g;
    return s;
  };
  r = RunLote("run --log-format json --input " + (tmp_ / "same") + " --output " +
              (tmp_ / "same_out") + " --model " + both);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto same = signals_of(r.out);
  for (const char* type : {"PER", "ORG", "LOC"}) {
    const std::string name = std::string("sentence_entity_rate:") + type;
    ASSERT_TRUE(same.count(name)) << r.out;
    EXPECT_EQ(same[name]["band"], "ok") << same[name].dump();
    EXPECT_EQ(same[name]["kind"], "rate");
  }
  const std::string cfg = tmp_ / "names.yaml";
  std::ofstream(cfg) << "monitoring:\n  alarms:\n    - name: more-names\n"
                        "      signal: sentence_entity_rate:PER\n      band: drift\n";
  r = RunLote("run --log-format json --input " + (tmp_ / "names") + " --output " +
              (tmp_ / "names_out") + " --model " + both + " --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto names = signals_of(r.out);
  const Json& per = names["sentence_entity_rate:PER"];
  EXPECT_EQ(per["band"], "drift") << per.dump();
  EXPECT_GT(per["batch_mean"].get<double>(), 2 * per["reference_mean"].get<double>());
  EXPECT_EQ(names["sentence_entity_rate:ORG"]["band"], "ok");
  const Json m = Json::parse(r.out)["monitoring"];
  EXPECT_EQ(m["alarms"][0]["name"], "more-names");
  EXPECT_EQ(m["alarms"][0]["firing"], true);
  // Counts only: no name in the report.
  EXPECT_EQ(m.dump().find("Ospina"), std::string::npos);

  // The stage files carry the tagger's counts: the stages report the same statistics.
  const std::string out = " --output " + (tmp_ / "staged");
  ASSERT_EQ(RunLote("ingest --input " + (tmp_ / "names") + out).exit_code, 0);
  ASSERT_EQ(RunLote("prep" + out).exit_code, 0);
  ASSERT_EQ(RunLote("infer --model " + both + out).exit_code, 0);
  auto pub = RunLote("publish --log-format json" + out);
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  auto staged = signals_of(pub.out);
  for (const char* type : {"PER", "ORG", "LOC"}) {
    const std::string name = std::string("sentence_entity_rate:") + type;
    ASSERT_TRUE(staged.count(name)) << pub.out;
    EXPECT_EQ(staged[name]["statistic"], names[name]["statistic"]) << name;
    EXPECT_EQ(staged[name]["batch_mean"], names[name]["batch_mean"]) << name;
  }
}

TEST_F(MonitoringCli, CardNumbersFailingTheirCheckAreASignalAnAlarmCanWatch) {
  // Messages like the bank's, but every card number is mistyped (the Luhn check fails).
  std::filesystem::create_directories(tmp_ / "cards");
  {
    std::ofstream out(tmp_ / "cards/bloqueos.jsonl");
    const char* lead[] = {"me bloquearon la tarjeta", "no me pasa la compra con la tarjeta",
                          "quiero reportar la tarjeta", "me cobraron dos veces en la tarjeta"};
    for (int i = 0; i < 200; ++i) {
      // 4111 1111 1111 1111 passes; changing the last digit breaks it.
      out << "{\"id\":\"c" << i << "\",\"text\":\"" << lead[i % 4] << " 4111 1111 1111 111"
          << (2 + i % 8) << " ayer, ayuda por favor\"}\n";
    }
  }
  const std::string cfg = tmp_ / "luhn.yaml";
  std::ofstream(cfg) << "monitoring:\n  alarms:\n    - name: mistyped-cards\n"
                        "      signal: check_failure_rate:CARD\n      band: drift\n";
  auto r = RunLote("run --input " + (tmp_ / "cards") + " --output " + (tmp_ / "out") + " --model " +
                   Model() + " --config " + cfg + " --log-format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json m = Json::parse(r.out)["monitoring"];
  std::map<std::string, Json> signals;
  for (const Json& g : m["signals"]) signals[g["name"]] = g;
  ASSERT_TRUE(signals.count("check_failure_rate:CARD")) << m.dump(1);
  const Json& card = signals["check_failure_rate:CARD"];
  EXPECT_EQ(card["band"], "drift") << card.dump();
  EXPECT_EQ(card["kind"], "rate");
  EXPECT_EQ(card["batch_mean"], 1.0);
  EXPECT_LT(card["reference_mean"].get<double>(), 0.5);
  // No card was found, so the CARD rate falls too.
  EXPECT_EQ(signals["entity_rate:CARD"]["batch_mean"], 0.0);
  EXPECT_EQ(m["alarms"][0]["name"], "mistyped-cards");
  EXPECT_EQ(m["alarms"][0]["firing"], true);
  // Counts only: no card number anywhere in the report or the log.
  EXPECT_EQ(m.dump().find("4111"), std::string::npos);
  EXPECT_EQ(r.err.find("4111"), std::string::npos);
  auto table = RunLote("monitor --output " + (tmp_ / "out"));
  EXPECT_NE(table.out.find("check_failure_rate:CARD"), std::string::npos) << table.out;
}

TEST_F(MonitoringCli, TheConfigTunesOrTurnsMonitoringOff) {
  const std::string off = tmp_ / "off.yaml";
  std::ofstream(off) << "monitoring:\n  enabled: false\n";
  auto r = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out") + " --model " +
                   Model() + " --config " + off + " --log-format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json s = Json::parse(r.out);
  EXPECT_FALSE(s.contains("monitoring"));
  EXPECT_FALSE(std::filesystem::exists(
      tmp_ / ("out/_runs/" + s["run_id"].get<std::string>() + "/monitoring.json")));

  const std::string bad = tmp_ / "bad.yaml";
  std::ofstream(bad) << "monitoring:\n  alpha_drift: 0.5\n  alpha_warn: 0.1\n";
  auto refused = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out2") +
                         " --model " + Model() + " --config " + bad);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("bad.yaml"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("alpha_drift"), std::string::npos) << refused.err;
}

TEST_F(MonitoringCli, AlarmsFireAfterTheirStreakAndLandInTheSummaryCatalogAndMetrics) {
  MakeOtherDomainLake();
  const std::string cfg = tmp_ / "alarms.yaml";
  std::ofstream(cfg) << "monitoring:\n"
                        "  alarms:\n"
                        "    - name: vocabulary\n"
                        "      signal: unknown_word_rate\n"
                        "      band: drift\n"
                        "      consecutive_runs: 2\n"
                        "    - name: accuracy\n"
                        "      signal: estimated_accuracy\n"
                        "      below: 0.5\n";
  const std::string out = tmp_ / "out";
  auto run = [&](const std::string& input, const std::string& extra) {
    return RunLote("run --input " + input + " --output " + out + " --model " + Model() +
                   " --config " + cfg + " --log-format json --force " + extra);
  };
  auto first = run(tmp_ / "other", "");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  Json s = Json::parse(first.out);
  ASSERT_EQ(s["monitoring"]["verdict"], "drift");
  EXPECT_EQ(s["monitoring"]["alarm"], true);  // accuracy: all these texts are guesses
  EXPECT_EQ(s["monitoring"]["alarms"][0]["name"], "vocabulary");
  EXPECT_EQ(s["monitoring"]["alarms"][0]["firing"], false);
  EXPECT_EQ(s["monitoring"]["alarms"][0]["runs_met"], 1);
  EXPECT_EQ(s["monitoring"]["alarms"][1]["firing"], true);

  auto second = run(tmp_ / "other", "--metrics emf:" + (tmp_ / "emf.jsonl"));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  s = Json::parse(second.out);
  EXPECT_EQ(s["monitoring"]["alarms"][0]["firing"], true);
  EXPECT_EQ(s["monitoring"]["alarms"][0]["runs_met"], 2);
  EXPECT_NE(second.err.find("alarm vocabulary fired"), std::string::npos) << second.err;
  EXPECT_NE(ReadAll(tmp_ / "emf.jsonl").find("lote_monitoring_alarm"), std::string::npos);
  auto shown = RunLote("monitor --output " + out);
  EXPECT_NE(shown.out.find("alarm vocabulary: unknown_word_rate >= drift, 2 of 2 consecutive "
                           "run(s): FIRING"),
            std::string::npos)
      << shown.out;

  // A run like the training data breaks the streak.
  auto third = run(tmp_ / "lake", "");
  ASSERT_EQ(third.exit_code, 0) << third.err;
  s = Json::parse(third.out);
  EXPECT_EQ(s["monitoring"]["alarm"], false);
  EXPECT_EQ(s["monitoring"]["alarms"][0]["runs_met"], 0);

  auto sql = RunLote("query --output " + out +
                     " --format csv \"SELECT name, firing FROM alarms JOIN runs USING (run_id) "
                     "ORDER BY finished_at, name\"");
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_EQ(sql.out,
            "name,firing\naccuracy,1\nvocabulary,0\naccuracy,1\nvocabulary,1\naccuracy,0\n"
            "vocabulary,0\n");

  const std::string bad = tmp_ / "bad-alarm.yaml";
  std::ofstream(bad) << "monitoring:\n  alarms:\n    - name: x\n      signal: vocabulary\n"
                        "      band: drift\n";
  auto refused = RunLote("run --input " + (tmp_ / "lake") + " --output " + (tmp_ / "out3") +
                         " --model " + Model() + " --config " + bad);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("unknown signal 'vocabulary'"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace lote::testing
