// LOTE_CHECK: for programmer errors only, never reachable from user input.
#ifndef LOTE_BASE_CHECK_H_
#define LOTE_BASE_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define LOTE_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: LOTE_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#endif  // LOTE_BASE_CHECK_H_
