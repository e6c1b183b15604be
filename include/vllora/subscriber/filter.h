// Per-layer filters: which callsites a layer sees.
//
// TargetFilter is the seed's `events::layer("vllora::user_tracing", LevelFilter::INFO, …)` filter:
// a target prefix matched on `::` boundaries (`app::runtime` matches `app::runtime` and
// `app::runtime::execution`, not `app::runtimes`) and a level. EnvFilter parses `RUST_LOG`
// directives (`info`, `warn,app::runtime=trace`, `vllora=debug`). Filters decide per callsite from
// its metadata; the registry caches the decision in the callsite.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vllora/core/level.h"
#include "vllora/core/metadata.h"

namespace vllora {

/// Decides from a callsite's metadata whether a layer sees it. Thread-safety: Enabled is const
/// and called concurrently.
class Filter {
 public:
  virtual ~Filter() = default;
  virtual bool Enabled(const Metadata& metadata) const noexcept = 0;
};

/// True when `target` is `prefix` or starts with `prefix` followed by `::`. An empty prefix
/// matches everything.
bool TargetMatches(std::string_view target, std::string_view prefix) noexcept;

/// Lets through callsites whose target is under `prefix` and whose level passes `level`.
class TargetFilter final : public Filter {
 public:
  TargetFilter(std::string prefix, LevelFilter level) : prefix_(std::move(prefix)), level_(level) {}
  bool Enabled(const Metadata& metadata) const noexcept override;

 private:
  std::string prefix_;
  LevelFilter level_;
};

/// Lets through callsites whose level passes `level`, whatever the target.
class LevelOnlyFilter final : public Filter {
 public:
  explicit LevelOnlyFilter(LevelFilter level) : level_(level) {}
  bool Enabled(const Metadata& metadata) const noexcept override {
    return LevelEnabled(metadata.level, level_);
  }

 private:
  LevelFilter level_;
};

/// A filter built from `RUST_LOG`-style directives.
///
/// Syntax: comma-separated directives, each `level`, `target`, or `target=level`; levels are
/// trace, debug, info, warn, error, off. The most specific matching target wins; a bare level is
/// the default for targets no directive names; a bare target means all levels. Span-name and
/// field directives (`target[span{f=v}]=level`) are not supported and reported as malformed.
class EnvFilter final : public Filter {
 public:
  struct Directive {
    std::string target;  ///< empty: the default directive
    LevelFilter level;
  };

  /// Parses `spec`. Malformed directives are skipped; each adds one message to `errors` naming
  /// it (when `errors` is not null). The valid rest applies.
  static EnvFilter Parse(std::string_view spec, std::vector<std::string>* errors = nullptr);

  /// Reads the directives from environment variable `var` (default RUST_LOG); when it is unset or
  /// empty uses `default_spec`. Each malformed directive is reported once on stderr, naming the
  /// variable and the directive.
  static EnvFilter FromEnv(std::string_view default_spec = "error", const char* var = "RUST_LOG");

  bool Enabled(const Metadata& metadata) const noexcept override;
  /// The level that applies to `target` (the most verbose level it lets through).
  LevelFilter LevelFor(std::string_view target) const noexcept;
  const std::vector<Directive>& directives() const noexcept { return directives_; }
  /// The most verbose level any directive enables.
  LevelFilter MaxLevel() const noexcept;

 private:
  std::vector<Directive> directives_;  // sorted: longest target first
  std::optional<LevelFilter> default_level_;
};

}  // namespace vllora
