// The SDK's own diagnostic log: malformed headers, dropped spans, failed exports, bad env vars.
//
// It never goes through the application's logging (that could recurse into tracing). By default
// messages at kWarn and above are written to stderr prefixed "vllora-telemetry: ". Install a
// handler with SetDiagnosticHandler() to route them elsewhere. Other vllora modules (exporters)
// report through EmitDiagnostic() as well.
#pragma once

#include <string_view>

namespace vllora::otel {

/// Severity of an SDK diagnostic message.
enum class DiagnosticLevel { kDebug, kInfo, kWarn, kError };

/// Receives SDK diagnostics. Must not throw and must not start spans.
using DiagnosticHandler = void (*)(DiagnosticLevel, std::string_view message);

/// Installs `handler` (nullptr restores the default stderr handler).
/// Thread-safety: safe from any thread; takes effect for messages emitted afterwards.
void SetDiagnosticHandler(DiagnosticHandler handler) noexcept;

/// Sets the minimum level delivered to the handler (default kWarn).
/// Thread-safety: safe from any thread.
void SetDiagnosticLevel(DiagnosticLevel level) noexcept;

/// True when a message at `level` would be delivered. Use it to skip building messages.
/// Allocation: none. Blocking: never (one relaxed atomic load).
bool IsDiagnosticEnabled(DiagnosticLevel level) noexcept;

/// Delivers `message` to the handler if `level` is enabled.
/// Thread-safety: safe from any thread. Blocking: whatever the handler does (default: one
/// fwrite to stderr).
void EmitDiagnostic(DiagnosticLevel level, std::string_view message) noexcept;

}  // namespace vllora::otel
