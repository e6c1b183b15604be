#include "vllora/core/format.h"

namespace vllora {

void FormatTo(std::string& out, std::string_view fmt, std::span<const Value> args) {
  size_t next_arg = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
        out.push_back('{');
        ++i;
        continue;
      }
      size_t close = fmt.find('}', i);
      if (close == std::string_view::npos) {  // unbalanced: keep the rest verbatim
        out.append(fmt.substr(i));
        return;
      }
      if (next_arg < args.size()) {
        args[next_arg++].AppendTo(out);
      } else {
        out.append(fmt.substr(i, close - i + 1));
      }
      i = close;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out.push_back('}');
      ++i;
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace vllora
