// The viewer's subcommands of `vllora-collector` (runs, threads, traces, show, ...). They read the
// collector's SQLite database directly (read-only; schema in docs/design/0004-collector.md), so
// the viewer works while `vllora-collector serve` writes. Private to the collector app.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace vllora::collector {

/// Registers the viewer's subcommands on the `vllora-collector` application.
void AddViewerCommands(CLI::App& app);

}  // namespace vllora::collector
