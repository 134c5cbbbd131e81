// The reference word lists `lote train extract` gives the entity tagger: files of Debian's
// hunspell-es, iso-codes and python3-fake-factory packages (scripts/bootstrap.sh installs them),
// read here and handed to the library as bytes (lote/extract/word_list.h).
#ifndef LOTE_APPS_LOTE_WORD_LISTS_H_
#define LOTE_APPS_LOTE_WORD_LISTS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lote/base/status.h"
#include "lote/extract/word_list.h"

namespace lote::cli {

// One list file as Debian installs it.
struct WordListFile {
  std::string_view path;  // absolute Debian path; also the name the model records
  extract::WordListKind kind;
  std::string_view package;  // the Debian package that provides it
};

// The seven files, in the order they are given to the tagger (and listed in the model's meta).
std::span<const WordListFile> DebianWordListFiles();

// Reads every file of DebianWordListFiles() under `root`: its Debian path with `root` in place of
// "/" ("/" reads the installed packages; a folder holding copies in the same layout gives the
// same lists on a machine without them). Each list is named by its Debian path whatever the
// root, so the same files give the same model wherever they are kept.
// Errors: NotFound naming the missing file and the package that provides it; the read error of
// a file that exists but cannot be read.
Result<std::vector<extract::WordList>> ReadDebianWordLists(const std::string& root);

}  // namespace lote::cli

#endif  // LOTE_APPS_LOTE_WORD_LISTS_H_
