#include "vllora/subscriber/filter.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace vllora {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsTargetChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '-' || c == '.';
}

// Returns an empty string when `target` is a valid target path, else the reason.
std::string CheckTarget(std::string_view target) {
  if (target.empty()) return "empty target";
  for (char c : target) {
    if (c == '[' || c == '{' || c == ']' || c == '}') {
      return "span and field filters (target[span{field=value}]) are not supported";
    }
    if (!IsTargetChar(c)) return std::string("invalid character '") + c + "' in target";
  }
  return {};
}

}  // namespace

bool TargetMatches(std::string_view target, std::string_view prefix) noexcept {
  if (prefix.empty()) return true;
  if (target.size() < prefix.size() || target.compare(0, prefix.size(), prefix) != 0) return false;
  if (target.size() == prefix.size()) return true;
  return target.size() >= prefix.size() + 2 && target[prefix.size()] == ':' &&
         target[prefix.size() + 1] == ':';
}

bool TargetFilter::Enabled(const Metadata& metadata) const noexcept {
  return LevelEnabled(metadata.level, level_) && TargetMatches(metadata.target, prefix_);
}

EnvFilter EnvFilter::Parse(std::string_view spec, std::vector<std::string>* errors) {
  EnvFilter filter;
  auto fail = [&](std::string_view directive, const std::string& reason) {
    if (errors != nullptr) {
      errors->push_back("invalid directive '" + std::string(directive) + "': " + reason);
    }
  };
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view directive = Trim(spec.substr(start, comma - start));
    start = comma + 1;
    if (directive.empty()) continue;

    size_t eq = directive.find('=');
    if (eq == std::string_view::npos) {
      if (auto level = ParseLevelFilter(directive)) {
        filter.default_level_ = *level;
        continue;
      }
      std::string reason = CheckTarget(directive);
      if (!reason.empty()) {
        fail(directive, reason + " (and not a level)");
        continue;
      }
      filter.directives_.push_back(Directive{std::string(directive), LevelFilter::kTrace});
      continue;
    }
    std::string_view target = Trim(directive.substr(0, eq));
    std::string_view level_text = Trim(directive.substr(eq + 1));
    std::string reason = CheckTarget(target);
    if (!reason.empty()) {
      fail(directive, reason);
      continue;
    }
    auto level = ParseLevelFilter(level_text);
    if (!level) {
      fail(directive, "unknown level '" + std::string(level_text) +
                          "' (expected trace, debug, info, warn, error or off)");
      continue;
    }
    filter.directives_.push_back(Directive{std::string(target), *level});
  }
  // Later directives for the same target win; then most specific (longest) target first.
  std::vector<Directive> unique;
  for (auto it = filter.directives_.rbegin(); it != filter.directives_.rend(); ++it) {
    bool seen = std::any_of(unique.begin(), unique.end(),
                            [&](const Directive& d) { return d.target == it->target; });
    if (!seen) unique.push_back(*it);
  }
  std::stable_sort(unique.begin(), unique.end(), [](const Directive& a, const Directive& b) {
    return a.target.size() > b.target.size();
  });
  filter.directives_ = std::move(unique);
  return filter;
}

EnvFilter EnvFilter::FromEnv(std::string_view default_spec, const char* var) {
  const char* value = var != nullptr ? std::getenv(var) : nullptr;
  if (value == nullptr || Trim(value).empty()) return Parse(default_spec);
  std::vector<std::string> errors;
  EnvFilter filter = Parse(value, &errors);
  for (const auto& error : errors) {
    std::fprintf(stderr, "vllora-telemetry: %s: %s\n", var, error.c_str());
  }
  if (filter.directives_.empty() && !filter.default_level_) {
    std::fprintf(stderr, "vllora-telemetry: %s has no valid directive; using '%.*s'\n", var,
                 static_cast<int>(default_spec.size()), default_spec.data());
    return Parse(default_spec);
  }
  return filter;
}

LevelFilter EnvFilter::LevelFor(std::string_view target) const noexcept {
  for (const auto& directive : directives_) {
    if (TargetMatches(target, directive.target)) return directive.level;
  }
  return default_level_.value_or(LevelFilter::kOff);
}

bool EnvFilter::Enabled(const Metadata& metadata) const noexcept {
  return LevelEnabled(metadata.level, LevelFor(metadata.target));
}

LevelFilter EnvFilter::MaxLevel() const noexcept {
  LevelFilter most = default_level_.value_or(LevelFilter::kOff);
  for (const auto& directive : directives_) most = std::min(most, directive.level);
  return most;
}

}  // namespace vllora
