#include "lote/extract/entity.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <tuple>

namespace lote::extract {

bool HasCheckDigit(const Entity& e) {
  return e.source == Entity::Source::kPattern && (e.type == "CARD" || e.type == "NIT");
}

namespace {

int Rank(const Entity& e) {
  if (HasCheckDigit(e)) return 2;
  return e.source == Entity::Source::kPattern ? 1 : 0;
}

}  // namespace

std::vector<Entity> ResolveOverlaps(std::vector<Entity> entities) {
  std::erase_if(entities, [](const Entity& e) { return e.start >= e.end; });
  std::vector<size_t> order(entities.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Entity& x = entities[a];
    const Entity& y = entities[b];
    return std::make_tuple(-(static_cast<int64_t>(x.end) - x.start), -Rank(x), -x.score, x.start,
                           std::string_view(x.type),
                           a) < std::make_tuple(-(static_cast<int64_t>(y.end) - y.start), -Rank(y),
                                                -y.score, y.start, std::string_view(y.type), b);
  });
  // Accepted spans ordered by start (disjoint), so each overlap test is a logarithmic lookup.
  std::set<std::pair<uint32_t, uint32_t>> taken;
  std::vector<size_t> keep;
  for (size_t i : order) {
    const Entity& e = entities[i];
    auto it = taken.lower_bound({e.start, 0u});
    bool overlaps = (it != taken.end() && it->first < e.end) ||
                    (it != taken.begin() && std::prev(it)->second > e.start);
    if (overlaps) continue;
    taken.insert(it, {e.start, e.end});
    keep.push_back(i);
  }
  std::sort(keep.begin(), keep.end(),
            [&](size_t a, size_t b) { return entities[a].start < entities[b].start; });
  std::vector<Entity> out;
  out.reserve(keep.size());
  for (size_t i : keep) out.push_back(std::move(entities[i]));
  return out;
}

}  // namespace lote::extract
