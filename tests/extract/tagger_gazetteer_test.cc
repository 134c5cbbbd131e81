#include "extract/tagger_gazetteer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <span>

#include "lote/base/digest.h"
#include "lote/extract/tagger.h"
#include "lote/extract/word_list.h"
#include "lote/model/model_file.h"

namespace lote::extract::internal {
namespace {

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

// Small lists in the formats of the Debian files (names as `lote train extract` gives them).
std::vector<WordList> AllLists() {
  const std::string faker = "/usr/lib/python3/dist-packages/faker/providers/person/";
  return {
      {"/usr/share/hunspell/es_ES.dic", WordListKind::kSpellingDictionary,
       "5\nAbejorral/S\ncasa/S\nAna\nNY\nSan-Juan/X\n", "/r/es_ES.dic"},
      {"/usr/share/iso-codes/json/iso_3166-1.json", WordListKind::kCountryNames,
       R"({"3166-1": [{"alpha_2": "ES", "name": "Spain"},
                      {"alpha_2": "US", "name": "United States", "official_name": "United States of America"}]})",
       "/r/iso_3166-1.json"},
      {"/usr/share/locale/es/LC_MESSAGES/iso_3166-1.mo", WordListKind::kCountryNameTranslations,
       MoCatalog({{"Spain", "España"}, {"United States", "Estados Unidos"}}, false),
       "/r/iso_3166-1.mo"},
      {"/usr/share/iso-codes/json/iso_3166-2.json", WordListKind::kSubdivisionNames,
       R"({"3166-2": [{"code": "CO-ANT", "name": "Antioquia"},
                      {"code": "ES-CM", "name": "Castilla-La Mancha"}]})",
       "/r/iso_3166-2.json"},
      {faker + "es_ES/__init__.py", WordListKind::kPersonNames, R"(
class Provider(PersonProvider):
    formats = ('{{first_name}} {{last_name}}', )
    first_names_male = (
        'Antonio', 'José María',  # a comment with 'Quoted'
    )
    first_names = first_names_male + first_names_female
    last_names = ('Herrera', 'Castaño')
    prefixes = ('Sr.', 'Dr.')
)",
       "/r/es_ES.py"},
      {faker + "en_US/__init__.py", WordListKind::kPersonNames, R"(
    last_names = OrderedDict((
        ('Smith', 0.021712045),
        ("Johnson", 0.01696938),
    ))
)",
       "/r/en_US.py"},
  };
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

