// The fmt layer: human-readable log lines, like `tracing_subscriber::fmt` with targets, thread
// ids, file and line numbers.
//
//   2026-11-24T08:00:00.123456Z  INFO ThreadId(01) execution{execution_id=123}:run{tags=…}:
//       app::runtime::execution: main.cc:42: 1. Created run span key=value
//
// (one line). Colour only when the output is a terminal. Pair it with an EnvFilter.
#pragma once

#include <cstdio>
#include <memory>

#include "vllora/subscriber/layer.h"

namespace vllora {

struct FmtLayerOptions {
  std::FILE* out = stderr;                                        ///< not owned; one write per line
  enum class Ansi { kAuto, kAlways, kNever } ansi = Ansi::kAuto;  ///< kAuto: colour on a TTY
  bool with_target = true;
  bool with_thread_ids = true;
  bool with_file = true;
  bool with_line_number = true;
  bool with_span_fields = true;
  bool with_timestamp = true;
};

/// A layer writing one line per event. Blocking: writes synchronously to `out`.
std::shared_ptr<Layer> MakeFmtLayer(FmtLayerOptions options = {});

}  // namespace vllora
