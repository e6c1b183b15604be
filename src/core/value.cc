#include "vllora/core/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace vllora {

void Value::AppendTo(std::string& out) const {
  char buf[64];
  switch (type_) {
    case Type::kNone:
      out += "<empty>";
      return;
    case Type::kString:
    case Type::kJson:
      out += str();
      return;
    case Type::kBool:
      out += b_ ? "true" : "false";
      return;
    case Type::kInt64: {
      auto r = std::to_chars(buf, buf + sizeof(buf), i_);
      out.append(buf, r.ptr);
      return;
    }
    case Type::kUint64: {
      auto r = std::to_chars(buf, buf + sizeof(buf), u_);
      out.append(buf, r.ptr);
      return;
    }
    case Type::kDouble: {
      if (std::isnan(d_)) {
        out += "NaN";
      } else if (std::isinf(d_)) {
        out += d_ > 0 ? "inf" : "-inf";
      } else {
        auto r = std::to_chars(buf, buf + sizeof(buf), d_);
        out.append(buf, r.ptr);
      }
      return;
    }
  }
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string Value::ToString() const {
  std::string out;
  AppendTo(out);
  return out;
}

}  // namespace vllora
