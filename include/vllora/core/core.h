// vllora core: the instrumentation facade (standard library only).
//
//   callsite (macro) ──► Subscriber (the registry) ──► layers (fmt, OpenTelemetry, …)
//
// Spans and events carry a target (`app::runtime::execution`), a level and typed fields. The
// macros check one cached byte per callsite before doing anything else. Start with macros.h and
// span.h; async.h and context.h carry spans across coroutines and threads; the registry and its
// layers live in vllora/subscriber/.
#pragma once

#include "vllora/core/async.h"
#include "vllora/core/context.h"
#include "vllora/core/format.h"
#include "vllora/core/level.h"
#include "vllora/core/macros.h"
#include "vllora/core/metadata.h"
#include "vllora/core/span.h"
#include "vllora/core/subscriber.h"
#include "vllora/core/value.h"