TEST(AddWordLists, ReadsProperNounsCountriesInSpanishRegionsAndNames) {
  const std::vector<WordList> lists = AllLists();
  WordGazetteer g;
  std::vector<GazetteerSource> used;
  ASSERT_TRUE(AddWordLists(lists, &g, &used).ok());
  g.Finish();
  ASSERT_EQ(used.size(), 6u);  // every list, in the order given
  EXPECT_EQ(used[0].name, "/usr/share/hunspell/es_ES.dic");
  EXPECT_EQ(used[0].kind, WordListKind::kSpellingDictionary);
  EXPECT_EQ(used[0].words, 2u);  // Abejorral, Ana: not lower-case "casa", 2-letter "NY", "San-Juan"
  EXPECT_EQ(used[0].sha256, Sha256Hex(lists[0].bytes));
  EXPECT_EQ(used[2].words, 0u);  // the translation catalog gives no words of its own
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

TEST(AddWordLists, TranslatesCountriesWhateverTheOrderOfTheLists) {
  std::vector<WordList> lists = AllLists();
  std::swap(lists[1], lists[2]);  // the catalog before the names it translates
  WordGazetteer g;
  std::vector<GazetteerSource> used;
  ASSERT_TRUE(AddWordLists(lists, &g, &used).ok());
  g.Finish();
  EXPECT_EQ(g.LookupWord("españa"), kGazCountry);
  EXPECT_EQ(g.LookupWord("spain"), 0u);
  // Without a catalog the names are read as written.
  lists.erase(lists.begin() + 1);
  WordGazetteer english;
  used.clear();
  ASSERT_TRUE(AddWordLists(lists, &english, &used).ok());
  english.Finish();
  EXPECT_EQ(english.LookupWord("spain"), kGazCountry);
  EXPECT_EQ(english.LookupWord("españa"), 0u);
}

TEST(AddWordLists, NoListsGiveAnEmptyGazetteer) {
  WordGazetteer g;
  std::vector<GazetteerSource> used;
  ASSERT_TRUE(AddWordLists({}, &g, &used).ok());
  g.Finish();
  EXPECT_TRUE(used.empty());
  EXPECT_EQ(g.size(), 0u);
}

TEST(AddWordLists, BrokenListIsDataLossNamingWhereItCameFrom) {
  for (size_t broken : {1u, 2u, 3u}) {  // country JSON, catalog, subdivision JSON
    std::vector<WordList> lists = AllLists();
    lists[broken].bytes = "{\"3166-2\": [trunc";
    WordGazetteer g;
    std::vector<GazetteerSource> used;
    const Status s = AddWordLists(lists, &g, &used);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << broken;
    EXPECT_NE(s.message().find(lists[broken].origin), std::string::npos) << s.message();
  }
}

TEST(WordListKind, NamesRoundTrip) {
  for (WordListKind k : {WordListKind::kSpellingDictionary, WordListKind::kCountryNames,
                         WordListKind::kCountryNameTranslations, WordListKind::kSubdivisionNames,
                         WordListKind::kPersonNames}) {
    EXPECT_EQ(ParseWordListKind(WordListKindName(k)), k);
  }
  EXPECT_EQ(WordListKindName(WordListKind::kPersonNames), "person-names");
  EXPECT_FALSE(ParseWordListKind("hunspell").has_value());
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

std::vector<TaggedSequence> PlacesCorpus() {
  std::vector<TaggedSequence> train;
  for (int c = 0; c < 10; ++c) {
    TaggedSequence s;
    s.tokens = {"viajó", "a", c % 2 ? "Antioquia" : "España", "ayer"};
    s.tags = {"O", "O", "B-LOC", "O"};
    train.push_back(s);
  }
  return train;
}

TaggerTrainOptions PlacesOptions(std::span<const WordList> lists) {
  TaggerTrainOptions o;
  o.epochs = 3;
  o.doc_window = 0;
  o.word_lists = lists;
  return o;
}

TEST(EntityTaggerGazetteer, ModelStoresTheListsAndNamesThem) {
  const std::vector<WordList> lists = AllLists();
  const auto train = PlacesCorpus();
  auto tagger = EntityTagger::Train(train, {}, PlacesOptions(lists), nullptr);
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  const auto meta = nlohmann::json::parse(tagger->meta_json());
  const auto& gaz = meta["training"]["gazetteer"];
  ASSERT_EQ(gaz["sources"].size(), 6u);
  EXPECT_GT(gaz["words"].get<size_t>(), 5u);
  const auto& dic = gaz["sources"][0];
  EXPECT_EQ(dic["name"], "/usr/share/hunspell/es_ES.dic");
  EXPECT_EQ(dic["kind"], "spelling-dictionary");
  EXPECT_EQ(dic["sha256"], Sha256Hex(lists[0].bytes));
  EXPECT_EQ(dic["words"], 2);
  EXPECT_FALSE(dic.contains("path"));  // where the bytes came from is not the model's business
  EXPECT_EQ(meta.dump().find("/r/"), std::string::npos);
  // The lists travel in the model: it loads and tags without them.
  const std::string bytes = model::SerializeModelFile(tagger->ToModelFile());
  auto file = model::ParseModelFile(bytes, "g.lote");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->sections.count("tagger.gazetteer"));
  auto loaded = EntityTagger::FromModelFile(*file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(model::SerializeModelFile(loaded->ToModelFile()), bytes);

  auto without = EntityTagger::Train(train, {}, PlacesOptions({}), nullptr);
  ASSERT_TRUE(without.ok());
  const auto meta2 = nlohmann::json::parse(without->meta_json());
  EXPECT_EQ(meta2["training"]["gazetteer"]["words"].get<size_t>(), 0u);
  EXPECT_TRUE(meta2["training"]["gazetteer"]["sources"].empty());
  EXPECT_NE(tagger->version_id(), without->version_id());
}

TEST(EntityTaggerGazetteer, SameListBytesGiveAnIdenticalModelOtherBytesAnotherModel) {
  const auto train = PlacesCorpus();
  // Two copies of the same bytes, "read" from different places.
  std::vector<WordList> a = AllLists(), b = AllLists();
  for (auto& l : b) l.origin = "/elsewhere" + l.origin;
  auto ta = EntityTagger::Train(train, {}, PlacesOptions(a), nullptr);
  auto tb = EntityTagger::Train(train, {}, PlacesOptions(b), nullptr);
  ASSERT_TRUE(ta.ok() && tb.ok());
  EXPECT_EQ(ta->ToModelFile().sections, tb->ToModelFile().sections);

  // One more region in the subdivision list: another gazetteer, another model, and the meta
  // names the bytes it was trained with.
  std::vector<WordList> c = AllLists();
  c[3].bytes = R"({"3166-2": [{"code": "CO-ANT", "name": "Antioquia"},
                               {"code": "CO-CUN", "name": "Cundinamarca"}]})";
  auto tc = EntityTagger::Train(train, {}, PlacesOptions(c), nullptr);
  ASSERT_TRUE(tc.ok());
  const auto sa = ta->ToModelFile().sections, sc = tc->ToModelFile().sections;
  EXPECT_NE(sa.at("tagger.gazetteer"), sc.at("tagger.gazetteer"));
  EXPECT_NE(ta->version_id(), tc->version_id());
  const auto meta = nlohmann::json::parse(tc->meta_json());
  const auto& sub = meta["training"]["gazetteer"]["sources"][3];
  EXPECT_EQ(sub["name"], "/usr/share/iso-codes/json/iso_3166-2.json");
  EXPECT_EQ(sub["sha256"], Sha256Hex(c[3].bytes));
  EXPECT_NE(sub["sha256"], Sha256Hex(a[3].bytes));
  EXPECT_EQ(sub["words"], 2);  // Antioquia, Cundinamarca
}

}  // namespace
}  // namespace lote::extract::internal
