#include "extract/tagger_gazetteer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lote/extract/tagger.h"
#include "lote/model/model_file.h"

namespace lote::extract::internal {
namespace {

namespace fs = std::filesystem;

// A gettext .mo catalog of (msgid, msgstr) pairs, little- or big-endian.
std::string MoCatalog(const std::vector<std::pair<std::string, std::string>>& entries,
                      bool big_endian) {
  auto u32 = [&](uint32_t v) {
    if (big_endian) v = __builtin_bswap32(v);
    std::string s(4, '\0');
    std::memcpy(s.data(), &v, 4);
    return s;
  };
  const uint32_t n = static_cast<uint32_t>(entries.size());
  const uint32_t orig = 28, trans = orig + 8 * n;
  uint32_t at = trans + 8 * n;
  std::string tables, strings;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : entries) {
      const std::string& s = pass == 0 ? e.first : e.second;
      tables += u32(static_cast<uint32_t>(s.size())) + u32(at);
      strings += s + '\0';
      at += static_cast<uint32_t>(s.size()) + 1;
    }
  }
  return u32(0x950412de) + u32(0) + u32(n) + u32(orig) + u32(trans) + u32(0) + u32(0) + tables +
         strings;
}

class FakeRoot {
 public:
  FakeRoot() {
    std::string tmpl = (fs::temp_directory_path() / "lote-gaz-XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
  }
  ~FakeRoot() { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& bytes) const {
    fs::create_directories(fs::path(root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << bytes;
  }
  std::string path() const { return root_.string(); }

 private:
  fs::path root_;
};

void WriteAllSources(const FakeRoot& r) {
  r.Write("usr/share/hunspell/es_ES.dic", "5\nAbejorral/S\ncasa/S\nAna\nNY\nSan-Juan/X\n");
  r.Write("usr/share/iso-codes/json/iso_3166-1.json",
          R"({"3166-1": [{"alpha_2": "ES", "name": "Spain"},
                         {"alpha_2": "US", "name": "United States", "official_name": "United States of America"}]})");
  r.Write("usr/share/locale/es/LC_MESSAGES/iso_3166-1.mo",
          MoCatalog({{"Spain", "España"}, {"United States", "Estados Unidos"}}, false));
  r.Write("usr/share/iso-codes/json/iso_3166-2.json",
          R"({"3166-2": [{"code": "CO-ANT", "name": "Antioquia"},
                         {"code": "ES-CM", "name": "Castilla-La Mancha"}]})");
  const std::string faker = "usr/lib/python3/dist-packages/faker/providers/person/";
  r.Write(faker + "es_ES/__init__.py", R"(
class Provider(PersonProvider):
    formats = ('{{first_name}} {{last_name}}', )
    first_names_male = (
        'Antonio', 'José María',  # a comment with 'Quoted'
    )
    first_names = first_names_male + first_names_female
    last_names = ('Herrera', 'Castaño')
    prefixes = ('Sr.', 'Dr.')
)");
  r.Write(faker + "en_US/__init__.py", R"(
    last_names = OrderedDict((
        ('Smith', 0.021712045),
        ("Johnson", 0.01696938),
    ))
)");
}

TEST(ParseMoCatalog, ReadsBothByteOrders) {
  for (bool be : {false, true}) {
    auto m = ParseMoCatalog(MoCatalog({{"Spain", "España"}, {"Peru", "Perú"}}, be), "es.mo");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->at("Spain"), "España");
    EXPECT_EQ(m->at("Peru"), "Perú");
  }
}

TEST(ParseMoCatalog, TruncatedOrForeignFileIsDataLossNamingIt) {
  const std::string mo = MoCatalog({{"Spain", "España"}}, false);
  for (const std::string& bad :
       {mo.substr(0, 40), std::string("not a catalog at all, no"), std::string(64, 'x')}) {
    auto m = ParseMoCatalog(bad, "/x/es.mo");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(m.status().message().find("/x/es.mo"), std::string::npos);
  }
}

