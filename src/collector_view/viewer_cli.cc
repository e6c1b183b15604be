#include "collector_view/viewer_cli.h"

#include <CLI/CLI.hpp>

namespace vllora::collector {

void AddViewerCommands(CLI::App& /*app*/) {}

}  // namespace vllora::collector
