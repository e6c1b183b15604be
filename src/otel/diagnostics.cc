#include "vllora/otel/diagnostics.h"

#include <atomic>
#include <cstdio>

namespace vllora::otel {
namespace {

void DefaultHandler(DiagnosticLevel level, std::string_view message) {
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  std::fprintf(stderr, "vllora-telemetry: [%s] %.*s\n", kNames[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
}

std::atomic<DiagnosticHandler> g_handler{&DefaultHandler};
std::atomic<int> g_level{static_cast<int>(DiagnosticLevel::kWarn)};

}  // namespace

void SetDiagnosticHandler(DiagnosticHandler handler) noexcept {
  g_handler.store(handler != nullptr ? handler : &DefaultHandler, std::memory_order_release);
}

void SetDiagnosticLevel(DiagnosticLevel level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool IsDiagnosticEnabled(DiagnosticLevel level) noexcept {
  // relaxed: the level is a filter hint; a stale read only shows/hides one message.
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void EmitDiagnostic(DiagnosticLevel level, std::string_view message) noexcept {
  if (!IsDiagnosticEnabled(level)) return;
  DiagnosticHandler handler = g_handler.load(std::memory_order_acquire);
  try {
    handler(level, message);
  } catch (...) {
    // A handler must not throw; never let it escape into the instrumented code.
  }
}

}  // namespace vllora::otel
