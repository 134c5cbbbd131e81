#include "word_lists.h"

#include <filesystem>

#include "lote/io/file_source.h"

namespace lote::cli {

namespace {

using extract::WordListKind;

constexpr WordListFile kDebianFiles[] = {
    {"/usr/share/hunspell/es_ES.dic", WordListKind::kSpellingDictionary, "hunspell-es"},
    {"/usr/share/iso-codes/json/iso_3166-1.json", WordListKind::kCountryNames, "iso-codes"},
    {"/usr/share/locale/es/LC_MESSAGES/iso_3166-1.mo", WordListKind::kCountryNameTranslations,
     "iso-codes"},
    {"/usr/share/iso-codes/json/iso_3166-2.json", WordListKind::kSubdivisionNames, "iso-codes"},
    {"/usr/lib/python3/dist-packages/faker/providers/person/es_ES/__init__.py",
     WordListKind::kPersonNames, "python3-fake-factory"},
    {"/usr/lib/python3/dist-packages/faker/providers/person/es_MX/__init__.py",
     WordListKind::kPersonNames, "python3-fake-factory"},
    {"/usr/lib/python3/dist-packages/faker/providers/person/en_US/__init__.py",
     WordListKind::kPersonNames, "python3-fake-factory"},
};

}  // namespace

std::span<const WordListFile> DebianWordListFiles() { return kDebianFiles; }

Result<std::vector<extract::WordList>> ReadDebianWordLists(const std::string& root) {
  const std::filesystem::path base(root.empty() ? std::string("/") : root);
  std::vector<extract::WordList> lists;
  for (const WordListFile& f : kDebianFiles) {
    extract::WordList l;
    l.name = std::string(f.path);
    l.kind = f.kind;
    l.origin = (base / std::filesystem::path(f.path).relative_path()).string();
    auto bytes = io::ReadFileToString(l.origin);
    if (!bytes.ok()) {
      if (bytes.status().code() != StatusCode::kNotFound) return bytes.status();
      return NotFoundError(l.origin + ": word list not found; it comes with Debian's " +
                           std::string(f.package) +
                           " package (scripts/bootstrap.sh installs it), or train without word "
                           "lists: --no-gazetteer");
    }
    l.bytes = std::move(*bytes);
    lists.push_back(std::move(l));
  }
  return lists;
}

}  // namespace lote::cli
