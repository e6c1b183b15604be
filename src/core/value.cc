#include "vllora/core/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "text/text.h"

namespace vllora {

void Value::Own(std::string_view s) noexcept {
  owned_ = false;
  sv_ = std::string_view();
  if (s.empty()) return;
  char* copy = new (std::nothrow) char[s.size()];
  if (copy == nullptr) return;  // out of memory: an empty value rather than an exception
  std::memcpy(copy, s.data(), s.size());
  sv_ = std::string_view(copy, s.size());
  owned_ = true;
}

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

void AppendJsonString(std::string& out, std::string_view s) { text::AppendJsonString(out, s); }

std::string Value::ToString() const {
  std::string out;
  AppendTo(out);
  return out;
}

}  // namespace vllora
