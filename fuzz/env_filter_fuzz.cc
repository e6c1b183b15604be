// Fuzz target: bytes as a RUST_LOG-style directive list -> EnvFilter::Parse.
// Checks: parsing never crashes; the directives it keeps serialise back to a spec that parses
// to the same directives without errors; LevelFor() of any target is at most MaxLevel().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vllora/core/level.h"
#include "vllora/subscriber/filter.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  const vllora::EnvFilter filter = vllora::EnvFilter::Parse(spec, &errors);

  std::string again;
  for (const auto& directive : filter.directives()) {
    if (!again.empty()) again += ',';
    if (!directive.target.empty()) again += directive.target + "=";
    again += vllora::ToString(directive.level);
  }
  std::vector<std::string> errors_again;
  const vllora::EnvFilter reparsed = vllora::EnvFilter::Parse(again, &errors_again);
  Check(errors_again.empty());
  Check(reparsed.directives().size() == filter.directives().size());
  for (size_t i = 0; i < filter.directives().size(); ++i) {
    Check(reparsed.directives()[i].target == filter.directives()[i].target);
    Check(reparsed.directives()[i].level == filter.directives()[i].level);
  }

  // Use the input's own pieces as targets to look up.
  const vllora::LevelFilter max = filter.MaxLevel();
  size_t start = 0;
  for (size_t i = 0; i <= spec.size(); ++i) {
    if (i == spec.size() || spec[i] == ',' || spec[i] == '=') {
      const vllora::LevelFilter level = filter.LevelFor(spec.substr(start, i - start));
      Check(static_cast<int>(level) >= static_cast<int>(max));  // lower = more verbose
      start = i + 1;
    }
  }
  return 0;
}