TEST(LoadSystemGazetteer, ReadsProperNounsCountriesInSpanishAndRegions) {
  FakeRoot root;
  WriteAllSources(root);
  WordGazetteer g;
  std::vector<GazetteerSource> used;
  std::vector<std::string> missing;
  ASSERT_TRUE(LoadSystemGazetteer(root.path(), &g, &used, &missing).ok());
  g.Finish();
  ASSERT_EQ(missing.size(), 1u);  // no es_MX names file
  EXPECT_NE(missing[0].find("es_MX"), std::string::npos);
  ASSERT_EQ(used.size(), 6u);
  EXPECT_EQ(used[0].words, 2u);  // Abejorral, Ana: not lower-case "casa", 2-letter "NY", "San-Juan"
  EXPECT_EQ(used[0].sha256.size(), 64u);
  EXPECT_EQ(g.LookupWord("Abejorral"), kGazProperNoun);
  EXPECT_EQ(g.LookupWord("ABEJORRAL"), kGazProperNoun);  // looked up lower-cased
  EXPECT_EQ(g.LookupWord("ana"), kGazProperNoun);
  EXPECT_EQ(g.LookupWord("casa"), 0u);
  EXPECT_EQ(g.LookupWord("ny"), 0u);
  EXPECT_EQ(g.LookupWord("españa"), kGazCountry);  // the Spanish name, not "Spain"
  EXPECT_EQ(g.LookupWord("spain"), 0u);
  EXPECT_EQ(g.LookupWord("Estados"), kGazCountry);
  EXPECT_EQ(g.LookupWord("America"), kGazCountry);  // untranslated official name kept as is
  EXPECT_EQ(g.LookupWord("of"), 0u);                // not capitalised
  EXPECT_EQ(g.LookupWord("antioquia"), kGazRegion);
  EXPECT_EQ(g.LookupWord("Castilla"), kGazRegion);  // names are split at punctuation
  EXPECT_EQ(g.LookupWord("Mancha"), kGazRegion);
  EXPECT_EQ(g.LookupWord("la"), 0u);  // two letters
  // Faker's name lists: tuples and OrderedDicts, not comments, formats or other tuples.
  EXPECT_EQ(g.LookupWord("Antonio"), kGazPersonName);
  EXPECT_EQ(g.LookupWord("María"), kGazPersonName);
  EXPECT_EQ(g.LookupWord("castaño"), kGazPersonName);
  EXPECT_EQ(g.LookupWord("Smith"), kGazPersonName);
  EXPECT_EQ(g.LookupWord("Johnson"), kGazPersonName);
  EXPECT_EQ(g.LookupWord("Quoted"), 0u);
  EXPECT_EQ(g.LookupWord("first_name"), 0u);
  EXPECT_EQ(g.LookupWord("Sr"), 0u);
  EXPECT_EQ(used[4].words, 5u);  // Antonio, José, María, Herrera, Castaño
}

TEST(LoadSystemGazetteer, MissingFilesAreListedNotAnError) {
  FakeRoot root;
  WordGazetteer g;
  std::vector<GazetteerSource> used;
  std::vector<std::string> missing;
  ASSERT_TRUE(LoadSystemGazetteer(root.path(), &g, &used, &missing).ok());
  g.Finish();
  EXPECT_TRUE(used.empty());
  EXPECT_EQ(missing.size(), 7u);
  EXPECT_EQ(g.size(), 0u);
}

TEST(LoadSystemGazetteer, BrokenFileIsDataLossNamingIt) {
  FakeRoot root;
  WriteAllSources(root);
  root.Write("usr/share/iso-codes/json/iso_3166-2.json", "{\"3166-2\": [trunc");
  WordGazetteer g;
  std::vector<GazetteerSource> used;
  std::vector<std::string> missing;
  const Status s = LoadSystemGazetteer(root.path(), &g, &used, &missing);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("iso_3166-2.json"), std::string::npos);
}

TEST(WordGazetteer, SerializesAndRefusesUnsortedKeys) {
  WordGazetteer g;
  g.Add("Bogotá", kGazProperNoun);
  g.Add("bogotá", kGazRegion);
  g.Add("Lima", kGazProperNoun);
  g.Finish();
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.LookupWord("BOGOTÁ"), kGazProperNoun | kGazRegion);
  std::string bytes;
  g.Serialize(&bytes);
  WordGazetteer h;
  ASSERT_TRUE(h.Parse(bytes).ok());
  EXPECT_EQ(h.LookupWord("lima"), kGazProperNoun);
  // Swap the two keys: unsorted.
  std::string swapped = bytes;
  std::memcpy(swapped.data() + 8, bytes.data() + 16, 8);
  std::memcpy(swapped.data() + 16, bytes.data() + 8, 8);
  EXPECT_EQ(h.Parse(swapped).code(), StatusCode::kDataLoss);
}

TEST(EntityTaggerGazetteer, ModelStoresTheListsAndNamesTheirSources) {
  FakeRoot root;
  WriteAllSources(root);
  std::vector<TaggedSequence> train;
  for (int c = 0; c < 10; ++c) {
    TaggedSequence s;
    s.tokens = {"viajó", "a", c % 2 ? "Antioquia" : "España", "ayer"};
    s.tags = {"O", "O", "B-LOC", "O"};
    train.push_back(s);
  }
  TaggerTrainOptions o;
  o.epochs = 3;
  o.doc_window = 0;
  o.gazetteer_root = root.path();
  auto tagger = EntityTagger::Train(train, {}, o, nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  const auto meta = nlohmann::json::parse(tagger->meta_json());
  const auto& gaz = meta["training"]["gazetteer"];
  EXPECT_EQ(gaz["sources"].size(), 6u);
  EXPECT_GT(gaz["words"].get<size_t>(), 5u);
  EXPECT_EQ(gaz["sources"][0]["path"].get<std::string>(),
            (fs::path(root.path()) / "usr/share/hunspell/es_ES.dic").string());
  // The lists travel in the model: it loads and tags without the files.
  const std::string bytes = model::SerializeModelFile(tagger->ToModelFile());
  auto file = model::ParseModelFile(bytes, "g.lote");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->sections.count("tagger.gazetteer"));
  auto loaded = EntityTagger::FromModelFile(*file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(model::SerializeModelFile(loaded->ToModelFile()), bytes);

  o.system_gazetteer = false;
  auto without = EntityTagger::Train(train, {}, o, nullptr);
  ASSERT_TRUE(without.ok());
  const auto meta2 = nlohmann::json::parse(without->meta_json());
  EXPECT_EQ(meta2["training"]["gazetteer"]["words"].get<size_t>(), 0u);
  EXPECT_NE(tagger->version_id(), without->version_id());
}

}  // namespace
}  // namespace lote::extract::internal
