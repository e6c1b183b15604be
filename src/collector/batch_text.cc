#include "collector/batch_text.h"

#include "collector/otlp_mapping.h"
#include "text/text.h"

namespace vllora::collector::internal {

TextSlice BatchText::FallbackTenant(TextSlice resource_tenant) {
  if (resource_tenant.length > 0) return resource_tenant;
  if (!header_tenant_.empty()) {
    if (header_tenant_slice_.length < 0) {
      const size_t start = text_.size();
      text::AppendRepairedUtf8(text_, header_tenant_);
      header_tenant_slice_ = Since(start);
    }
    return header_tenant_slice_;
  }
  if (default_tenant_slice_.length < 0) default_tenant_slice_ = Put(kDefaultTenant);
  return default_tenant_slice_;
}

}  // namespace vllora::collector::internal
